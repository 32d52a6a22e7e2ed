"""The kernel's generated tests for incidents: API answers by role, visibility, the transition matrix through the
API (written from the policy, DESIGN §4 "Incident", not read from the model) and pinned query counts."""

from dataclasses import dataclass
from typing import Any

from incidents.choices import State
from incidents.models import Incident
from incidents.tests.factories import Crew, incident_in_state, incident_row, make_crew, transition_data
from incidents.tests.test_api import DETAIL_QUERIES, LIST_QUERIES
from opscenter.core import roles
from opscenter.core.choices import TeamKind
from opscenter.core.models import ConfigurationItem, Service
from opscenter.core.testing import SAME, ProcessAppTests, rule
from opscenter.core.tests.factories import (
    ConfigurationItemFactory,
    DepartmentFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

WORKING = {State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING}
OPEN = {State.REPORTED, *WORKING, State.ON_HOLD}
BEFORE_HANDLING = {State.REPORTED, State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING}
# An engineer is the incident's assignee once it is assigned (the crew's engineer takes every incident made here).
ASSIGNED_STATES = {State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING, State.RESOLVED,
                   State.UNDER_REVIEW, State.CLOSED, State.ON_HOLD}

# Who a role is, in the policy's words.
SUPERVISOR, DUTY, ENGINEER, ASSIGNEE, CALLER = "supervisor", "duty officer", "engineer", "assignee", "caller"


# The list's and the detail's pins are test_api's. Its detail rows are written without SLA clocks; these are reported
# through the service and have theirs: the clocks' events are one query more (a calendar's working hours and
# exceptions are read once per process and version of the calendar, on the first request).
CLOCK_QUERIES = 1


@dataclass
class Context:
    crew: Crew
    service: Service
    ci: ConfigurationItem


class TestIncidentsGenerated(ProcessAppTests):
    model = Incident
    basename = "incident"
    states = list(State.values)
    # The crew's caller is a department user of the incidents' department: they read them all, as IT staff and
    # auditors do; a department user elsewhere sees none; a signed-in user with no role may not read incidents.
    readers = ["supervisor", "duty_officer", "assignee", "other_engineer", "caller", "auditor"]
    outsiders = ["other_department_user"]
    refused = ["no_role"]
    matrix = {
        "classify": rule({State.REPORTED}, State.CLASSIFIED, DUTY, ENGINEER, SUPERVISOR),
        "reclassify": rule(WORKING | {State.ON_HOLD}, SAME, DUTY, ENGINEER, SUPERVISOR),
        "assign": rule({State.CLASSIFIED}, State.ASSIGNED, DUTY, SUPERVISOR),
        "reassign": rule(WORKING - {State.CLASSIFIED}, SAME, DUTY, SUPERVISOR),
        "start_diagnosis": rule({State.ASSIGNED}, State.DIAGNOSING, ASSIGNEE),
        "start_handling": rule({State.DIAGNOSING}, State.HANDLING, ASSIGNEE),
        "restore": rule({State.HANDLING}, State.RECOVERING, ASSIGNEE),
        "confirm_recovery": rule({State.RECOVERING}, State.RESOLVED, ASSIGNEE),
        # The supervisor may also submit the report (the model's choice; the policy names the assignee).
        "submit_report": rule({State.RESOLVED}, State.UNDER_REVIEW, ASSIGNEE, SUPERVISOR),
        "approve_report": rule({State.UNDER_REVIEW}, State.CLOSED, SUPERVISOR),
        "return_report": rule({State.UNDER_REVIEW}, State.RESOLVED, SUPERVISOR),
        "hold": rule(WORKING, State.ON_HOLD, ASSIGNEE, DUTY, SUPERVISOR),
        "resume": rule({State.ON_HOLD}, State.HANDLING, ASSIGNEE, DUTY, SUPERVISOR),  # held from handling
        "cancel": rule(BEFORE_HANDLING, State.CANCELLED, DUTY, SUPERVISOR),
        "reopen": rule({State.RESOLVED, State.UNDER_REVIEW}, State.HANDLING, ASSIGNEE, DUTY, SUPERVISOR, CALLER),
        "declare_major": rule(OPEN, SAME, SUPERVISOR),
    }
    internal = ["resolve_with_parent"]
    matrix_roles = ["supervisor", "duty_officer", "assignee", "other_engineer", "caller", "auditor"]
    read_only = ["auditor"]  # auditors read; the API refuses them every write, whatever the incident's state
    list_queries = {"supervisor": LIST_QUERIES["supervisor"], "assignee": LIST_QUERIES["engineer"],
                    "caller": LIST_QUERIES["caller"]}
    detail_queries = {role: DETAIL_QUERIES[who] + CLOCK_QUERIES
                      for role, who in (("supervisor", "supervisor"), ("assignee", "engineer"), ("caller", "caller"))}
    query_states = [State.REPORTED, State.HANDLING, State.UNDER_REVIEW]

    def make_context(self) -> Context:
        service = ServiceFactory()
        ci = ConfigurationItemFactory()
        ci.services.add(service)
        return Context(make_crew(department=DepartmentFactory(code="finance", name="Finance")), service, ci)

    def make_user(self, role: str, context: Context) -> Any:
        crew = context.crew
        if role == "other_engineer":
            other = UserFactory(roles=[roles.NETWORK_ENGINEER])
            TeamFactory(kind=TeamKind.NETWORK).members.add(other)
            return other
        return {
            "supervisor": lambda: crew.supervisor,
            "duty_officer": lambda: crew.duty,
            "assignee": lambda: crew.engineer,
            "caller": lambda: crew.caller,
            "auditor": lambda: UserFactory(roles=[roles.AUDITOR]),
            "other_department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER],
                                                         department=DepartmentFactory(code="hr", name="HR")),
            "no_role": lambda: UserFactory(),
        }[role]()

    def make_row(self, state: str, context: Context) -> Incident:
        return incident_in_state(state, crew=context.crew, service=context.service,
                                 configuration_item=context.ci)

    def make_rows(self, count: int, context: Context) -> None:
        """Rows written directly (no timeline), with every relation a list row shows, in a spread of states."""
        spread = [State.REPORTED, State.ASSIGNED, State.HANDLING, State.ON_HOLD, State.UNDER_REVIEW, State.RESOLVED]
        for n in range(count):
            incident_row(spread[n % len(spread)], crew=context.crew, service=context.service,
                         configuration_item=context.ci)

    def policy_names(self, role: str, state: str) -> set[str]:
        return {
            "supervisor": {SUPERVISOR},
            "duty_officer": {DUTY},
            "assignee": {ENGINEER, ASSIGNEE} if state in ASSIGNED_STATES else {ENGINEER},
            "other_engineer": {ENGINEER},
            "caller": {CALLER},
            "auditor": set(),
        }[role]

    def transition_payload(self, name: str, context: Context) -> dict[str, Any]:
        data, comment = transition_data(context.crew, name)
        payload = {key: getattr(value, "pk", value) for key, value in data.items()} | {"comment": comment}
        if name == "classify":
            payload["category"] = data["category"].code
        if name == "resolve_with_parent":
            payload["resolution"] = "Resolved with its parent"
        return payload
