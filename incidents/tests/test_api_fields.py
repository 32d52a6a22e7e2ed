"""Serializer fields built once per class (the kernel's FieldsOnceMixin): the incident list row, the
detail and the report's input answer exactly what DRF's own per-instance fields answer."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from incidents.api.serializers import IncidentDetailSerializer, IncidentListSerializer, IncidentReportSerializer
from incidents.choices import State
from incidents.models import Incident
from incidents.tests.factories import incident_in_state, make_crew
from opscenter.core.api.serializers import FieldsOnceMixin

pytestmark = pytest.mark.django_db


def plain_get_fields(self):  # noqa: ANN001, ANN201
    return super(FieldsOnceMixin, self).get_fields()


def plain_to_representation(self, instance):  # noqa: ANN001, ANN201
    return super(FieldsOnceMixin, self).to_representation(instance)


def both(monkeypatch, build):  # noqa: ANN001, ANN201
    """What `build()` gives with the fields built once, then with DRF building them for each instance, at one
    instant (the SLA clocks' elapsed times are worked out as they are written)."""
    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)
    once = build()
    with monkeypatch.context() as patch:
        patch.setattr(FieldsOnceMixin, "get_fields", plain_get_fields)
        patch.setattr(FieldsOnceMixin, "to_representation", plain_to_representation)
        plain = build()
    return once, plain


def context_for(user):  # noqa: ANN001, ANN201
    request = Request(RequestFactory().get("/api/v1/incidents/"))
    request.user = user
    return {"request": request}


def test_rows_and_details_are_drfs_own(monkeypatch) -> None:  # noqa: ANN001
    crew = make_crew()
    for state in (State.REPORTED, State.HANDLING, State.CLOSED, State.ON_HOLD, State.CANCELLED):
        incident_in_state(state, crew=crew, major=state == State.HANDLING)
    rows = Incident.objects.visible_to(crew.supervisor).order_by("pk")

    def build(user):  # noqa: ANN001, ANN202
        context = context_for(user)
        return (IncidentListSerializer(rows, many=True, context=context).data,
                [IncidentDetailSerializer(row, context=context).data for row in rows])

    # Each reader sees their own transitions (a field written with the request's context).
    by_user = {}
    for user in (crew.supervisor, crew.engineer, crew.caller):
        once, plain = both(monkeypatch, lambda user=user: build(user))
        assert once == plain
        by_user[user.pk] = once
    once = by_user[crew.supervisor.pk]
    assert len(once[1]) == 5 and once[1][0]["state"] == State.REPORTED and "description" in once[1][0]
    assert once[1][0]["available_transitions"] != by_user[crew.caller.pk][1][0]["available_transitions"]


def test_the_reports_validation_is_drfs_own(monkeypatch) -> None:  # noqa: ANN001
    crew = make_crew()
    good = {"title": "ERP login fails", "description": "Timeout", "impact_scope": "Finance",
            "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(), "channel": "phone",
            "caller": crew.caller.pk}
    bad = {**good, "channel": "pigeon", "caller": 999999, "priority": "P1", "title": ""}
    for data in (good, bad):
        def build(data=data):  # noqa: ANN001, ANN202
            serializer = IncidentReportSerializer(data=data, context=context_for(crew.duty))
            return serializer.is_valid(), serializer.errors, dict(serializer.validated_data)

        once, plain = both(monkeypatch, build)
        assert once == plain
    assert once[0] is False and set(once[1]) == {"channel", "caller", "priority", "title"}


def test_instances_do_not_share_their_fields() -> None:
    first, second = IncidentReportSerializer(), IncidentReportSerializer()
    assert first.fields["caller"] is not second.fields["caller"]
    first.fields["caller"].queryset = first.fields["caller"].queryset.none()
    assert second.fields["caller"].queryset.model is first.fields["caller"].queryset.model
    assert second.fields["caller"].queryset.query.is_empty() is False
