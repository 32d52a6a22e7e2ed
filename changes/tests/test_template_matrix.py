"""The standard-change template's state machine as the policy states it (標準變更: a pre-approved template; DESIGN §4
"Change"): every state × every transition × every role, through the kernel's transition service (the admin's buttons
take it), allowed (the state the policy names, one log row naming who) or refused (403 not this role's or the
proposer approving their own, 409 not from this state), a refusal changing nothing; what each person is offered
agrees."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from changes.choices import TemplateState
from changes.models import ChangeTemplate
from opscenter.core import roles
from opscenter.core.services import perform_transition
from opscenter.core.testing import matrix
from opscenter.core.testing.matrix import class_transaction
from opscenter.core.tests.factories import UserFactory
from opscenter.core.workflow import transition_names

pytestmark = pytest.mark.django_db

PROPOSED, APPROVED, RETIRED = TemplateState.PROPOSED, TemplateState.APPROVED, TemplateState.RETIRED

# --- The matrix, written from the policy, not read from the model ----------------------------------------------

# A supervisor approves a proposed template once, never the one they proposed (segregation of duties); a supervisor
# retires a proposed or approved one.
POLICY = {
    "approve": ({PROPOSED}, APPROVED, {"supervisor"}),
    "retire": ({PROPOSED, APPROVED}, RETIRED, {"supervisor", "proposing_supervisor"}),
}
ROLES = ["supervisor", "proposing_supervisor", "proposer", "change_approver", "cab_member", "duty_officer",
         "auditor", "department_user"]
STATES = [PROPOSED, APPROVED, RETIRED]


def expected(state: str, name: str, role: str) -> tuple[int, str]:
    """(HTTP status, state reached or error code) the policy gives."""
    sources, target, who = POLICY[name]
    if state not in sources:
        return 409, "invalid_state"
    if role == "proposing_supervisor" and name == "approve":
        return 403, "segregation_of_duties"
    if role not in who:
        return 403, "permission_denied"
    return 200, target


def test_the_policy_covers_every_transition() -> None:
    assert sorted(transition_names(ChangeTemplate)) == sorted(POLICY)


@dataclass
class World:
    users: dict[str, Any]
    templates: dict[tuple[str, str], int]  # (state, who proposed it: "proposer" or "proposing_supervisor")


def build(state: str, proposer: Any, supervisor: Any) -> ChangeTemplate:
    template = ChangeTemplate.objects.create(
        name=f"Replace a failed disk ({state}, {proposer.username})", category="hardware_replacement",
        description="Swap the failed disk and let the array rebuild.", purpose="Restore redundancy.",
        impact_scope="None; the array keeps serving.", risk_assessment="Low.", risk_mitigation="Hot spare.",
        steps=["Identify the disk", "Swap it", "Watch the rebuild"], rollback_plan="Reinsert the old disk.",
        contingency_plan="Call the hardware vendor.", proposed_by=proposer)
    if state in (APPROVED, RETIRED):
        template = perform_transition(template, "approve", user=supervisor)
    if state == RETIRED:
        template = perform_transition(template, "retire", user=supervisor)
    return template


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """Built once for the class (opscenter.core.testing.matrix): every case runs in a savepoint inside it."""
    with class_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            users = {"supervisor": UserFactory(roles=[roles.SUPERVISOR]),
                     "proposing_supervisor": UserFactory(roles=[roles.SUPERVISOR]),
                     "proposer": UserFactory(roles=[roles.SYSTEM_ENGINEER]),
                     "change_approver": UserFactory(roles=[roles.CHANGE_APPROVER]),
                     "cab_member": UserFactory(roles=[roles.CAB_MEMBER]),
                     "duty_officer": UserFactory(roles=[roles.DUTY_OFFICER]),
                     "auditor": UserFactory(roles=[roles.AUDITOR]),
                     "department_user": UserFactory(roles=[roles.DEPARTMENT_USER])}
            templates = {(state, by): build(state, users[by], users["supervisor"]).pk
                         for state in STATES for by in ("proposer", "proposing_supervisor")}
            for (state, _by), pk in templates.items():
                assert ChangeTemplate.objects.get(pk=pk).state == state
        yield World(users, templates)


def attempt(world: World, state: str, name: str, role: str) -> str | None:
    """What differs from the policy when this person takes the transition, or None. The template is the one the
    proposing supervisor proposed when they act (so that the segregation of duties is tested), else the engineer's."""
    by = "proposing_supervisor" if role == "proposing_supervisor" else "proposer"
    template = ChangeTemplate.objects.get(pk=world.templates[state, by])
    user = world.users[role]
    wrong = matrix.attempt(template, name, user, expected(state, name, role),
                           act=lambda: perform_transition(template, name, user=user))
    return wrong and f"{role}: {wrong}"


CASES = [(state, name) for state in STATES for name in sorted(POLICY)]


class TestMatrix:
    """Each case runs in a savepoint rolled back afterwards; the row is read fresh every time."""

    @pytest.mark.parametrize(("state", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
    def test_transition_by_every_role(self, world: World, state: str, name: str) -> None:
        wrong = []
        for role in ROLES:
            with transaction.atomic():
                wrong.append(attempt(world, state, name, role))
                transaction.set_rollback(True)
        assert [w for w in wrong if w] == []
