"""Asking for a swap through the API (/api/v1/duty/swaps/): 201 with its state and transitions, and every refusal
as {"code", "detail"} with nothing written."""

from typing import Any

import pytest
from django.urls import reverse

from duty.choices import RosterState, SwapState
from duty.models import Roster, Shift, SwapRequest
from duty.tests.factories import policy
from duty.tests.swap_scenarios import SwapWorld, at, swap_in_state, swap_world
from opscenter.core import roles
from opscenter.core.testing.process_app import assert_error as assert_error_shape
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/duty/swaps/"


@pytest.fixture
def world() -> SwapWorld:
    return swap_world()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert_error_shape(response, status, code)
    return response.json()


def ask(api_as: Any, user: Any, **data: Any) -> Any:
    return api_as(user).post(URL, {"reason": "Family matters", **data}, format="json")


def test_the_address_is_under_duty() -> None:
    assert reverse("duty-swap-list") == URL


def test_the_holder_asks_and_may_then_only_cancel(api_as: Any, world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    response = ask(api_as, world.a, shift=shift.pk, colleague=world.b.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["kind"], body["requester"]["username"], body["colleague"]["username"]) == (
        "requested", "give", world.a.username, world.b.username)
    assert (body["shift"]["id"], body["problems"], body["available_transitions"]) == (shift.pk, [], ["cancel"])
    detail = api_as(world.b).get(f"{URL}{body['id']}/").json()
    assert sorted(detail["available_transitions"]) == ["accept", "decline"]


def test_a_part_and_a_trade_through_the_api(api_as: Any, world: SwapWorld) -> None:
    shift, theirs = world.shift(world.a, 3), world.shift(world.b, 5)
    part = ask(api_as, world.a, shift=shift.pk, colleague=world.c.pk, part_start=at(3, 8).isoformat(),
               part_end=at(3, 12).isoformat())
    assert part.status_code == 201, part.content
    traded = ask(api_as, world.a, shift=world.shift(world.a, 7).pk, colleague=world.b.pk, kind="trade",
                 counter_shift=theirs.pk)
    assert traded.status_code == 201, traded.content
    assert traded.json()["counter_shift"]["id"] == theirs.pk


def test_a_supervisor_asks_on_someone_s_behalf(api_as: Any, world: SwapWorld) -> None:
    response = ask(api_as, world.supervisor, shift=world.shift(world.a, 3).pk, colleague=world.b.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["requester"]["username"], body["created_by"]["username"]) == (world.a.username,
                                                                                 world.supervisor.username)


@pytest.mark.parametrize(("case", "status", "code", "field"), [
    ("oneself", 400, "invalid", "colleague"),
    ("part_outside", 400, "invalid", "part_end"),
    ("counter_not_theirs", 400, "invalid", "counter_shift"),
    ("no_reason", 400, "invalid", "reason"),
    ("state_given", 400, "invalid", "state"),
    ("unknown_shift", 400, "invalid", "shift"),
    ("too_late", 409, "condition_failed", None),
    ("not_qualified", 409, "condition_failed", None),
    ("draft_roster", 409, "condition_failed", None),
    ("not_your_shift", 403, "not_your_shift", None),
    ("auditor", 403, "permission_denied", None),
    ("department_user", 403, "permission_denied", None),
])
def test_refusals_say_why_and_write_nothing(api_as: Any, world: SwapWorld, case: str, status: int, code: str,
                                            field: str | None) -> None:
    shift = world.shift(world.a, 3)
    user, data = world.a, {"shift": shift.pk, "colleague": world.b.pk}
    if case == "oneself":
        data["colleague"] = world.a.pk
    elif case == "part_outside":
        data.update(part_start=at(3, 16).isoformat(), part_end=at(3, 23).isoformat())
    elif case == "counter_not_theirs":
        data.update(kind="trade", counter_shift=world.shift(world.c, 5).pk)
    elif case == "no_reason":
        data["reason"] = " "
    elif case == "state_given":
        data["state"] = "approved"
    elif case == "unknown_shift":
        data["shift"] = 10**9
    elif case == "too_late":
        policy(swap_lead_hours=24 * 5)
    elif case == "not_qualified":
        data["colleague"] = world.crew.duty.pk
    elif case == "draft_roster":
        Roster.objects.filter(pk=world.roster.pk).update(state=RosterState.DRAFT)
    elif case == "not_your_shift":
        user = world.c
    elif case == "auditor":
        user = UserFactory(roles=[roles.AUDITOR])
    elif case == "department_user":
        user = UserFactory(roles=[roles.DEPARTMENT_USER])
    response = ask(api_as, user, **data)
    body = assert_error(response, status, code)
    if field:
        assert field in body["detail"], body
    assert not SwapRequest.objects.exists()


def test_an_approval_no_longer_possible_is_refused_with_the_reason(api_as: Any, world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    Roster.objects.filter(pk=world.roster.pk).update(state=RosterState.DRAFT)
    detail = api_as(world.supervisor).get(f"{URL}{swap.pk}/").json()
    assert sorted(detail["available_transitions"]) == ["cancel", "reject"]  # approve: blocked
    assert any("not on a published roster" in problem for problem in detail["problems"])
    response = api_as(world.supervisor).post(f"{URL}{swap.pk}/transitions/approve/", {}, format="json")
    body = assert_error(response, 409, "condition_failed")
    assert "not on a published roster" in body["detail"]
    assert (SwapRequest.objects.get(pk=swap.pk).state, Shift.objects.get(pk=swap.shift_id).user) == (
        SwapState.ACCEPTED, world.a)


def test_a_rejection_without_its_reason_is_a_400_naming_the_comment(api_as: Any, world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    body = assert_error(api_as(world.supervisor).post(f"{URL}{swap.pk}/transitions/reject/", {}, format="json"),
                        400, "invalid")
    assert "comment" in body["detail"]


def test_the_timeline_names_who_approved(api_as: Any, world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.APPROVED, world.shift(world.a, 3), world.b)
    rows = api_as(world.a).get(f"{URL}{swap.pk}/timeline/").json()
    assert [(row["kind"], row["actor"]) for row in rows][-1] == ("transition", str(world.supervisor))
