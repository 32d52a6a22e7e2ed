"""Shift swaps (調班) through their services: give, part of a shift and trade applied to the roster on approval,
every refusal with its reason, expiry by the sweep, a supervisor acting for someone, and who is told what."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import translation

from duty.choices import RosterState, SwapKind, SwapState
from duty.models import DutyPolicy, Shift, ShiftReminder, SwapRequest
from duty.swaps import _coverage_problems, _nearby_shifts, swap_problems, swap_transition, swaps_expire
from duty.tasks import expire_shift_swaps
from duty.tests.factories import RosterFactory, policy
from duty.tests.swap_scenarios import SwapWorld, at, give, swap_in_state, swap_world, trade
from opscenter.core import roles
from opscenter.core.choices import Channel
from opscenter.core.exceptions import ConditionFailed, InvalidInput, InvalidState, TransitionForbidden
from opscenter.core.models import Notification, TransitionLog
from opscenter.core.notification_kinds import language_of, render
from opscenter.core.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> SwapWorld:
    return swap_world()


def rows_of(world: SwapWorld) -> list[tuple[str, Any, Any]]:
    """The roster's shifts as (person, start, end), in time order."""
    return [(s.user.username, s.start, s.end) for s in Shift.objects.filter(roster=world.roster)
            .select_related("user").order_by("start", "pk")]


def inbox(event: str) -> list[str]:
    return sorted(Notification.objects.filter(event=event, channel=Channel.IN_APP)
                  .values_list("recipient__username", flat=True))


def log_of(swap: SwapRequest) -> list[tuple[str, str, str | None]]:
    return [(log.transition, log.target_state, log.actor.username if log.actor else None)
            for log in TransitionLog.objects.filter(object_id=swap.pk, content_type__model="swaprequest")
            .order_by("pk")]


# --- The lifecycle ----------------------------------------------------------------------------------------


def test_a_whole_shift_given_changes_hands_on_approval_and_everyone_is_told(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    swap = give(world, shift, world.b)
    assert (swap.state, swap.requester, swap.created_by, swap.expires_at) == (
        SwapState.REQUESTED, world.a, world.a, shift.start)
    assert inbox("duty.swap_requested") == [world.b.username]

    swap = swap_transition(swap, "accept", user=world.b)
    assert inbox("duty.swap_accepted") == [world.a.username]
    assert inbox("duty.swap_to_approve") == [world.supervisor.username]
    assert Shift.objects.get(pk=shift.pk).user == world.a  # nothing changes before the approval

    swap = swap_transition(swap, "approve", user=world.supervisor)
    assert (swap.state, swap.decided_by) == (SwapState.APPROVED, world.supervisor)
    assert rows_of(world) == [(world.b.username, shift.start, shift.end)]
    assert inbox("duty.swap_approved") == sorted([world.a.username, world.b.username])
    assert log_of(swap) == [("create", "requested", world.a.username), ("accept", "accepted", world.b.username),
                            ("approve", "approved", world.supervisor.username)]


def test_the_first_part_of_a_shift_is_split_off_for_the_colleague(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)  # 08:00–20:00
    swap = give(world, shift, world.b, part_start=at(3, 8), part_end=at(3, 12))
    swap_transition(swap, "accept", user=world.b)
    swap_transition(swap, "approve", user=world.supervisor)
    assert rows_of(world) == [(world.b.username, at(3, 8), at(3, 12)), (world.a.username, at(3, 12), at(3, 20))]
    given = Shift.objects.get(pk=shift.pk)  # the row given keeps its id
    assert (given.user, given.start, given.end, given.role, given.team) == (
        world.b, at(3, 8), at(3, 12), shift.role, shift.team)


def test_the_last_part_of_a_shift_is_split_off_for_the_colleague(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    swap = give(world, shift, world.b, part_start=at(3, 16))
    assert (swap.part_start, swap.part_end) == (at(3, 16), None)
    swap_transition(swap, "accept", user=world.b)
    swap_transition(swap, "approve", user=world.supervisor)
    assert rows_of(world) == [(world.a.username, at(3, 8), at(3, 16)), (world.b.username, at(3, 16), at(3, 20))]


def test_a_trade_exchanges_both_shifts_at_once(world: SwapWorld) -> None:
    mine, theirs = world.shift(world.a, 3), world.shift(world.b, 5)
    swap = trade(world, mine, theirs)
    assert inbox("duty.swap_trade_requested") == [world.b.username]
    swap_transition(swap, "accept", user=world.b)
    swap_transition(swap, "approve", user=world.supervisor)
    assert rows_of(world) == [(world.b.username, at(3, 8), at(3, 20)), (world.a.username, at(5, 8), at(5, 20))]


def test_reminders_already_sent_for_a_shift_that_changed_hands_are_forgotten(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    ShiftReminder.objects.create(shift=shift, lead_minutes=720)
    swap = swap_in_state(world, SwapState.ACCEPTED, shift, world.b)
    swap_transition(swap, "approve", user=world.supervisor)
    assert not ShiftReminder.objects.filter(shift=shift).exists()


def test_declined_rejected_and_cancelled_swaps_leave_the_roster_and_tell_the_right_people(world: SwapWorld) -> None:
    declined = give(world, world.shift(world.a, 3), world.b)
    swap_transition(declined, "decline", user=world.b, comment="I am away")
    assert inbox("duty.swap_declined") == [world.a.username]

    rejected = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 5), world.b)
    swap_transition(rejected, "reject", user=world.supervisor, comment="Not during the migration")
    assert inbox("duty.swap_rejected") == sorted([world.a.username, world.b.username])

    cancelled = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 7), world.b)
    swap_transition(cancelled, "cancel", user=world.a)
    # The colleague, and the supervisors who had it in their queue.
    assert inbox("duty.swap_cancelled") == sorted([world.b.username, world.supervisor.username])
    assert set(Shift.objects.filter(roster=world.roster).values_list("user", flat=True)) == {world.a.pk}


def test_a_rejection_needs_its_reason(world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    with pytest.raises(InvalidInput) as refused:
        swap_transition(swap, "reject", user=world.supervisor)
    assert "comment" in refused.value.detail
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.ACCEPTED


# --- A supervisor acting for someone ----------------------------------------------------------------------


def test_a_supervisor_asks_for_the_requester_and_accepts_for_the_colleague_on_record(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    swap = give(world, shift, world.b, by=world.supervisor)
    assert (swap.requester, swap.created_by) == (world.a, world.supervisor)
    assert inbox("duty.swap_requested") == sorted([world.a.username, world.b.username])
    swap = swap_transition(swap, "accept", user=world.supervisor)
    other = UserFactory(username="sys-supervisor2", roles=[roles.SUPERVISOR])
    swap_transition(swap, "approve", user=other)
    assert log_of(swap) == [("create", "requested", world.supervisor.username),
                            ("accept", "accepted", world.supervisor.username),
                            ("approve", "approved", other.username)]
    assert TransitionLog.objects.get(object_id=swap.pk, transition="create").data == {"on_behalf_of": world.a.pk}
    assert Shift.objects.get(pk=shift.pk).user == world.b


def test_a_supervisor_does_not_approve_a_swap_of_their_own(world: SwapWorld) -> None:
    mine = world.shift(world.supervisor, 3)
    mine.role = roles.SYSTEM_ENGINEER
    world.b.groups.add(*world.supervisor.groups.all())
    swap = give(world, mine, world.b)
    swap = swap_transition(swap, "accept", user=world.b)
    with pytest.raises(TransitionForbidden) as refused:
        swap_transition(swap, "approve", user=world.supervisor)
    assert refused.value.code == "segregation_of_duties"


# --- Refusals when asking ----------------------------------------------------------------------------------


def refusal(call: Any) -> Any:
    with pytest.raises((ConditionFailed, InvalidInput, TransitionForbidden)) as refused:
        call()
    assert not SwapRequest.objects.exists()
    return refused.value


def test_later_than_the_lead_time_is_refused_with_the_policy_s_hours(world: SwapWorld) -> None:
    policy(swap_lead_hours=48)
    shift = world.shift(world.a, 1, hour=20)  # tonight-ish: well within 48 hours
    exc = refusal(lambda: give(world, shift, world.b))
    assert (exc.status_code, exc.code) == (409, "condition_failed")
    assert "at least 48 hours" in str(exc.detail)


def test_a_shift_that_has_started_is_refused(world: SwapWorld) -> None:
    shift = world.shift(world.a, 0, hour=0, hours=23)
    with time_machine.travel(shift.start + timedelta(hours=1)):
        exc = refusal(lambda: give(world, shift, world.b))
    assert exc.status_code == 409 and "has started" in str(exc.detail)


@pytest.mark.parametrize("who", ["another_role", "another_team"])
def test_someone_not_qualified_is_refused(world: SwapWorld, who: str) -> None:
    if who == "another_role":
        colleague, expected = world.crew.duty, "does not hold the role"  # in the team, a duty officer
    else:
        colleague = UserFactory(roles=[roles.SYSTEM_ENGINEER])
        TeamFactory(code="net").members.add(colleague)
        expected = "is not a member of the team"
    exc = refusal(lambda: give(world, world.shift(world.a, 3), colleague))
    assert exc.status_code == 409 and expected in str(exc.detail)


def test_a_swap_with_oneself_is_refused(world: SwapWorld) -> None:
    exc = refusal(lambda: give(world, world.shift(world.a, 3), world.a))
    assert exc.status_code == 400 and "colleague" in exc.detail


@pytest.mark.parametrize(("start", "end", "field"), [((3, 6), (3, 10), "part_start"), ((3, 16), (3, 22), "part_end"),
                                                     ((3, 12), (3, 12), "part_end")])
def test_a_part_outside_the_shift_is_refused(world: SwapWorld, start: Any, end: Any, field: str) -> None:
    shift = world.shift(world.a, 3)
    exc = refusal(lambda: give(world, shift, world.b, part_start=at(*start), part_end=at(*end)))
    assert exc.status_code == 400 and field in exc.detail


def test_a_counter_shift_that_is_not_the_colleague_s_is_refused(world: SwapWorld) -> None:
    mine, someone_elses = world.shift(world.a, 3), world.shift(world.c, 5)
    exc = refusal(lambda: swap_request_trade(world, mine, world.b, someone_elses))
    assert exc.status_code == 400 and "counter_shift" in exc.detail


def swap_request_trade(world: SwapWorld, shift: Shift, colleague: Any, counter: Shift) -> SwapRequest:
    from duty.swaps import swap_request

    return swap_request(by=shift.user, shift=shift, colleague=colleague, reason="Trade", kind=SwapKind.TRADE,
                        counter_shift=counter)


def test_a_trade_for_a_shift_the_requester_may_not_take_is_refused(world: SwapWorld) -> None:
    other_team = TeamFactory(code="net")
    world.b.teams.add(other_team)
    roster = RosterFactory(team=other_team, first_day=world.roster.first_day, last_day=world.roster.last_day,
                           state=RosterState.PUBLISHED)
    theirs = Shift.objects.create(roster=roster, team=other_team, role=roles.SYSTEM_ENGINEER, user=world.b,
                                  start=at(5), end=at(5, 20))
    exc = refusal(lambda: trade(world, world.shift(world.a, 3), theirs))
    assert exc.status_code == 409 and "is not a member of the team" in str(exc.detail)


def test_a_shift_not_on_a_published_roster_is_refused(world: SwapWorld) -> None:
    draft = RosterFactory(team=world.crew.team, first_day=world.roster.last_day + timedelta(days=1),
                          last_day=world.roster.last_day + timedelta(days=30))
    shift = world.shift(world.a, 3, roster=draft)
    exc = refusal(lambda: give(world, shift, world.b))
    assert exc.status_code == 409 and "not on a published roster" in str(exc.detail)


def test_a_colleague_already_on_duty_then_is_refused(world: SwapWorld) -> None:
    world.shift(world.b, 3, hour=14, hours=4)  # 14:00–18:00, inside the shift offered
    exc = refusal(lambda: give(world, world.shift(world.a, 3), world.b))
    assert exc.status_code == 409 and "is already on duty" in str(exc.detail)


def test_coverage_that_would_drop_is_named(world: SwapWorld) -> None:
    """The swap's own coverage check: the colleague already counted in the role then, the team would have one
    person fewer (the same swap is refused as an overlap too)."""
    shift = world.shift(world.a, 3)
    world.shift(world.b, 3, hour=14, hours=4)
    rules = DutyPolicy.current()
    to_b, to_c = (SwapRequest(kind=SwapKind.GIVE, requester=world.a, colleague=colleague, shift=shift, reason="x",
                              created_by=world.a, expires_at=shift.start) for colleague in (world.b, world.c))
    assert any("fewer people on duty" in p for p in _coverage_problems(to_b, rules, _nearby_shifts(to_b, rules)))
    assert not _coverage_problems(to_c, rules, _nearby_shifts(to_c, rules))


def test_a_short_rest_for_the_colleague_is_refused(world: SwapWorld) -> None:
    world.shift(world.b, 2, hour=20, hours=8)  # until 04:00 on the day of the shift offered
    exc = refusal(lambda: give(world, world.shift(world.a, 3), world.b))
    assert exc.status_code == 409 and "would rest only 4 hours" in str(exc.detail)


def test_a_short_rest_left_to_the_requester_by_a_part_in_the_middle_is_refused(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    exc = refusal(lambda: give(world, shift, world.b, part_start=at(3, 12), part_end=at(3, 14)))
    assert exc.status_code == 409 and f"{world.a} would rest only 2 hours" in str(exc.detail)


def test_too_long_a_stint_is_refused(world: SwapWorld) -> None:
    policy(max_hours_in_row=16)
    world.shift(world.b, 2, hour=20)  # the night before, until 08:00: 24 hours in a row with the day shift
    exc = refusal(lambda: give(world, world.shift(world.a, 3), world.b))
    assert exc.status_code == 409 and "24 hours in a row (at most 16)" in str(exc.detail)


def test_a_second_open_request_for_one_shift_is_refused(world: SwapWorld) -> None:
    shift = world.shift(world.a, 3)
    give(world, shift, world.b)
    with pytest.raises(ConditionFailed) as refused:
        give(world, shift, world.c)
    assert "already has an open swap request" in str(refused.value.detail)
    assert SwapRequest.objects.count() == 1


@pytest.mark.parametrize("who", ["another_engineer", "auditor", "department_user"])
def test_only_the_holder_or_a_supervisor_asks(world: SwapWorld, who: str) -> None:
    shift = world.shift(world.a, 3)
    by = {"another_engineer": world.c, "auditor": UserFactory(roles=[roles.AUDITOR]),
          "department_user": UserFactory(roles=[roles.DEPARTMENT_USER])}[who]
    exc = refusal(lambda: give(world, shift, world.b, by=by))
    assert exc.status_code == 403


# --- Refusals later: the world moved on --------------------------------------------------------------------


def test_approving_after_the_roster_was_withdrawn_is_refused_with_the_reason(world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    world.roster.__class__.objects.filter(pk=world.roster.pk).update(state=RosterState.DRAFT)
    with pytest.raises(ConditionFailed) as refused:
        swap_transition(swap, "approve", user=world.supervisor)
    assert "not on a published roster" in str(refused.value.detail)
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.ACCEPTED
    assert Shift.objects.get(pk=swap.shift_id).user == world.a


def test_accepting_once_the_shift_has_started_is_refused(world: SwapWorld) -> None:
    swap = give(world, world.shift(world.a, 3), world.b)
    with time_machine.travel(at(3, 9)), pytest.raises(ConditionFailed) as refused:
        swap_transition(swap, "accept", user=world.b)
    assert "has started" in str(refused.value.detail)
    assert swap_problems(SwapRequest.objects.get(pk=swap.pk)) == []  # and before, it could


def test_a_colleague_who_took_another_shift_meanwhile_cannot_be_approved(world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    world.shift(world.b, 3, hour=10, hours=2)
    with pytest.raises(ConditionFailed) as refused:
        swap_transition(swap, "approve", user=world.supervisor)
    assert "is already on duty" in str(refused.value.detail)


# --- Expiry ------------------------------------------------------------------------------------------------


def test_pending_swaps_expire_when_the_shift_starts_once_even_when_swept_twice(world: SwapWorld) -> None:
    waiting = give(world, world.shift(world.a, 3), world.b)
    accepted = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 5), world.b)
    later = give(world, world.shift(world.a, 9), world.c)
    assert swaps_expire() == []
    with time_machine.travel(at(3, 8)):
        assert swaps_expire() == [waiting.pk]
        assert expire_shift_swaps() == 0  # the beat task: the second run does nothing
    with time_machine.travel(at(5, 9)):
        assert expire_shift_swaps() == 1
    states = dict(SwapRequest.objects.values_list("pk", "state"))
    assert states == {waiting.pk: SwapState.EXPIRED, accepted.pk: SwapState.EXPIRED, later.pk: SwapState.REQUESTED}
    assert TransitionLog.objects.filter(transition="expire").count() == 2
    assert inbox("duty.swap_expired") == sorted([world.a.username, world.b.username] * 2)


def test_approving_an_expired_swap_is_a_conflict(world: SwapWorld) -> None:
    swap = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 3), world.b)
    with time_machine.travel(at(3, 8, 1)):
        swaps_expire()
        with pytest.raises(InvalidState) as refused:
            swap_transition(swap, "approve", user=world.supervisor)
    assert refused.value.status_code == 409
    assert Shift.objects.get(pk=swap.shift_id).user == world.a


# --- Notifications in the reader's language ---------------------------------------------------------------


def test_notifications_are_sent_once_each_in_the_reader_s_language(world: SwapWorld) -> None:
    world.b.language = "zh-hant"
    world.b.save()
    world.a.language = "en"
    world.a.save()
    swap = give(world, world.shift(world.a, 3), world.b)
    swap_transition(swap, "accept", user=world.b)
    swap_transition(swap, "approve", user=world.supervisor)
    rows = list(Notification.objects.filter(channel=Channel.IN_APP).select_related("recipient").order_by("pk"))
    assert [(r.event, r.recipient.username) for r in rows] == [
        ("duty.swap_requested", world.b.username),
        ("duty.swap_accepted", world.a.username),
        ("duty.swap_to_approve", world.supervisor.username),
        ("duty.swap_approved", world.a.username),
        ("duty.swap_approved", world.b.username),
    ]
    approved_en, approved_zh = rows[3], rows[4]
    english, chinese = render(approved_en, language_of(approved_en.recipient)), render(
        approved_zh, language_of(approved_zh.recipient))
    assert "sys-eng1 → sys-eng2" in english.subject and english.subject.startswith("shift swap approved")
    assert ("State", "Approved") in english.facts and ("By", str(world.supervisor)) in english.facts
    # The facts' labels and the state are the catalogue's in Traditional Chinese.
    with translation.override("zh-hant"):
        assert dict(chinese.facts)[translation.gettext("State")] == str(SwapState.APPROVED.label)
    assert "狀態" in dict(chinese.facts)
    assert rows[0].link == f"/duty/swaps/{swap.pk}/"
