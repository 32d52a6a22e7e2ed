"""The demo incidents: every state over the last 90 days, real timelines, loaded once."""

import io
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Min
from django.utils import timezone

from incidents import demo
from incidents.choices import State
from incidents.models import Category, Incident, MajorIncidentReview
from opscenter.core.choices import DeliveryStatus
from opscenter.core.demo import seed_organisation
from opscenter.core.models import Notification, TransitionLog

pytestmark = pytest.mark.django_db


def test_demo_incidents_cover_every_state_with_timelines_and_load_once() -> None:
    seed_organisation("pw")
    out = io.StringIO()
    demo.seed(stdout=out)
    count = Incident.objects.count()
    assert 140 <= count <= 170, out.getvalue()
    assert set(Incident.objects.values_list("state", flat=True)) == set(State.values)
    assert Incident.objects.filter(priority__in=["P1", "P2"]).count() >= 5
    now = timezone.now()
    assert Incident.objects.aggregate(first=Min("created_at"))["first"] < now - timedelta(days=60)
    assert not Incident.objects.filter(created_at__gt=now).exists()

    assert MajorIncidentReview.objects.filter(incident__is_major=True).count() >= 1
    assert Incident.objects.filter(is_major=True, state=State.CLOSED, reviews__isnull=False).exists()
    parent = Incident.objects.annotate(n=Count("children")).filter(n__gte=2).get()
    assert set(parent.children.values_list("state", flat=True)) == {State.RESOLVED}
    assert Incident.objects.filter(state=State.CANCELLED, duplicate_of__isnull=False).exists()
    assert Category.objects.get(code="network").default_team.code == "network"
    # A P3 grown into an outage was reclassified P1 with its reason, and is still being worked.
    grown = TransitionLog.objects.get(content_type=ContentType.objects.get_for_model(Incident),
                                      transition="reclassify")
    assert grown.comment and grown.data == {"impact": 1, "urgency": 1}
    assert Incident.objects.get(pk=grown.object_id).priority == "P1" and grown.target_state == State.HANDLING

    # Timelines were written as it happened: each log entry is at or after its incident's report.
    content_type = ContentType.objects.get_for_model(Incident)
    created = dict(Incident.objects.values_list("pk", "created_at"))
    entries = TransitionLog.objects.filter(content_type=content_type)
    assert entries.count() > count * 4
    assert all(created[e.object_id] <= e.created_at <= now for e in entries)
    closed = Incident.objects.filter(state=State.CLOSED)
    assert all(i.created_at <= i.first_response_at <= i.resolved_at <= i.closed_at for i in closed)

    # Nothing was left for the broker to deliver.
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()

    demo.seed(stdout=out)
    assert Incident.objects.count() == count
    assert "skipped" in out.getvalue()
