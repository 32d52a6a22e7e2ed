"""Factories of incident management: the people an incident meets, incidents created as rows, and
incidents walked through the real services to any state (on hold, cancelled, closed, major included)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from incidents.choices import CancelReason, Channel, HoldReason, State
from incidents.models import Category, Incident, MajorIncidentReview
from incidents.services import incident_record_review, incident_report, incident_transition
from opscenter.core import roles
from opscenter.core.choices import TeamKind
from opscenter.core.models import Department, Team, User
from opscenter.core.tests.factories import DepartmentFactory, TeamFactory, UserFactory


def category(code: str = "software") -> Category:
    """One of the categories the migration creates (hardware, software, network, desktop, security, other)."""
    return Category.objects.get(code=code)


class IncidentFactory(factory.django.DjangoModelFactory):
    """A freshly reported incident written as a row (no timeline): for lists, filters and query counts.

    Use `incident_in_state` for an incident that must have gone through its transitions.
    """

    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"ERP login fails #{n}")
    description = "Users see a timeout on the ERP login page."
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=30))
    impact_scope = "Finance department"
    channel = Channel.PHONE
    caller_name = "Ms Chen (Finance)"
    created_by = factory.SubFactory(UserFactory)


@dataclass
class Crew:
    """The people and the team an incident meets on its way to closure."""

    department: Department
    team: Team
    duty: User
    engineer: User
    supervisor: User
    caller: User

    def actor(self, transition: str) -> User:
        """Who takes this transition on the main road."""
        if transition in ("classify", "assign", "reassign", "cancel"):
            return self.duty
        if transition in ("approve_report", "return_report", "declare_major"):
            return self.supervisor
        return self.engineer


def make_crew(*, department: Department | None = None, team: Team | None = None,
              supervisor: User | None = None) -> Crew:
    """A department with a caller, a duty officer, a system engineer in a system team, and a supervisor."""
    department = department or DepartmentFactory()
    team = team or TeamFactory(kind=TeamKind.SYSTEM)
    engineer = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    team.members.add(engineer)
    return Crew(
        department=department,
        team=team,
        duty=UserFactory(roles=[roles.DUTY_OFFICER]),
        engineer=engineer,
        supervisor=supervisor or UserFactory(roles=[roles.SUPERVISOR]),
        caller=UserFactory(roles=[roles.DEPARTMENT_USER], department=department),
    )


# The main road, in order: the state reached and the transition that reaches it.
MAIN_ROAD: list[tuple[str, str]] = [
    (State.CLASSIFIED, "classify"),
    (State.ASSIGNED, "assign"),
    (State.DIAGNOSING, "start_diagnosis"),
    (State.HANDLING, "start_handling"),
    (State.RECOVERING, "restore"),
    (State.RESOLVED, "confirm_recovery"),
    (State.UNDER_REVIEW, "submit_report"),
    (State.CLOSED, "approve_report"),
]
ROAD_STATES = [State.REPORTED, *(state for state, _name in MAIN_ROAD)]


def transition_data(crew: Crew, name: str, *, category_code: str = "software", impact: int = 2,
                    urgency: int = 2) -> tuple[dict[str, Any], str]:
    """Valid data and comment for each transition (a comment is the reason where one is required)."""
    if name == "classify":
        return {"category": category(category_code), "impact": impact, "urgency": urgency}, ""
    data: dict[str, Any] = {
        "assign": {"team": crew.team, "assignee": crew.engineer},
        "reassign": {"team": crew.team, "assignee": crew.engineer},
        "start_handling": {"cause": "RAID controller failed", "scope": "All ERP users"},
        "restore": {"measures": "Controller replaced, array rebuilt"},
        "confirm_recovery": {"function_ok": True, "function_note": "Login and orders work",
                             "performance_ok": True, "performance_note": "Response under 1 s",
                             "data_ok": True, "data_note": "20 orders checked", "resolution": "Controller replaced"},
        "submit_report": {"cause": "Ageing controller", "process": "Diagnosed and replaced",
                          "measures": "Added to the inspection checklist", "result": "Service restored"},
        "reclassify": {"impact": 1, "urgency": 1},
        "hold": {"reason": HoldReason.VENDOR},
        "cancel": {"reason": CancelReason.FALSE_ALARM},
    }.get(name, {})
    comment = {"reopen": "The fault is back", "return_report": "Say what the cause was",
               "reclassify": "Every site of the centre is down now"}.get(name, "")
    return dict(data), comment


REVIEW = {"held_on": "2026-01-15", "attendees": "Supervisor, system team", "causes": "Ageing controller",
          "lessons": "Monitor controller health", "preventive_measures": "Replace controllers older than 5 years",
          "owners": "System team lead"}


def record_review(incident: Incident, user: User) -> MajorIncidentReview:
    return incident_record_review(incident, user=user, data={**REVIEW, "held_on": timezone.localdate()})


def report(crew: Crew, **fields: Any) -> Incident:
    """A fault reported by phone by the duty officer for the crew's caller."""
    data = {"title": "ERP login fails", "description": "Users see a timeout on the ERP login page.",
            "occurred_at": timezone.now() - timedelta(minutes=20), "impact_scope": "Finance department",
            "channel": Channel.PHONE, "caller": crew.caller, **fields}
    return incident_report(recorder=crew.duty, data=data)


def walk(incident: Incident, crew: Crew, to: str, **options: Any) -> Incident:
    """Take the main road from where the incident is to `to`."""
    names = [name for _state, name in MAIN_ROAD]
    start = ROAD_STATES.index(incident.state)
    for name in names[start:ROAD_STATES.index(to)]:
        data, comment = transition_data(crew, name, **options)
        incident = incident_transition(incident, name, user=crew.actor(name), comment=comment, data=data)
    assert incident.state == to, (incident.state, to)
    return incident


def incident_in_state(state: str, *, crew: Crew | None = None, major: bool = False, reviewed: bool = False,
                      held_from: str = State.HANDLING, cancelled_from: str = State.CLASSIFIED,
                      category_code: str = "software", impact: int = 2, urgency: int = 2,
                      **fields: Any) -> Incident:
    """An incident reported and moved through the real transitions to `state`.

    `major` declares it a major incident right after reporting; `reviewed` records its review meeting
    (done before approval when walking to closed). On hold is reached from `held_from`, cancelled from
    `cancelled_from`. `fields` override the report.
    """
    crew = crew or make_crew()
    options = {"category_code": category_code, "impact": impact, "urgency": urgency}
    incident = report(crew, **fields)
    if major:
        incident = incident_transition(incident, "declare_major", user=crew.supervisor)
    if state == State.ON_HOLD:
        incident = walk(incident, crew, held_from, **options)
        data, _comment = transition_data(crew, "hold")
        incident = incident_transition(incident, "hold", user=crew.duty, data=data)
    elif state == State.CANCELLED:
        incident = walk(incident, crew, cancelled_from, **options)
        data, _comment = transition_data(crew, "cancel")
        incident = incident_transition(incident, "cancel", user=crew.duty, data=data)
    elif state == State.CLOSED:
        incident = walk(incident, crew, State.UNDER_REVIEW, **options)
        if major:
            record_review(incident, crew.supervisor)
        incident = walk(incident, crew, State.CLOSED, **options)
    else:
        incident = walk(incident, crew, state, **options)
        if major and reviewed:
            record_review(incident, crew.supervisor)
    return Incident.objects.get(pk=incident.pk)


def incident_row(state: str, *, crew: Crew, major: bool = False, **fields: Any) -> Incident:
    """An incident written directly as a row in `state`, with the fields its walk would have set but no
    timeline: fast, for tests about what happens next rather than how it got there."""
    now = timezone.now()
    reached = State.HANDLING if state == State.ON_HOLD else State.CLASSIFIED if state == State.CANCELLED else state
    step = ROAD_STATES.index(reached)

    def passed(milestone: str) -> bool:
        return step >= ROAD_STATES.index(milestone)

    values: dict[str, Any] = {"state": state, "created_by": crew.duty, "caller": crew.caller,
                              "caller_name": str(crew.caller), "department": crew.department}
    if passed(State.CLASSIFIED):
        values |= {"category": category(), "impact": 2, "urgency": 2, "priority": "P3", "classified_at": now}
    if passed(State.ASSIGNED):
        values |= {"team": crew.team, "assignee": crew.engineer, "assigned_at": now}
    if passed(State.DIAGNOSING):
        values["first_response_at"] = now
    for milestone, name in ((State.HANDLING, "start_handling"), (State.RECOVERING, "restore"),
                            (State.RESOLVED, "confirm_recovery"), (State.UNDER_REVIEW, "submit_report")):
        if passed(milestone):
            data, _comment = transition_data(crew, name)
            values |= {
                "start_handling": lambda d: {"diagnosis_cause": d["cause"], "diagnosis_scope": d["scope"]},
                "restore": lambda d: {"measures": d["measures"]},
                "confirm_recovery": lambda d: {
                    "test_function_note": d["function_note"], "test_performance_note": d["performance_note"],
                    "test_data_note": d["data_note"], "resolution": d["resolution"], "resolved_at": now,
                    "resolved_by": crew.engineer},
                "submit_report": lambda d: {"report_cause": d["cause"], "report_process": d["process"],
                                            "report_measures": d["measures"], "report_result": d["result"],
                                            "report_submitted_at": now},
            }[name](data)
    if state == State.CLOSED:
        values["closed_at"] = now
    if state == State.ON_HOLD:
        values |= {"held_from": State.HANDLING, "hold_reason": HoldReason.VENDOR}
    if state == State.CANCELLED:
        values["cancel_reason"] = CancelReason.FALSE_ALARM
    if major:
        values |= {"is_major": True, "major_declared_at": now}
    return IncidentFactory(**(values | fields))
