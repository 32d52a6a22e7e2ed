"""The assignment sweep: each overdue incident is announced once, however often or late it runs."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from incidents.choices import State
from incidents.models import Incident
from incidents.services import incident_announce_assignment_overdue, incident_transition
from incidents.tasks import sweep_incident_assignment
from incidents.tests.scenarios import Cast, make_cast, make_incident, step_data
from opscenter.core.choices import Channel
from opscenter.core.models import Notification

pytestmark = pytest.mark.django_db
EVENT = "incident.assignment_overdue"


@pytest.fixture
def cast(make_user: Any) -> Cast:
    return make_cast(make_user)


def overdue(cast: Cast, *, by: timedelta, title: str = "3F 印表機卡紙") -> Incident:
    """A classified P4 incident whose assign-by time passed `by` ago."""
    incident = make_incident(cast, state=State.CLASSIFIED, impact=3, urgency=3, title=title)
    Incident.objects.filter(pk=incident.pk).update(assign_due_at=timezone.now() - by)
    return incident


def announced(incident: Incident) -> set[tuple[str, str]]:
    return {(n.recipient.username, n.channel) for n in Notification.objects.filter(
        event=EVENT, payload__id=incident.pk).select_related("recipient")}


def test_two_sweeps_announce_an_overdue_incident_once(cast: Cast) -> None:
    incident = overdue(cast, by=timedelta(minutes=1))
    assert sweep_incident_assignment() == 1
    assert sweep_incident_assignment() == 0
    expected = {(user.username, channel) for user in (cast.duty, cast.supervisor)
                for channel in (Channel.IN_APP, Channel.EMAIL)}
    assert announced(incident) == expected
    assert Notification.objects.filter(event=EVENT).count() == 4
    incident.refresh_from_db()
    assert incident.assign_overdue_notified_at is not None


def test_a_late_sweep_after_downtime_announces_each_once(cast: Cast) -> None:
    """Beat was down for hours: the first sweep back announces everything missed, once each."""
    incidents = [overdue(cast, by=timedelta(hours=hours), title=f"VPN 連線中斷 #{hours}") for hours in (1, 5, 9)]
    assert incident_announce_assignment_overdue(now=timezone.now() + timedelta(hours=3)) == 3
    for _tick in range(3):  # the missed minutes catch up
        assert sweep_incident_assignment() == 0
    assert all(len(announced(incident)) == 4 for incident in incidents)


def test_a_sweep_larger_than_a_batch_takes_every_incident_once(cast: Cast, monkeypatch: Any) -> None:
    monkeypatch.setattr("incidents.services.SWEEP_BATCH", 2)
    for n in range(5):
        overdue(cast, by=timedelta(minutes=n + 1), title=f"郵件收發延遲 #{n}")
    assert sweep_incident_assignment() == 5
    assert sweep_incident_assignment() == 0
    assert Notification.objects.filter(event=EVENT).count() == 5 * 4


def test_not_due_assigned_or_held_incidents_are_left_alone(cast: Cast) -> None:
    not_due = make_incident(cast, state=State.CLASSIFIED, impact=3, urgency=3)  # due in 4 hours
    assigned = overdue(cast, by=timedelta(minutes=5), title="已派工")
    user, data = step_data(cast, "assign")
    incident_transition(assigned, "assign", user=user, data=data)
    held = overdue(cast, by=timedelta(minutes=5), title="等待用戶")
    incident_transition(held, "hold", user=cast.duty, data={"reason": "caller"})
    assert not_due.assign_due_at > timezone.now()
    assert sweep_incident_assignment() == 0
    assert not Notification.objects.filter(event=EVENT).exists()


def test_the_sweep_runs_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-incident-assignment"]
    assert entry["task"] == sweep_incident_assignment.name == "incidents.tasks.sweep_incident_assignment"
    assert entry["schedule"].minute == set(range(60))
