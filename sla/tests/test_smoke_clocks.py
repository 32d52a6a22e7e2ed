import pytest

from incidents.services import incident_report, incident_transition
from incidents.tests.factories import category
from sla.businesstime import Schedule
from sla.models import Clock
from sla.tests.factories import agreement, at, make_crew, office_calendar

pytestmark = pytest.mark.django_db


def test_friday_afternoon_report_is_due_monday_morning():
    calendar = office_calendar()
    assert Schedule.of(calendar).add(at("2026-11-27 16:30"), 3600) == at("2026-11-30 08:30")
    assert Schedule.of(calendar).seconds_between(at("2026-11-27 16:30"), at("2026-11-30 08:30")) == 3600


def test_clocks_start_and_follow_the_incident():
    crew = make_crew()
    agreement(crew.department, office_calendar(), targets={"P3": (60, 600)})
    incident = incident_report(recorder=crew.duty, data={
        "title": "t", "description": "d", "occurred_at": at("2026-11-27 16:00"), "impact_scope": "s",
        "channel": "phone", "caller": crew.caller})
    assert Clock.objects.filter(incident=incident).count() == 2
    incident = incident_transition(incident, "classify", user=crew.duty,
                                   data={"category": category(), "impact": 2, "urgency": 2})
    response = Clock.objects.get(incident=incident, kind="response")
    assert response.target_seconds == 3600 and response.due_at is not None
    assert response.thresholds.count() == 4
