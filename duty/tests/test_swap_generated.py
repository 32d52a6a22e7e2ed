"""The kernel's generated tests for shift swaps: API answers by role, the transition matrix through the API
(written from the policy, DESIGN §4 "Duty": the colleague answers, a supervisor not part of the swap decides,
the requester withdraws; a supervisor may act for the requester and the colleague) and pinned query counts."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from duty.choices import SwapState
from duty.models import SwapRequest
from duty.tests.swap_scenarios import SwapWorld, swap_in_state, swap_world
from opscenter.core import roles
from opscenter.core.models import TransitionLog
from opscenter.core.testing import ProcessAppTests, rule
from opscenter.core.testing.process_app import assert_error
from opscenter.core.tests.factories import UserFactory

REQUESTER, COLLEAGUE, SUPERVISOR = "requester", "colleague", "supervisor"
OPEN = {SwapState.REQUESTED, SwapState.ACCEPTED}
MATRIX = {
    "accept": rule({SwapState.REQUESTED}, SwapState.ACCEPTED, COLLEAGUE, SUPERVISOR),
    "decline": rule({SwapState.REQUESTED}, SwapState.REJECTED, COLLEAGUE, SUPERVISOR),
    "approve": rule({SwapState.ACCEPTED}, SwapState.APPROVED, SUPERVISOR),
    "reject": rule(OPEN, SwapState.REJECTED, SUPERVISOR),
    "cancel": rule(OPEN, SwapState.CANCELLED, REQUESTER, SUPERVISOR),
}
# The token, roles, permissions (the user's and the roles'); the count; the rows with people and shifts.
LIST_QUERIES = 6
# The four of the caller above, the swap with its people and shifts, and its checks (twice: for `problems` and for
# the condition of `available_transitions`): the policy, the colleague's roles and teams, the shifts nearby.
DETAIL_QUERIES = 9
# The requester's transition (cancel) has no condition: the checks run once.
REQUESTER_DETAIL_QUERIES = 8


@dataclass
class Context:
    world: SwapWorld
    days: list[int] = field(default_factory=lambda: [2])

    def next_day(self) -> int:
        self.days[0] += 2
        return self.days[0]


class TestSwapsGenerated(ProcessAppTests):
    model = SwapRequest
    basename = "duty-swap"
    states = list(SwapState.values)
    readers = ["supervisor", "requester", "colleague", "auditor"]
    refused = ["department_user"]
    matrix = MATRIX
    internal = ["expire"]
    matrix_roles = ["requester", "colleague", "supervisor", "auditor"]
    read_only = ["auditor"]
    list_queries = {"supervisor": LIST_QUERIES, "requester": LIST_QUERIES}
    detail_queries = {"supervisor": DETAIL_QUERIES, "requester": REQUESTER_DETAIL_QUERIES}
    query_states = [SwapState.REQUESTED, SwapState.ACCEPTED]  # a decided swap is checked no more: see below

    def make_context(self) -> Context:
        return Context(swap_world())

    def make_user(self, role: str, context: Context) -> Any:
        world = context.world
        return {
            "supervisor": lambda: world.supervisor,
            "requester": lambda: world.a,
            "colleague": lambda: world.b,
            "auditor": lambda: UserFactory(roles=[roles.AUDITOR]),
            "department_user": lambda: UserFactory(roles=[roles.DEPARTMENT_USER]),
        }[role]()

    def make_row(self, state: str, context: Context) -> SwapRequest:
        world = context.world
        return swap_in_state(world, state, world.shift(world.a, context.next_day()), world.b)

    def policy_names(self, role: str, state: str) -> set[str]:
        return {"requester": {REQUESTER}, "colleague": {COLLEAGUE}, "supervisor": {SUPERVISOR}}.get(role, set())

    def refusal_code(self, state: str, name: str, role: str) -> str:
        if name in ("accept", "decline"):
            return "not_the_colleague"
        if name == "cancel":
            return "not_the_requester"
        return "permission_denied"

    def transition_payload(self, name: str, context: Context) -> dict[str, Any]:
        return {"comment": "Not during the migration week"} if name == "reject" else {}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["another_engineer", "department_user"])
def test_people_outside_a_swap_neither_see_nor_move_it(api_as: Any, who: str) -> None:
    """Another engineer does not see someone else's swap (404 everywhere); a department user may not read swaps
    at all (403)."""
    world = swap_world()
    user = world.c if who == "another_engineer" else UserFactory(roles=[roles.DEPARTMENT_USER])
    status, code = (404, "not_found") if who == "another_engineer" else (403, "permission_denied")
    client = api_as(user)
    swaps = {state: swap_in_state(world, state, world.shift(world.a, 3 + 2 * n), world.b)
             for n, state in enumerate(SwapState.values)}
    listed = client.get(reverse("duty-swap-list"))
    if who == "another_engineer":
        assert listed.status_code == 200 and listed.json()["results"] == []
    logs = TransitionLog.objects.count()
    for state, swap in swaps.items():
        assert_error(client.get(reverse("duty-swap-detail", args=[swap.pk])), status, code)
        for name in [*MATRIX, "expire"]:
            response = client.post(reverse("duty-swap-transition", args=[swap.pk, name]),
                                   {"comment": "x"}, format="json")
            assert_error(response, status, code)
        assert SwapRequest.objects.get(pk=swap.pk).state == state
    assert TransitionLog.objects.count() == logs


@pytest.mark.django_db
def test_a_decided_swap_s_detail_costs_the_caller_and_the_swap(api_as: Any, django_assert_num_queries: Any) -> None:
    world = swap_world()
    swap = swap_in_state(world, SwapState.APPROVED, world.shift(world.a, 3), world.b)
    client = api_as(world.supervisor)
    with django_assert_num_queries(5):
        response = client.get(reverse("duty-swap-detail", args=[swap.pk]))
    body = response.json()
    assert (body["state"], body["problems"], body["available_transitions"]) == ("approved", [], [])
    assert body["decided_by"]["username"] == world.supervisor.username
