"""The kernel's generated tests for problems: API answers by role, visibility, the transition matrix through the
API (written from the policy, DESIGN §4 "Problem" and 問題管理流程, not read from the model) and pinned query
counts. The conditions' refusals and the services' side effects have their own cases in test_transitions.py."""

from typing import Any

from opscenter.core import roles
from opscenter.core.testing import ProcessAppTests, rule
from opscenter.core.tests.factories import DepartmentFactory, UserFactory
from problems.choices import State
from problems.models import Problem
from problems.tests.factories import ProblemCrew, make_crew, problem_in_state

BEFORE_REVIEW = {State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING, State.VERIFYING}
# Who a role is, in the policy's words: the problem manager (問題管理負責人) and the supervisor manage problems; the
# engineer who owns a problem works it.
MANAGER, OWNER = "manager", "owner"

# Pinned: the token with its user; the user's own permissions, their groups' permissions, their roles; the count (up
# to 1,000); the page's problems with their joins; their actions (one query, which their transitions' conditions and
# the action counts read).
LIST_QUERIES = 7
# The token, the permissions and roles (3); the problem with its joins; the incidents the user may see (their teams'
# kinds first: security incidents are the security team's), its changes and its actions.
DETAIL_QUERIES = 9


class TestProblemsGenerated(ProcessAppTests):
    model = Problem
    basename = "problem"
    states = list(State.values)
    # IT staff and auditors read every problem; a department user (and a user with no role) may not read problems.
    readers = ["problem_manager", "supervisor", "owner", "other_engineer", "duty_officer", "auditor"]
    refused = ["department_user", "no_role"]
    matrix = {
        "investigate": rule({State.IDENTIFIED}, State.INVESTIGATING, OWNER, MANAGER),
        "analyze": rule({State.INVESTIGATING}, State.ANALYZING, OWNER, MANAGER),
        # The rows made here have their root cause and a planned action (analysing), every action done (solving),
        # their observation window over and report written (verifying): the conditions hold.
        "solve": rule({State.ANALYZING}, State.SOLVING, OWNER, MANAGER),
        "verify": rule({State.SOLVING}, State.VERIFYING, OWNER, MANAGER),
        "reopen": rule({State.VERIFYING, State.UNDER_REVIEW}, State.SOLVING, OWNER, MANAGER),
        "submit_report": rule({State.VERIFYING}, State.UNDER_REVIEW, OWNER, MANAGER),
        # The owner submitted the report: a problem manager or supervisor approves or returns it.
        "approve_report": rule({State.UNDER_REVIEW}, State.CLOSED, MANAGER),
        "return_report": rule({State.UNDER_REVIEW}, State.VERIFYING, MANAGER),
        "cancel": rule(BEFORE_REVIEW, State.CANCELLED, MANAGER),
    }
    matrix_roles = ["problem_manager", "supervisor", "owner", "other_engineer", "duty_officer", "auditor"]
    # Auditors and duty officers read problems; the API refuses them every write, whatever the problem's state.
    read_only = ["auditor", "duty_officer"]
    list_queries = {"problem_manager": LIST_QUERIES, "owner": LIST_QUERIES}
    detail_queries = {"problem_manager": DETAIL_QUERIES, "owner": DETAIL_QUERIES}
    query_states = [State.IDENTIFIED, State.SOLVING, State.UNDER_REVIEW]

    def make_context(self) -> ProblemCrew:
        return make_crew()

    def make_user(self, role: str, context: ProblemCrew) -> Any:
        return {
            "problem_manager": lambda: context.manager,
            "supervisor": lambda: context.supervisor,
            "owner": lambda: context.engineer,
            "other_engineer": lambda: context.other_engineer,
            "duty_officer": lambda: context.duty,
            "auditor": lambda: UserFactory(roles=[roles.AUDITOR]),
            "department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory()),
            "no_role": lambda: UserFactory(),
        }[role]()

    def make_row(self, state: str, context: ProblemCrew) -> Problem:
        return problem_in_state(state, context)

    def make_rows(self, count: int, context: ProblemCrew) -> None:
        spread = [State.IDENTIFIED, State.ANALYZING, State.SOLVING, State.VERIFYING]
        for n in range(count):
            problem_in_state(spread[n % len(spread)], context)

    def policy_names(self, role: str, state: str) -> set[str]:
        return {"problem_manager": {MANAGER}, "supervisor": {MANAGER}, "owner": {OWNER}}.get(role, set())

    def transition_payload(self, name: str, context: ProblemCrew) -> dict[str, Any]:
        return {"comment": "Reason given."}
