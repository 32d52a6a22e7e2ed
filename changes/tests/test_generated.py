"""The kernel's generated tests for changes: API answers by role, visibility, the transition matrix through the API
(written from the policy, DESIGN §4 "Change", for normal low-risk changes; not read from the model) and pinned query
counts. The joint review, emergency and standard changes keep their own cases in test_transitions.py."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from changes.choices import RiskLevel, State
from changes.models import Change
from changes.tests.factories import ChangeCrew, change_in_state, make_crew
from changes.tests.test_api import DETAIL_QUERIES, LIST_QUERIES
from opscenter.core import roles
from opscenter.core.choices import Criticality
from opscenter.core.models import Department
from opscenter.core.testing import ProcessAppTests, rule
from opscenter.core.tests.factories import DepartmentFactory, ServiceFactory, UserFactory

BEFORE_IMPLEMENTATION = {State.DRAFT, State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED,
                         State.SCHEDULED}
# Who a role is, in the policy's words.
REQUESTER, SUPERVISOR, APPROVER, IMPLEMENTER = "requester", "supervisor", "approver", "implementer"


@dataclass
class Context:
    crew: ChangeCrew
    department: Department  # owns the crew's service: its users read the crew's changes
    made: int = 0  # changes made so far: each gets a window of its own


class TestChangesGenerated(ProcessAppTests):
    model = Change
    basename = "change"
    states = list(State.values)
    # IT staff and auditors read every change; a department user reads the changes on their department's services
    # (and their own requests); another department's user reads none; a user with no role may not read changes.
    readers = ["requester", "supervisor", "change_approver", "cab_member", "implementer", "other_engineer",
               "department_user", "auditor"]
    outsiders = ["other_department_user"]
    refused = ["no_role"]
    matrix = {
        "submit": rule({State.DRAFT}, State.SUBMITTED, REQUESTER),  # a normal change goes to assessment
        "start_assessment": rule({State.SUBMITTED}, State.ASSESSING, SUPERVISOR),
        "send_back": rule({State.SUBMITTED, State.ASSESSING}, State.DRAFT, SUPERVISOR),
        "assess": rule({State.ASSESSING}, State.AWAITING_APPROVAL, SUPERVISOR),
        # A low-risk change is approved by one change approver (no joint review).
        "approve": rule({State.AWAITING_APPROVAL}, State.APPROVED, APPROVER),
        # The supervisor refuses a change at assessment; the approver refuses it when asked to approve.
        "reject": [rule({State.ASSESSING}, State.REJECTED, SUPERVISOR),
                   rule({State.AWAITING_APPROVAL}, State.REJECTED, APPROVER)],
        "schedule": rule({State.APPROVED}, State.SCHEDULED, IMPLEMENTER),
        "start": rule({State.SCHEDULED}, State.IMPLEMENTING, IMPLEMENTER),
        "fail": rule({State.IMPLEMENTING, State.VERIFYING}, State.FAILED, IMPLEMENTER),
        "roll_back": rule({State.FAILED}, State.ROLLED_BACK, IMPLEMENTER, SUPERVISOR),
        "verify": rule({State.IMPLEMENTING}, State.VERIFYING, IMPLEMENTER),
        "complete": rule({State.VERIFYING}, State.COMPLETED, IMPLEMENTER),
        "close": rule({State.COMPLETED, State.ROLLED_BACK}, State.CLOSED, SUPERVISOR),
        "cancel": rule(BEFORE_IMPLEMENTATION, State.CANCELLED, REQUESTER, SUPERVISOR),
    }
    internal = ["require_reapproval"]
    matrix_roles = ["requester", "supervisor", "change_approver", "cab_member", "implementer", "other_engineer",
                    "department_user", "auditor"]
    read_only = ["auditor"]  # auditors read; the API refuses them every write, whatever the change's state
    # The rules of the policy that stop the rows made here (a week ahead, steps pending, never reviewed):
    blocked = {
        (State.SCHEDULED, "start"): "condition_failed",  # not before the planned window opens
        (State.IMPLEMENTING, "verify"): "condition_failed",  # every step done or skipped first
        (State.ROLLED_BACK, "close"): "condition_failed",  # a rolled-back change needs its review meeting
    }
    list_queries = dict.fromkeys(["supervisor", "implementer", "change_approver", "department_user"], LIST_QUERIES)
    detail_queries = {"supervisor": DETAIL_QUERIES}
    query_states = [State.DRAFT, State.AWAITING_APPROVAL, State.APPROVED, State.IMPLEMENTING, State.COMPLETED]

    def make_context(self) -> Context:
        finance = DepartmentFactory(code="finance", name="Finance")
        crew = make_crew(service=ServiceFactory(criticality=Criticality.LOW, owner_department=finance))
        return Context(crew, finance)

    def make_user(self, role: str, context: Context) -> Any:
        crew = context.crew
        return {
            "requester": lambda: crew.requester,
            "supervisor": lambda: crew.supervisor,
            "change_approver": lambda: crew.approver,
            "cab_member": lambda: crew.cab[0],
            "implementer": lambda: crew.implementer,
            "other_engineer": lambda: crew.engineer,
            "department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER], department=context.department),
            "auditor": lambda: UserFactory(roles=[roles.AUDITOR]),
            "other_department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER],
                                                         department=DepartmentFactory(code="hr", name="HR")),
            "no_role": lambda: UserFactory(),
        }[role]()

    def make_row(self, state: str, context: Context) -> Change:
        context.made += 1
        return change_in_state(state, context.crew, risk=RiskLevel.LOW, start_in=timedelta(days=7 + 2 * context.made))

    def make_rows(self, count: int, context: Context) -> None:
        """Changes spread over the states a list shows, each with its votes, steps and services."""
        spread = [State.DRAFT, State.SUBMITTED, State.AWAITING_APPROVAL, State.APPROVED, State.SCHEDULED,
                  State.IMPLEMENTING, State.COMPLETED]
        for n in range(count):
            self.make_row(spread[n % len(spread)], context)

    def policy_names(self, role: str, state: str) -> set[str]:
        """A CAB member decides only when named to a joint review, which a low-risk change does not have."""
        return {"requester": {REQUESTER}, "supervisor": {SUPERVISOR}, "change_approver": {APPROVER},
                "implementer": {IMPLEMENTER}}.get(role, set())

    def refusal_code(self, state: str, name: str, role: str) -> str:
        """The requester and the implementer never approve or refuse their own change (segregation of duties)."""
        if name in ("approve", "reject") and role in ("requester", "implementer"):
            return "segregation_of_duties"
        return "permission_denied"

    def transition_payload(self, name: str, context: Context) -> dict[str, Any]:
        data = {
            "assess": {"necessity": "Vendor security fix.", "feasibility": "Tested in staging.",
                       "assessment": "Proceed in the Saturday window."},
            "schedule": {"acknowledge_conflicts": True},
            "fail": {"what_happened": "The cluster did not come back."},
            "roll_back": {"rollback_log": "Snapshot restored at 02:10."},
            "verify": {"function": "Logins work.", "performance": "As before.", "data_integrity": "Checksums match."},
            "complete": {"report": "Done as planned."},
            "close": {"review": "Report reviewed."},
        }.get(name, {})
        return {**data, "comment": "Reason given."}
