"""Incidents walked to a chosen state through the services, for tests that need one in that state."""

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from incidents.choices import State
from incidents.models import Category, Incident
from incidents.services import incident_report, incident_transition
from incidents.tests.factories import MAIN_ROAD, transition_data
from opscenter.core import roles
from opscenter.core.models import Team, User
from opscenter.core.tests.factories import TeamFactory


@dataclass
class Cast:
    """The people and the team an incident meets on its way."""

    duty: User
    engineer: User
    supervisor: User
    team: Team
    category: Category


def make_cast(make_user: Any, *, supervisor: User | None = None) -> Cast:
    """A duty officer, a system engineer in the hardware category's default team, a supervisor."""
    team = TeamFactory(code="system-test", name="System (test)")
    engineer = make_user(roles.SYSTEM_ENGINEER, email="engineer@example.com")
    team.members.add(engineer)
    category = Category.objects.get(code="hardware")
    category.default_team = team
    category.save()
    return Cast(
        duty=make_user(roles.DUTY_OFFICER, email="duty@example.com"),
        engineer=engineer,
        supervisor=supervisor or make_user(roles.SUPERVISOR, email="supervisor@example.com", is_staff=True),
        team=team,
        category=category,
    )


def step_data(cast: Cast, name: str, *, impact: int = 2, urgency: int = 2) -> tuple[User, dict[str, Any]]:
    """Who takes the transition on the main road, and the data it requires (the cast's own category)."""
    actor = {"classify": cast.duty, "assign": cast.duty, "approve_report": cast.supervisor}.get(name, cast.engineer)
    if name == "classify":
        return actor, {"category": cast.category, "impact": impact, "urgency": urgency}
    data, _comment = transition_data(cast, name)
    return actor, data


def make_incident(cast: Cast, *, state: str = State.REPORTED, impact: int = 2, urgency: int = 2,
                  title: str = "ERP 登入失敗", major: bool = False) -> Incident:
    """Report an incident and walk it along the main road to `state`; a `major` one is declared
    by the supervisor as soon as it is classified."""
    incident = incident_report(recorder=cast.duty, data={
        "title": title, "description": "用戶反映 ERP 登入頁面逾時", "occurred_at": timezone.now(),
        "impact_scope": "財務部全體", "channel": "phone", "caller_name": "財務部 陳小姐"})
    for reached, name in MAIN_ROAD:
        if incident.state == state:
            break
        user, data = step_data(cast, name, impact=impact, urgency=urgency)
        incident = incident_transition(incident, name, user=user, data=data)
        assert incident.state == reached, (name, incident.state)
        if major and not incident.is_major:
            incident = incident_transition(incident, "declare_major", user=cast.supervisor)
    assert incident.state == state, f"{state} is not on the main road"
    return Incident.objects.get(pk=incident.pk)
