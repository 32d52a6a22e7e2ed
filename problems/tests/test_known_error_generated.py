"""The kernel's generated tests for known errors: API answers by role, the transition matrix through the API (written
from the policy, 問題管理流程's known-error database: problem managers and supervisors publish and retire) and pinned
query counts. The conditions' refusals and the workaround notes have their own cases in test_known_errors.py."""

from typing import Any

from opscenter.core import roles
from opscenter.core.testing import ProcessAppTests, rule
from opscenter.core.tests.factories import DepartmentFactory, UserFactory
from problems import known_errors
from problems.choices import KnownErrorState, State
from problems.models import KnownError
from problems.tests.factories import ProblemCrew, make_crew, problem_in_state

MANAGER = "manager"

# The token with its user; the user's own permissions, their groups' permissions, their roles; the count (up to
# 1,000); the page's known errors with their joins.
LIST_QUERIES = 6
# The token, the permissions and roles (4); the known error with its joins.
DETAIL_QUERIES = 5


class TestKnownErrorsGenerated(ProcessAppTests):
    model = KnownError
    basename = "known-error"
    states = list(KnownErrorState.values)
    readers = ["problem_manager", "supervisor", "engineer", "duty_officer", "auditor"]
    refused = ["department_user", "no_role"]
    matrix = {
        "publish": rule({KnownErrorState.DRAFT}, KnownErrorState.PUBLISHED, MANAGER),
        "retire": rule({KnownErrorState.DRAFT, KnownErrorState.PUBLISHED}, KnownErrorState.RETIRED, MANAGER),
    }
    matrix_roles = ["problem_manager", "supervisor", "engineer", "duty_officer", "auditor"]
    read_only = ["auditor", "duty_officer"]
    list_queries = {"problem_manager": LIST_QUERIES, "engineer": LIST_QUERIES}
    detail_queries = {"problem_manager": DETAIL_QUERIES, "engineer": DETAIL_QUERIES}
    query_states = [KnownErrorState.DRAFT, KnownErrorState.PUBLISHED]

    def make_context(self) -> dict[str, Any]:
        crew = make_crew()
        return {"crew": crew, "problem": problem_in_state(State.ANALYZING, crew)}

    def make_user(self, role: str, context: dict[str, Any]) -> Any:
        crew: ProblemCrew = context["crew"]
        return {
            "problem_manager": lambda: crew.manager,
            "supervisor": lambda: crew.supervisor,
            "engineer": lambda: crew.engineer,
            "duty_officer": lambda: crew.duty,
            "auditor": lambda: UserFactory(roles=[roles.AUDITOR]),
            "department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory()),
            "no_role": lambda: UserFactory(),
        }[role]()

    def make_row(self, state: str, context: dict[str, Any]) -> KnownError:
        crew: ProblemCrew = context["crew"]
        known_error = known_errors.known_error_create(user=crew.engineer, data={
            "problem": context["problem"], "workaround": "Restart the ERP application service."})
        if state == KnownErrorState.PUBLISHED:
            known_error = known_errors.known_error_transition(known_error, "publish", user=crew.manager)
        elif state == KnownErrorState.RETIRED:
            known_error = known_errors.known_error_transition(known_error, "retire", user=crew.manager,
                                                              comment="The root cause is removed.")
        return known_error

    def transition_payload(self, name: str, context: Any) -> dict[str, Any]:
        return {"comment": "The root cause is removed."} if name == "retire" else {}

    def policy_names(self, role: str, state: str) -> set[str]:
        return {"problem_manager": {MANAGER}, "supervisor": {MANAGER}}.get(role, set())
