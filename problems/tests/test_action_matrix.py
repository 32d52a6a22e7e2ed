"""The action item's state machine as the policy states it (措施、實施步驟、責任人和時間節點; DESIGN §4 "Problem"):
every state × every transition × every role, through the service every page, API and admin uses, allowed (the
state the policy names, one log row naming who) or refused (403 not this person's, 409 not from this state or the
plan no longer worked, with the rule's reason), a refusal changing nothing; what each person is offered agrees."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from opscenter.core import roles
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.testing import matrix
from opscenter.core.testing.matrix import class_transaction
from opscenter.core.tests.factories import UserFactory
from opscenter.core.workflow import transition_names
from problems.choices import ActionState, State
from problems.models import ActionItem
from problems.services import action_add, action_transition, problem_transition
from problems.tests.factories import make_crew, problem_in_state

pytestmark = pytest.mark.django_db

OPEN, IN_PROGRESS, DONE, DROPPED = ActionState.OPEN, ActionState.IN_PROGRESS, ActionState.DONE, ActionState.DROPPED

# --- The matrix, written from the policy, not read from the model ----------------------------------------------

# Who moves an action: its owner, the problem's owner, a problem manager or a supervisor start it and mark it done;
# only a problem manager or a supervisor drops it (with the reason). Auditors read only.
WORKERS = {"action_owner", "problem_owner", "problem_manager", "supervisor"}
POLICY = {
    "start": ({OPEN}, IN_PROGRESS, WORKERS),
    "complete": ({OPEN, IN_PROGRESS}, DONE, WORKERS),
    "drop": ({OPEN, IN_PROGRESS}, DROPPED, {"problem_manager", "supervisor"}),
}
ROLES = ["action_owner", "problem_owner", "problem_manager", "supervisor", "engineer", "duty_officer", "auditor"]
PLAN_CLOSED = "Actions are worked while the problem is analysed or solved."


@dataclass(frozen=True)
class Situation:
    key: str
    state: str
    plan_open: bool = True  # the problem is analysed or solved


SITUATIONS = [
    Situation("open", OPEN),
    Situation("in_progress", IN_PROGRESS),
    Situation("done", DONE),
    Situation("dropped", DROPPED),
    Situation("open_problem_cancelled", OPEN, plan_open=False),
]


def expected(situation: Situation, name: str, role: str) -> tuple[int, str]:
    """(HTTP status, state reached or error code) the policy gives."""
    sources, target, who = POLICY[name]
    if role == "auditor":
        return 403, "permission_denied"  # read-only everywhere, before anything else
    if situation.state not in sources:
        return 409, "invalid_state"
    if role not in who:  # the owner's rule names itself
        return 403, "permission_denied" if name == "drop" else "not_the_owner"
    if not situation.plan_open:
        return 409, "condition_failed"
    return 200, target


def test_the_policy_covers_every_transition() -> None:
    assert sorted(transition_names(ActionItem)) == sorted(POLICY)


@dataclass
class World:
    users: dict[str, Any]
    actions: dict[str, int]


def build(situation: Situation, crew: Any, action_owner: Any) -> ActionItem:
    """A problem owned by the crew's engineer, being solved, with one action of another engineer walked through the
    service to the situation."""
    problem = problem_in_state(State.ANALYZING, crew, title=f"Problem ({situation.key})")
    action = action_add(problem, user=crew.manager, data={"measure": "Split the connection pool",
                                                          "owner": action_owner})
    if situation.state == IN_PROGRESS:
        action = action_transition(action, "start", user=action_owner)
    elif situation.state == DONE:
        action = action_transition(action, "complete", user=action_owner)
    elif situation.state == DROPPED:
        action = action_transition(action, "drop", user=crew.manager, comment="Not needed.")
    if not situation.plan_open:
        problem_transition(problem, "cancel", user=crew.manager, comment="A duplicate of another problem.")
    return action


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """Built once for the class (opscenter.core.testing.matrix): every case runs in a savepoint inside it."""
    with class_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            crew = make_crew()
            action_owner = UserFactory(roles=[roles.NETWORK_ENGINEER])
            users = {"action_owner": action_owner, "problem_owner": crew.engineer, "problem_manager": crew.manager,
                     "supervisor": crew.supervisor, "engineer": crew.other_engineer, "duty_officer": crew.duty,
                     "auditor": UserFactory(roles=[roles.AUDITOR])}
            actions = {s.key: build(s, crew, action_owner).pk for s in SITUATIONS}
            for situation in SITUATIONS:
                assert ActionItem.objects.get(pk=actions[situation.key]).state == situation.state, situation.key
        yield World(users, actions)


def attempt(world: World, situation: Situation, name: str, role: str) -> str | None:
    """What differs from the policy when this person takes the transition, or None (the auditor's refusal is the
    service's, before the model's rules: nothing to compare with what is offered)."""
    action = ActionItem.objects.select_related("problem").get(pk=world.actions[situation.key])
    user = world.users[role]
    wrong = matrix.attempt(action, name, user, expected(situation, name, role), reason=PLAN_CLOSED,
                           offered_check=role != "auditor",
                           act=lambda: action_transition(action, name, user=user,
                                                         comment="Because." if name == "drop" else ""))
    return wrong and f"{role}: {wrong}"


CASES = [(situation, name) for situation in SITUATIONS for name in sorted(POLICY)]


class TestMatrix:
    """Each case runs in a savepoint rolled back afterwards; the row is read fresh every time."""

    @pytest.mark.parametrize(("situation", "name"), CASES, ids=[f"{s.key}-{n}" for s, n in CASES])
    def test_transition_by_every_role(self, world: World, situation: Situation, name: str) -> None:
        wrong = []
        for role in ROLES:
            with transaction.atomic():
                wrong.append(attempt(world, situation, name, role))
                transaction.set_rollback(True)
        assert [w for w in wrong if w] == []

    def test_dropping_needs_the_reason(self, world: World) -> None:
        action = ActionItem.objects.get(pk=world.actions["open"])
        with transaction.atomic():
            with pytest.raises(OpsCenterError) as refused:
                action_transition(action, "drop", user=world.users["problem_manager"])
            transaction.set_rollback(True)
        assert (refused.value.status_code, list(refused.value.detail)) == (400, ["comment"])
