"""Urgent pages in two waves when an installed app names who to page first (the kernel's paging extension point):
the first wave at once, the rest once when nobody took the incident up by its assign-by time; no app, no waves."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from incidents.models import Incident, UrgentPaging
from incidents.services import incident_escalate_paging, incident_transition
from incidents.tasks import sweep_urgent_paging
from incidents.tests.scenarios import Cast, make_cast, make_incident
from opscenter.core import extensions, roles
from opscenter.core.choices import Channel
from opscenter.core.models import Notification, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(make_user: Any) -> Cast:
    cast = make_cast(make_user)
    cast.colleague = make_user(roles.SYSTEM_ENGINEER)
    cast.team.members.add(cast.colleague)
    return cast


def paged(event: str) -> set[User]:
    return {n.recipient for n in Notification.objects.filter(event=event, channel=Channel.IN_APP)}


def test_a_named_first_wave_is_paged_first_and_the_rest_once(cast: Cast, monkeypatch: Any) -> None:
    asked = []

    def on_duty(team: Any, at: Any) -> list[User]:
        asked.append(team)
        return [cast.engineer]

    monkeypatch.setattr(extensions, "_paging_resolvers", [on_duty])
    incident: Incident = make_incident(cast, state="classified", impact=1, urgency=2)
    assert incident.priority == "P2" and asked == [cast.team]
    assert paged("incident.urgent") == {cast.engineer}
    due = UrgentPaging.objects.get(incident=incident).escalate_at
    assert due - UrgentPaging.objects.get(incident=incident).paged_at == timedelta(
        minutes=settings.INCIDENT_ASSIGN_WITHIN_MINUTES["P2"])
    assert sweep_urgent_paging() == 0
    assert incident_escalate_paging(now=due) == 1
    assert incident_escalate_paging(now=due) == 0
    assert paged("incident.urgent_escalated") == {cast.colleague, cast.supervisor}


def test_a_reclassified_incident_already_worked_on_is_not_escalated(cast: Cast, monkeypatch: Any) -> None:
    monkeypatch.setattr(extensions, "_paging_resolvers", [lambda team, at: [cast.engineer]])
    incident = make_incident(cast, state="diagnosing", impact=3, urgency=3)
    incident_transition(incident, "reclassify", user=cast.duty, comment="全公司受影響",
                        data={"impact": 1, "urgency": 1})
    paging = UrgentPaging.objects.get(incident=incident)
    assert paged("incident.urgent") == {cast.engineer}
    assert incident_escalate_paging(now=paging.escalate_at) == 0  # its assignee has taken it up
    paging.refresh_from_db()
    assert paging.settled_at is not None and not paging.escalated


def test_without_a_resolver_the_team_and_the_supervisors_are_paged_at_once(cast: Cast, monkeypatch: Any) -> None:
    monkeypatch.setattr(extensions, "_paging_resolvers", [])
    make_incident(cast, state="classified", impact=1, urgency=1)
    assert paged("incident.urgent") == {cast.engineer, cast.colleague, cast.supervisor}
    assert not UrgentPaging.objects.exists()


def test_the_paging_sweep_runs_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-urgent-paging"]
    assert entry["task"] == sweep_urgent_paging.name == "incidents.tasks.sweep_urgent_paging"
    assert entry["schedule"].minute == set(range(60))
