"""The swap pages as people use them: the queues by role, asking for a swap from a shift (only qualified
colleagues offered), the detail's actions and refusals, the home-page panel, the admin's decision panel, and
pinned query counts that do not grow with the rows."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from duty.choices import RosterState, SwapState
from duty.models import Roster, Shift, SwapRequest
from duty.tests.factories import policy
from duty.tests.swap_scenarios import SwapWorld, at, give, swap_in_state, swap_world
from opscenter.core import roles
from opscenter.core.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/duty/swaps/"


@pytest.fixture
def world() -> SwapWorld:
    return swap_world()


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queues(response: Any) -> list[str]:
    return [name for name, _label in response.context["queues"]]


def test_the_queues_of_each_role(world: SwapWorld) -> None:
    waiting = give(world, world.shift(world.a, 3), world.b)
    to_approve = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 5), world.c)
    engineer = as_user(world.b).get(LIST)
    assert (engineer.status_code, queues(engineer), engineer.context["queue"]) == (200, ["waiting", "mine"], "waiting")
    assert [s.pk for s in engineer.context["page"]] == [waiting.pk]
    supervisor = as_user(world.supervisor).get(LIST)
    assert queues(supervisor) == ["waiting", "mine", "all"]
    assert [s.pk for s in supervisor.context["page"]] == [to_approve.pk]
    auditor = as_user(UserFactory(roles=[roles.AUDITOR])).get(LIST)
    assert queues(auditor) == ["all"] and {s.pk for s in auditor.context["page"]} == {waiting.pk, to_approve.pk}
    mine = as_user(world.a).get(LIST, {"queue": "mine"})
    assert {s.pk for s in mine.context["page"]} == {waiting.pk, to_approve.pk}
    assert as_user(UserFactory(roles=[roles.DEPARTMENT_USER])).get(LIST).status_code == 403
    assert as_user(world.c).get(LIST, {"queue": "all"}).context["queue"] == "waiting"  # not theirs to see all


def test_my_next_shifts_link_to_asking_for_a_swap(world: SwapWorld) -> None:
    soon, later = world.shift(world.a, 0, hour=23, hours=1), world.shift(world.a, 3)
    page = as_user(world.a).get(LIST)
    assert [s.pk for s in page.context["my_shifts"]] == [later.pk]  # the one within the lead time is not offered
    assert reverse("duty:swap-request", args=[later.pk]) in page.content.decode()
    assert soon.pk


def test_the_request_page_offers_only_qualified_colleagues_and_their_shifts(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    theirs, not_qualified = world.shift(world.b, 5), world.shift(world.crew.duty, 6)
    outsider = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    TeamFactory(code="net").members.add(outsider)
    page = as_user(world.a).get(reverse("duty:swap-request", args=[shift.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert set(form.fields["colleague"].queryset) == {world.b, world.c}
    assert list(form.fields["counter_shift"].queryset) == [theirs]
    assert not_qualified.pk


def test_asking_from_the_page_and_the_refusals_shown_there(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    url = reverse("duty:swap-request", args=[shift.pk])
    client = as_user(world.a)
    # A part outside the shift: the form says so on the field, nothing is written.
    outside = client.post(url, {"kind": "give", "colleague": world.b.pk, "reason": "Dentist",
                                "part_start": "2000-01-01T08:00", "part_end": "2000-01-01T09:00"})
    assert outside.status_code == 400 and "must lie within the shift" in outside.content.decode()
    policy(swap_lead_hours=24 * 7)
    late = client.post(url, {"kind": "give", "colleague": world.b.pk, "reason": "Dentist"})
    assert late.status_code == 409 and "at least 168 hours" in late.content.decode()
    assert not SwapRequest.objects.exists()
    policy(swap_lead_hours=24)
    local = at(3, 8).strftime("%Y-%m-%dT%H:%M")
    until = at(3, 12).strftime("%Y-%m-%dT%H:%M")
    done = client.post(url, {"kind": "give", "colleague": world.b.pk, "reason": "Dentist", "part_start": local,
                             "part_end": until})
    swap = SwapRequest.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("duty:swaprequest-detail", args=[swap.pk])
    assert (swap.part_start, swap.part_end) == (None, at(3, 12))  # read in the policy's time zone


def test_someone_else_s_shift_is_not_theirs_to_offer_but_a_supervisor_acts_for_them(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    url = reverse("duty:swap-request", args=[shift.pk])
    assert as_user(world.c).get(url).status_code == 403
    page = as_user(world.supervisor).get(url)
    assert page.status_code == 200 and page.context["on_behalf"]
    as_user(world.supervisor).post(url, {"kind": "give", "colleague": world.b.pk, "reason": "Sick leave"})
    swap = SwapRequest.objects.get()
    assert (swap.requester, swap.created_by) == (world.a, world.supervisor)
    detail = as_user(world.b).get(reverse("duty:swaprequest-detail", args=[swap.pk])).content.decode()
    assert "on their behalf" in detail


def test_the_detail_page_offers_the_actions_and_shows_refusals(world: SwapWorld) -> None:
    swap = give(world, world.shift(world.a, 3), world.b)
    url = reverse("duty:swaprequest-detail", args=[swap.pk])
    page = as_user(world.b).get(url)
    assert [a.transition.name for a in page.context["actions"]] == ["accept", "decline"]
    assert as_user(world.c).get(url).status_code == 404  # another engineer does not see it
    accepted = as_user(world.b).post(reverse("duty:swaprequest-transition", args=[swap.pk, "accept"]),
                                     {"accept-confirm": "on"})
    assert accepted.status_code == 302 and SwapRequest.objects.get(pk=swap.pk).state == SwapState.ACCEPTED
    Roster.objects.filter(pk=world.roster.pk).update(state=RosterState.DRAFT)
    page = as_user(world.supervisor).get(url)
    approve = next(a for a in page.context["actions"] if a.transition.name == "approve")
    assert not approve.transition.allowed and "not on a published roster" in approve.transition.reason
    assert "not on a published roster" in page.context["problems"][0]
    refused = as_user(world.supervisor).post(reverse("duty:swaprequest-transition", args=[swap.pk, "approve"]),
                                             {"approve-confirm": "on"})
    assert refused.status_code == 409 and "not on a published roster" in refused.content.decode()
    rejected = as_user(world.supervisor).post(reverse("duty:swaprequest-transition", args=[swap.pk, "reject"]),
                                              {"reject-comment": ""})
    assert rejected.status_code == 400
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.ACCEPTED


def test_approving_on_the_page_changes_the_roster_and_the_timeline_names_the_approver(world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    response = as_user(world.supervisor).post(
        reverse("duty:swaprequest-transition", args=[swap.pk, "approve"]), {"approve-confirm": "on"}, follow=True)
    assert Shift.objects.get(pk=swap.shift_id).user == world.b
    timeline = response.context["timeline"]
    assert (timeline[-1]["label"], timeline[-1]["actor"]) == ("Approve the swap", world.supervisor)


def test_the_home_page_panel_lists_the_swaps_waiting_for_me(world: SwapWorld) -> None:
    swap = give(world, world.shift(world.a, 3), world.b)
    home = as_user(world.b).get("/").content.decode()
    assert "panel-duty-swaps-waiting" in home and reverse("duty:swaprequest-detail", args=[swap.pk]) in home
    assert reverse("duty:swaprequest-detail", args=[swap.pk]) not in as_user(world.c).get("/").content.decode()


def test_the_admin_decision_panel_approves_through_the_service(world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    world.supervisor.is_staff = True
    world.supervisor.save()
    client = as_user(world.supervisor)
    page = client.get(reverse("admin:duty_swaprequest_change", args=[swap.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="decision-panel"' in body and 'id="decision-approve"' in body and 'id="decision-reject"' in body
    client.post(reverse("admin:duty_swaprequest_transition", args=[swap.pk, "reject"]), {"comment": ""})
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.ACCEPTED  # a rejection needs its reason
    client.post(reverse("admin:duty_swaprequest_transition", args=[swap.pk, "approve"]), {"comment": ""})
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.APPROVED
    assert Shift.objects.get(pk=swap.shift_id).user == world.b


# --- Pinned query counts ------------------------------------------------------------------------------------

# The signed-in user (session, user, roles, permissions, teams); the page's count and its rows with their people and
# shifts; the user's next shifts (the duty policy, its time zone included, comes from the cache).
LIST_PAGE_QUERIES = 8
# The same caller; the swap with its people and shifts; its checks for the facts (the colleague's roles and teams,
# the shifts nearby) and again for the approval's condition (the shifts nearby); the timeline (one view of its four
# kinds of record).
DETAIL_PAGE_QUERIES = 11


def count(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries.captured_queries)


def more_swaps(world: SwapWorld, days: list[int], n: int) -> None:
    for _ in range(n):
        days[0] += 2
        swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, days[0]), world.b)


@pytest.mark.parametrize(("page", "pinned"), [("list", LIST_PAGE_QUERIES), ("detail", DETAIL_PAGE_QUERIES)])
def test_pages_cost_the_same_whatever_the_rows(world: SwapWorld, page: str, pinned: int) -> None:
    days = [1]
    more_swaps(world, days, 1)
    swap = SwapRequest.objects.get()
    path = LIST + "?queue=all" if page == "list" else reverse("duty:swaprequest-detail", args=[swap.pk])
    client = as_user(world.supervisor)
    count(client, path)
    more_swaps(world, days, 3)
    few = count(client, path)
    more_swaps(world, days, 9)
    many = count(client, path)
    assert few == many == pinned, (few, many)
