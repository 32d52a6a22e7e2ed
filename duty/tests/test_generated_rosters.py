"""The kernel's generated tests for rosters: API answers by role, the transition matrix through the API (written
from the policy, DESIGN §4 "Duty": a supervisor publishes a roster whose findings are resolved or accepted,
withdraws it saying why, and accepts a draft's findings with a note) and pinned query counts that do not grow
with rows. Department users and people without a role read no roster (403)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from duty import rosters
from duty.choices import RosterState
from duty.models import Roster
from duty.tests.factories import DutyCrew, duty_crew, four_engineers, rotation_of
from opscenter.core import roles
from opscenter.core.testing import SAME, ProcessAppTests, rule
from opscenter.core.tests.factories import DepartmentFactory, UserFactory

SUPERVISOR = "supervisor"
ROSTER_LIST_QUERIES = 9
ROSTER_DETAIL_QUERIES = 8


@dataclass
class Context:
    crew: DutyCrew
    first: date
    made: int = 0


class TestRostersGenerated(ProcessAppTests):
    model = Roster
    basename = "duty-roster"
    states = list(RosterState.values)
    readers = ["supervisor", "engineer", "duty_officer", "auditor"]
    refused = ["department_user", "no_role"]
    matrix = {
        "publish": rule({RosterState.DRAFT}, RosterState.PUBLISHED, SUPERVISOR),
        "withdraw": rule({RosterState.PUBLISHED}, RosterState.DRAFT, SUPERVISOR),
        "accept_findings": rule({RosterState.DRAFT}, SAME, SUPERVISOR),
    }
    matrix_roles = ["supervisor", "engineer", "auditor"]
    read_only = ["engineer", "auditor"]  # the API's permissions refuse them every write
    # The draft made here is covered every minute: there is nothing to accept.
    blocked = {(RosterState.DRAFT, "accept_findings"): "condition_failed"}
    list_queries = dict.fromkeys(["supervisor", "engineer"], ROSTER_LIST_QUERIES)
    detail_queries = {"supervisor": ROSTER_DETAIL_QUERIES}
    query_states = list(RosterState.values)

    def make_context(self) -> Context:
        crew = duty_crew()
        first = date.today() + timedelta(days=30)
        rotation_of(crew, four_engineers(crew), starts_on=first)
        return Context(crew, first)

    def make_user(self, role: str, context: Context) -> Any:
        crew = context.crew
        return {
            "supervisor": lambda: crew.supervisor,
            "engineer": lambda: crew.engineers[0],
            "duty_officer": lambda: crew.duty,
            "auditor": lambda: UserFactory(roles=[roles.AUDITOR]),
            "department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory()),
            "no_role": lambda: UserFactory(),
        }[role]()

    def make_row(self, state: str, context: Context) -> Roster:
        """A covered four-day roster after the ones made before, published through the service when asked."""
        first = context.first + timedelta(days=4 * context.made)
        context.made += 1
        crew = context.crew
        roster = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=first,
                                         last_day=first + timedelta(days=3))
        if state == RosterState.PUBLISHED:
            roster = rosters.roster_transition(roster, "publish", user=crew.supervisor)
        return roster

    def transition_payload(self, name: str, context: Context) -> dict[str, Any]:
        return {"publish": {}, "withdraw": {"comment": "Two engineers are on training."},
                "accept_findings": {"note": "The supervisor covers the gaps."}}[name]
