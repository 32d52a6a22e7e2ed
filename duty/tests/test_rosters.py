"""Rosters from rotations across daylight-saving changes and without them, the coverage check (gaps, stints,
rests), accepting findings and publishing, single edits and their refusals, regenerating a draft, and who is on
duty — through the services, as the pages, the API and the admin use them."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from duty import rosters
from duty.choices import FindingKind, RosterState
from duty.coverage import roster_findings
from duty.models import Roster, Shift
from duty.selectors import next_on_duty, on_duty, on_duty_board, shifts_of
from duty.tests.factories import RosterFactory, ShiftFactory, duty_crew, four_engineers, policy, rotation_of
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput, InvalidState, TransitionForbidden
from opscenter.core.models import FieldChange, TransitionLog
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BERLIN, TAIPEI = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Taipei")


def hours(shift: Shift) -> float:
    return (shift.end - shift.start).total_seconds() / 3600


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def generate(crew, first: date, last: date, members=None, pattern=None, **kwargs) -> Roster:  # noqa: ANN001, ANN003
    rotation_of(crew, members or four_engineers(crew), pattern, starts_on=first)
    return rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=first, last_day=last, **kwargs)


# --- Generation and time zones ------------------------------------------------------------------------------


def test_a_month_in_berlin_keeps_local_start_times_and_the_march_night_is_eleven_hours() -> None:
    policy(time_zone="Europe/Berlin")
    crew = duty_crew()
    roster = generate(crew, date(2026, 3, 1), date(2026, 3, 31))
    shifts = list(roster.shifts.order_by("start"))
    assert len(shifts) == 62  # a day and a night shift on each of 31 days
    assert {local(s.start, BERLIN).time() for s in shifts} == {time(8), time(20)}
    assert {local(s.end, BERLIN).time() for s in shifts} == {time(8), time(20)}
    assert all(local(s.start, BERLIN).date().month == 3 for s in shifts)
    lengths = {(local(s.start, BERLIN).date(), local(s.start, BERLIN).hour): hours(s) for s in shifts}
    # Clocks go forward at 02:00 on Sunday 29 March: the night from Saturday to Sunday lasts eleven hours.
    assert lengths[(date(2026, 3, 28), 20)] == 11
    assert lengths[(date(2026, 3, 29), 8)] == 12
    assert sorted(set(lengths.values())) == [11, 12]
    assert sum(lengths.values()) == 31 * 24 - 1
    # Before the change 08:00 is 07:00 UTC, after it 06:00 UTC.
    day_shifts = [s for s in shifts if local(s.start, BERLIN).hour == 8]
    assert day_shifts[0].start == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert day_shifts[-1].start == datetime(2026, 3, 31, 6, tzinfo=UTC)
    # Each member follows the pattern: day, night, two days off.
    first = [local(s.start, BERLIN) for s in shifts if s.user == crew.engineers[0]][:4]
    assert [(d.day, d.hour) for d in first] == [(1, 8), (2, 20), (5, 8), (6, 20)]
    assert roster_findings(roster) == []
    assert roster.state == RosterState.DRAFT


def test_the_october_change_gives_a_thirteen_hour_night_in_berlin() -> None:
    policy(time_zone="Europe/Berlin")
    crew = duty_crew()
    roster = generate(crew, date(2026, 10, 24), date(2026, 10, 26))
    nights = {local(s.start, BERLIN).date(): hours(s) for s in roster.shifts.all() if local(s.start, BERLIN).hour == 20}
    assert nights == {date(2026, 10, 24): 13, date(2026, 10, 25): 12, date(2026, 10, 26): 12}
    assert roster_findings(roster) == []


def test_a_month_in_taipei_has_twelve_hour_shifts_at_local_eight_and_twenty() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    roster = generate(crew, date(2026, 3, 1), date(2026, 3, 31))
    shifts = list(roster.shifts.all())
    assert len(shifts) == 62 and {hours(s) for s in shifts} == {12}
    assert {local(s.start, TAIPEI).time() for s in shifts} == {time(8), time(20)}
    assert min(s.start for s in shifts) == datetime(2026, 3, 1, 0, tzinfo=UTC)  # 08:00 in Taipei
    assert roster_findings(roster) == []


def test_the_next_roster_carries_the_pattern_on() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    generate(crew, date(2026, 3, 1), date(2026, 3, 31))
    april = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=date(2026, 4, 1),
                                    last_day=date(2026, 4, 30))
    # Day 31 of the pattern for the first member: 31 % 4 = 3 (off) on 1 April, then the day shift on 2 April.
    first = april.shifts.filter(user=crew.engineers[0]).order_by("start").first()
    assert local(first.start, TAIPEI).date() == date(2026, 4, 2) and local(first.start, TAIPEI).hour == 8
    assert roster_findings(april) == []


# --- The coverage check -------------------------------------------------------------------------------------


def test_a_missing_member_leaves_gaps_in_the_role_and_they_are_listed() -> None:
    policy(time_zone="Asia/Taipei", min_rest_hours=8)
    crew = duty_crew()
    roster = generate(crew, date(2026, 3, 1), date(2026, 3, 4), members=crew.engineers)  # three of four
    gaps = [f for f in roster_findings(roster) if f.kind == FindingKind.GAP]
    # The fourth member (offset 3) would have had the day of 2 March and the night of 3 March.
    assert [(local(g.start, TAIPEI), local(g.end, TAIPEI), g.role, g.required, g.present) for g in gaps] == [
        (datetime(2026, 3, 2, 8, tzinfo=TAIPEI), datetime(2026, 3, 2, 20, tzinfo=TAIPEI), roles.SYSTEM_ENGINEER, 1, 0),
        (datetime(2026, 3, 3, 20, tzinfo=TAIPEI), datetime(2026, 3, 4, 8, tzinfo=TAIPEI), roles.SYSTEM_ENGINEER, 1, 0),
    ]
    with timezone.override(TAIPEI):
        assert gaps[0].text() == "System engineer: 0 of 1 on duty from 2026-03-02 08:00 to 2026-03-02 20:00."


def test_two_people_required_one_present_is_a_gap_with_both_counts() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    crew.day.requirements.update(headcount=2)
    roster = generate(crew, date(2026, 3, 1), date(2026, 3, 1))
    gaps = [f for f in roster_findings(roster) if f.kind == FindingKind.GAP]
    assert [(g.required, g.present, g.duration) for g in gaps] == [(2, 1, timedelta(hours=12))]


def test_a_role_no_shift_type_requires_leaves_no_gap_and_a_shift_type_without_requirements_neither() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    crew.night.requirements.all().delete()
    roster = RosterFactory(team=crew.team, first_day=date(2026, 3, 1), last_day=date(2026, 3, 1),
                           created_by=crew.supervisor)
    ShiftFactory(roster=roster, user=crew.engineers[0], start=datetime(2026, 3, 1, 0, tzinfo=UTC),
                 end=datetime(2026, 3, 1, 12, tzinfo=UTC))  # the day shift only
    assert roster_findings(roster) == []


def test_back_to_back_shifts_are_one_stint_and_too_long_a_stint_is_listed() -> None:
    policy(time_zone="Asia/Taipei", max_hours_in_row=16, min_rest_hours=8)
    crew = duty_crew()
    roster = RosterFactory(team=crew.team, first_day=date(2026, 3, 1), last_day=date(2026, 3, 2),
                           created_by=crew.supervisor)
    morning = datetime(2026, 3, 1, 0, tzinfo=UTC)  # 08:00 in Taipei
    worker = crew.engineers[0]
    crew.shift(roster, worker, morning)
    crew.shift(roster, worker, morning + timedelta(hours=12))  # the night straight after the day: 24 h in a row
    stints = [f for f in roster_findings(roster) if f.kind == FindingKind.STINT]
    assert [(s.person, s.duration, s.limit_hours) for s in stints] == [(str(worker), timedelta(hours=24), 16)]
    policy(max_hours_in_row=24)
    assert [f for f in roster_findings(Roster.objects.get(pk=roster.pk)) if f.kind == FindingKind.STINT] == []


def test_a_short_rest_is_listed_and_a_long_enough_one_is_not() -> None:
    policy(time_zone="Asia/Taipei", max_hours_in_row=24, min_rest_hours=8)
    crew = duty_crew()
    roster = RosterFactory(team=crew.team, first_day=date(2026, 3, 1), last_day=date(2026, 3, 2),
                           created_by=crew.supervisor)
    worker = crew.engineers[0]
    crew.shift(roster, worker, datetime(2026, 3, 1, 0, tzinfo=UTC))  # 08:00–20:00
    early = crew.shift(roster, worker, datetime(2026, 3, 1, 18, tzinfo=UTC), hours=4)  # 02:00–06:00 the next day
    rests = [f for f in roster_findings(roster) if f.kind == FindingKind.REST]
    assert [(r.person, r.duration) for r in rests] == [(str(worker), timedelta(hours=6))]
    Shift.objects.filter(pk=early.pk).update(start=datetime(2026, 3, 1, 20, tzinfo=UTC),
                                             end=datetime(2026, 3, 2, 0, tzinfo=UTC))  # an 8-hour rest
    assert [f for f in roster_findings(Roster.objects.get(pk=roster.pk)) if f.kind == FindingKind.REST] == []


def test_a_rest_counts_the_last_night_of_the_previous_published_roster() -> None:
    policy(time_zone="Asia/Taipei", min_rest_hours=8)
    crew = duty_crew()
    worker = crew.engineers[0]
    february = crew.published_roster(date(2026, 2, 1), date(2026, 2, 28))
    crew.shift(february, worker, datetime(2026, 2, 28, 12, tzinfo=UTC))  # 20:00 on the 28th to 08:00 on 1 March
    march = RosterFactory(team=crew.team, first_day=date(2026, 3, 1), last_day=date(2026, 3, 1),
                          created_by=crew.supervisor)
    crew.shift(march, worker, datetime(2026, 3, 1, 4, tzinfo=UTC), hours=8)  # 12:00–20:00: four hours' rest
    rests = [f for f in roster_findings(march) if f.kind == FindingKind.REST]
    assert [(r.person, r.duration) for r in rests] == [(str(worker), timedelta(hours=4))]


# --- Accepting the findings and publishing ------------------------------------------------------------------


def test_publishing_is_refused_with_findings_and_allowed_once_they_are_accepted_with_a_note() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    roster = generate(crew, date(2026, 3, 1), date(2026, 3, 4), members=crew.engineers)
    with pytest.raises(ConditionFailed):
        rosters.roster_transition(roster, "publish", user=crew.supervisor)
    assert Roster.objects.get(pk=roster.pk).state == RosterState.DRAFT
    with pytest.raises(InvalidInput):
        rosters.roster_transition(roster, "accept_findings", user=crew.supervisor, data={"note": "  "})
    with pytest.raises(TransitionForbidden):
        rosters.roster_transition(roster, "accept_findings", user=crew.engineers[0], data={"note": "ok"})

    rosters.roster_transition(roster, "accept_findings", user=crew.supervisor,
                              data={"note": "The fourth engineer joins on the 5th; the supervisor covers."})
    accepted = Roster.objects.get(pk=roster.pk)
    assert (accepted.findings_accepted_by, accepted.findings_note) == (
        crew.supervisor, "The fourth engineer joins on the 5th; the supervisor covers.")
    log = TransitionLog.objects.filter(object_id=roster.pk, transition="accept_findings").get()
    assert log.actor == crew.supervisor and len(log.data["accepted"]) == 2
    assert log.data["accepted"][0].startswith("System engineer: 0 of 1 on duty from 2026-03-02 08:00")
    published = rosters.roster_transition(accepted, "publish", user=crew.supervisor)
    assert published.state == RosterState.PUBLISHED and published.published_at is not None


def test_a_covered_roster_publishes_and_accepting_nothing_is_refused() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    roster = generate(crew, date(2026, 3, 1), date(2026, 3, 4))
    with pytest.raises(ConditionFailed):
        rosters.roster_transition(roster, "accept_findings", user=crew.supervisor, data={"note": "fine"})
    with pytest.raises(TransitionForbidden):
        rosters.roster_transition(roster, "publish", user=crew.engineers[0])
    assert rosters.roster_transition(roster, "publish", user=crew.supervisor).state == RosterState.PUBLISHED
    with pytest.raises(InvalidInput):  # withdrawing says why
        rosters.roster_transition(roster, "withdraw", user=crew.supervisor)
    withdrawn = rosters.roster_transition(roster, "withdraw", user=crew.supervisor, comment="Two people left.")
    assert withdrawn.state == RosterState.DRAFT and withdrawn.published_at is None


def test_an_edit_after_acceptance_takes_it_back() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    today = timezone.localdate(timezone=TAIPEI)
    roster = generate(crew, today + timedelta(days=10), today + timedelta(days=13), members=crew.engineers)
    rosters.roster_transition(roster, "accept_findings", user=crew.supervisor, data={"note": "Known."})
    shift = roster.shifts.order_by("start").last()
    rosters.shift_update(shift, user=crew.supervisor, changes={"end": shift.end - timedelta(hours=1)})
    roster.refresh_from_db()
    assert roster.findings_accepted_at is None and roster.findings_note == ""
    with pytest.raises(ConditionFailed):
        rosters.roster_transition(roster, "publish", user=crew.supervisor)


# --- Single edits and their refusals ------------------------------------------------------------------------


@pytest.fixture
def future() -> tuple:
    """A crew in Taipei with a covered draft roster ten to thirteen days ahead."""
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    today = timezone.localdate(timezone=TAIPEI)
    roster = generate(crew, today + timedelta(days=10), today + timedelta(days=13))
    return crew, roster


def test_changing_the_person_of_a_shift_records_it_and_keeps_the_roster_draft(future) -> None:  # noqa: ANN001
    crew, roster = future
    shift = roster.shifts.order_by("start").first()
    standby = UserFactory(username="standby", display_name="Standby", roles=[roles.SYSTEM_ENGINEER])
    rosters.shift_update(shift, user=crew.supervisor, changes={"user": standby})
    assert Shift.objects.get(pk=shift.pk).user == standby
    change = FieldChange.objects.get(object_id=roster.pk, field="shifts")
    assert "Standby" in change.new_value and str(crew.engineers[0]) in change.old_value
    assert change.actor == crew.supervisor


def test_adding_and_removing_a_shift(future) -> None:  # noqa: ANN001
    crew, roster = future
    start = roster.shifts.order_by("start").first().start + timedelta(hours=2)
    helper = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    shift = rosters.shift_add(roster, user=crew.supervisor, person=helper, role=roles.SYSTEM_ENGINEER,
                              start=start, end=start + timedelta(hours=4))
    assert shift.team == crew.team and shift.roster == roster
    rosters.shift_delete(shift, user=crew.supervisor)
    assert not Shift.objects.filter(pk=shift.pk).exists()
    assert FieldChange.objects.filter(object_id=roster.pk, field="shifts").count() == 2


def _refused(exc_type: type, code: str, call, *args, **kwargs) -> None:  # noqa: ANN001, ANN003
    before = sorted(Shift.objects.values_list("pk", "user_id", "start", "end"))
    with pytest.raises(exc_type) as raised:
        call(*args, **kwargs)
    assert raised.value.code == code, raised.value.detail
    assert sorted(Shift.objects.values_list("pk", "user_id", "start", "end")) == before


def test_an_overlapping_shift_for_one_person_is_refused(future) -> None:  # noqa: ANN001
    crew, roster = future
    shift = roster.shifts.order_by("start").first()
    _refused(InvalidInput, "overlap", rosters.shift_add, roster, user=crew.supervisor, person=shift.user,
             role=shift.role, start=shift.start + timedelta(hours=11), end=shift.end + timedelta(hours=3))
    other = roster.shifts.exclude(user=shift.user).filter(start=shift.start + timedelta(hours=12)).first()
    _refused(InvalidInput, "overlap", rosters.shift_update, other, user=crew.supervisor,
             changes={"start": shift.start + timedelta(hours=6), "user": shift.user})


def test_a_shift_ending_before_it_starts_or_too_long_or_outside_the_period_is_refused(future) -> None:  # noqa: ANN001
    crew, roster = future
    shift = roster.shifts.order_by("start").first()
    _refused(InvalidInput, "end_before_start", rosters.shift_update, shift, user=crew.supervisor,
             changes={"end": shift.start - timedelta(hours=1)})
    _refused(InvalidInput, "too_long", rosters.shift_update, shift, user=crew.supervisor,
             changes={"end": shift.start + timedelta(hours=26)})
    _refused(InvalidInput, "outside_period", rosters.shift_update, shift, user=crew.supervisor,
             changes={"start": shift.start - timedelta(days=2), "end": shift.start - timedelta(days=2, hours=-4)})


def test_a_person_without_the_role_is_refused(future) -> None:  # noqa: ANN001
    crew, roster = future
    shift = roster.shifts.order_by("start").first()
    _refused(InvalidInput, "not_qualified", rosters.shift_update, shift, user=crew.supervisor,
             changes={"user": crew.duty})


def test_only_a_supervisor_edits_and_never_a_published_roster_or_a_started_shift(future) -> None:  # noqa: ANN001
    crew, roster = future
    shift = roster.shifts.order_by("start").first()
    _refused(TransitionForbidden, "permission_denied", rosters.shift_delete, shift, user=crew.engineers[1])
    _refused(InvalidState, "shift_started", rosters.shift_delete, shift, user=crew.supervisor,
             now=shift.start + timedelta(minutes=1))
    rosters.roster_transition(roster, "publish", user=crew.supervisor)
    _refused(InvalidState, "published", rosters.shift_delete, shift, user=crew.supervisor)


# --- Generating: refusals, and regenerating a draft ---------------------------------------------------------


def test_a_period_over_a_quarter_backwards_or_taken_is_refused() -> None:
    crew = duty_crew()
    rotation_of(crew, four_engineers(crew))
    generate_ = rosters.roster_generate
    _refused(InvalidInput, "period_too_long", generate_, user=crew.supervisor, team=crew.team,
             first_day=date(2026, 1, 1), last_day=date(2026, 4, 3))  # 93 days
    _refused(InvalidInput, "end_before_start", generate_, user=crew.supervisor, team=crew.team,
             first_day=date(2026, 1, 2), last_day=date(2026, 1, 1))
    generate_(user=crew.supervisor, team=crew.team, first_day=date(2026, 1, 1), last_day=date(2026, 3, 31))
    _refused(InvalidInput, "period_taken", generate_, user=crew.supervisor, team=crew.team,
             first_day=date(2026, 3, 31), last_day=date(2026, 4, 30))
    _refused(TransitionForbidden, "permission_denied", generate_, user=crew.engineers[0], team=crew.team,
             first_day=date(2026, 4, 1), last_day=date(2026, 4, 30))
    assert Roster.objects.count() == 1


def test_a_rotation_naming_an_unknown_shift_type_or_an_unqualified_member_is_refused() -> None:
    crew = duty_crew()
    rotation_of(crew, [crew.engineers[0]], ["day", "late", "off"])
    _refused(InvalidInput, "invalid_rotation", rosters.roster_generate, user=crew.supervisor, team=crew.team,
             first_day=date(2026, 1, 1), last_day=date(2026, 1, 31))
    rotation_of(crew, [crew.duty], ["day"], name="Officers")
    with pytest.raises(InvalidInput) as raised:
        rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=date(2026, 1, 1),
                                last_day=date(2026, 1, 31))
    assert any("does not hold the role" in str(m) for m in raised.value.detail["rotations"])


def test_generation_refuses_a_person_already_on_another_teams_roster_at_that_time() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    elsewhere = duty_crew("net")
    roster = elsewhere.published_roster(date(2026, 3, 1), date(2026, 3, 31))
    elsewhere.shift(roster, crew.engineers[0], datetime(2026, 3, 1, 2, tzinfo=UTC))
    rotation_of(crew, four_engineers(crew), starts_on=date(2026, 3, 1))
    _refused(InvalidInput, "overlap", rosters.roster_generate, user=crew.supervisor, team=crew.team,
             first_day=date(2026, 3, 1), last_day=date(2026, 3, 31))


def test_regenerating_a_draft_rewrites_only_its_future_shifts_and_a_published_roster_keeps_its_own() -> None:
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    today = timezone.localdate(timezone=TAIPEI)
    roster = generate(crew, today, today + timedelta(days=7))
    published = RosterFactory(team=crew.team, first_day=today - timedelta(days=30), last_day=today - timedelta(days=1),
                              created_by=crew.supervisor, state=RosterState.PUBLISHED)
    old = crew.shift(published, crew.engineers[0], timezone.now() - timedelta(days=3))
    now = Shift.objects.filter(roster=roster).order_by("start")[3].start  # four shifts have started by then
    past = list(roster.shifts.filter(start__lte=now).values_list("pk", "user_id", "start"))
    rotation = roster.team.rotations.get()
    rotation.pattern = ["night", "off", "day", "off"]
    rotation.save()

    rosters.roster_regenerate(roster, user=crew.supervisor, now=now)
    assert list(roster.shifts.filter(start__lte=now).values_list("pk", "user_id", "start")) == past
    future = roster.shifts.filter(start__gt=now)
    assert future.exists() and not future.filter(pk__in=[pk for pk, _u, _s in past]).exists()
    member = crew.engineers[0]
    pattern = [s.shift_type.code for s in future.filter(user=member).order_by("start")[:2]]
    assert pattern in (["night", "day"], ["day", "night"])
    assert Shift.objects.get(pk=old.pk).start == old.start  # another roster's shift is never touched
    if roster_findings(Roster.objects.get(pk=roster.pk)):  # where the old pattern meets the new one
        rosters.roster_transition(roster, "accept_findings", user=crew.supervisor, data={"note": "Pattern change."})
    rosters.roster_transition(roster, "publish", user=crew.supervisor)
    _refused(InvalidState, "published", rosters.roster_regenerate, roster, user=crew.supervisor)


# --- Who is on duty -----------------------------------------------------------------------------------------


def test_on_duty_reads_published_shifts_covering_the_moment_and_next_the_following_ones() -> None:
    crew = duty_crew()
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate()
    published = crew.published_roster(today - timedelta(days=1), today + timedelta(days=1))
    draft = RosterFactory(team=crew.team, first_day=timezone.localdate() + timedelta(days=2),
                          last_day=timezone.localdate() + timedelta(days=3), created_by=crew.supervisor)
    current = crew.shift(published, crew.engineers[0], now - timedelta(hours=2))
    crew.shift(published, crew.duty, now - timedelta(hours=14), role=roles.DUTY_OFFICER)  # ended two hours ago
    following = crew.shift(published, crew.engineers[1], now + timedelta(hours=10))
    crew.shift(published, crew.engineers[2], now + timedelta(hours=22))
    crew.shift(draft, crew.engineers[2], now - timedelta(hours=1))  # a draft's shift does not count
    other = duty_crew("net")
    elsewhere = other.published_roster(timezone.localdate(), timezone.localdate())
    there = other.shift(elsewhere, other.engineers[0], now - timedelta(hours=1))

    assert on_duty(crew.team, now) == [current]
    assert on_duty(crew.team.pk, now + timedelta(hours=10)) == [following]
    assert on_duty(crew.team, now + timedelta(hours=10) - timedelta(seconds=1)) == [current]
    assert {s.pk for s in on_duty(None, now)} == {current.pk, there.pk}
    assert next_on_duty(crew.team, now) == [following]
    assert shifts_of(crew.engineers[0]).get() == current
    board = on_duty_board(at=now, first={other.team.pk})
    assert [row.team for row in board] == [other.team, crew.team]
    assert (board[1].now, board[1].next) == ([current], [following])


def test_on_duty_is_one_query(django_assert_num_queries) -> None:  # noqa: ANN001
    crew = duty_crew()
    roster = crew.published_roster(timezone.localdate(), timezone.localdate())
    for engineer in crew.engineers:
        crew.shift(roster, engineer, timezone.now() - timedelta(hours=1))
    with django_assert_num_queries(1):
        shifts = on_duty(crew.team)
        assert [str(s.user) for s in shifts] == sorted(str(e) for e in crew.engineers)
