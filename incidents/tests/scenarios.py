"""Incidents walked to a chosen state through the services, for tests that need one in that state."""

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from incidents.choices import State
from incidents.models import Category, Incident
from incidents.services import incident_report, incident_transition
from opscenter.core import roles
from opscenter.core.models import Team, User
from opscenter.core.tests.factories import TeamFactory

# The main road from classification to closure, in order.
MAIN_ROAD = [
    (State.CLASSIFIED, "classify"),
    (State.ASSIGNED, "assign"),
    (State.DIAGNOSING, "start_diagnosis"),
    (State.HANDLING, "start_handling"),
    (State.RECOVERING, "restore"),
    (State.RESOLVED, "confirm_recovery"),
    (State.UNDER_REVIEW, "submit_report"),
    (State.CLOSED, "approve_report"),
]


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
    """Who takes the transition on the main road, and the data it requires."""
    return {
        "classify": (cast.duty, {"category": cast.category, "impact": impact, "urgency": urgency}),
        "assign": (cast.duty, {"team": cast.team, "assignee": cast.engineer}),
        "start_diagnosis": (cast.engineer, {}),
        "start_handling": (cast.engineer, {"cause": "磁碟陣列控制器故障", "scope": "ERP 全部用戶"}),
        "restore": (cast.engineer, {"measures": "更換控制器並重建陣列"}),
        "confirm_recovery": (cast.engineer, {
            "function_ok": True, "function_note": "登入與下單正常",
            "performance_ok": True, "performance_note": "響應時間 < 1 秒",
            "data_ok": True, "data_note": "抽查 20 筆單據一致", "resolution": "控制器已更換"}),
        "submit_report": (cast.engineer, {"cause": "控制器老化", "process": "更換", "measures": "巡檢加項",
                                          "result": "恢復"}),
        "approve_report": (cast.supervisor, {}),
    }[name]


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
