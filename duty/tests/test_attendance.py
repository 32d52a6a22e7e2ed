"""Attendance with the clock moved (按時到崗, 不得擅自離崗): on time, late, absent and arriving after, the check-in
window, checking out only once the handover is acknowledged, the absence sweep telling people once, and whose
shift a person may check in for."""

from typing import Any

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from duty.attendance import shift_check_in, shift_check_out, shifts_mark_absent
from duty.choices import Attendance
from duty.handovers import handover_acknowledge, handover_write
from duty.models import DutyPolicy, Shift
from duty.tasks import sweep_absences
from duty.tests.attend_scenarios import DAY_START, DutyDay, at, duty_day, minutes, notified, recipients
from duty.tests.factories import RosterFactory, UserFactory, policy
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, TransitionForbidden, UnknownTransition
from opscenter.core.models import Notification, TransitionLog
from opscenter.core.notification_kinds import render
from opscenter.core.services import perform_transition

pytestmark = pytest.mark.django_db
ABSENT, BACKUP, ARRIVED = "duty.absent", "duty.absent_backup", "duty.arrived_after_absence"


@pytest.fixture
def day() -> DutyDay:
    return duty_day()


def check_in(d: DutyDay, shift: Shift, moment: Any, user: Any = None) -> Shift:
    with at(moment):
        return shift_check_in(shift, user=user or shift.user)


def on_site(d: DutyDay) -> None:
    """The night-before engineer checked in on time (they are still on site at the day shift's start)."""
    check_in(d, d.night_before, d.night_before.start - minutes(5))


# --- Checking in ----------------------------------------------------------------------------------------------


def test_on_time_and_within_the_grace_period_is_not_late(day: DutyDay) -> None:
    shift = check_in(day, day.day, DAY_START - minutes(20))
    assert (shift.attendance, shift.late_minutes) == (Attendance.ON_DUTY, 0)
    assert shift.checked_in_at == DAY_START - minutes(20)
    graced = check_in(day, day.night, day.night.start + minutes(10))  # the policy's 10 minutes of grace
    assert (graced.attendance, graced.late_minutes) == (Attendance.ON_DUTY, 0)


def test_after_the_grace_period_the_minutes_late_are_recorded(day: DutyDay) -> None:
    shift = check_in(day, day.day, DAY_START + minutes(25))
    assert (shift.attendance, shift.late_minutes) == (Attendance.ON_DUTY, 25)
    assert TransitionLog.objects.filter(object_id=shift.pk, transition="check_in", actor=day.outgoing).count() == 1


def test_a_changed_policy_counts_at_once(day: DutyDay) -> None:
    assert DutyPolicy.current().late_grace_minutes == 10  # read, and kept in the cache
    policy(late_grace_minutes=30, absent_after_minutes=45)
    shift = check_in(day, day.day, DAY_START + minutes(25))
    assert shift.late_minutes == 0
    with at(DAY_START + minutes(40)):
        assert shifts_mark_absent() == 1  # the night before; the day shift's limit is now 45 minutes


@pytest.mark.parametrize("moment", [DAY_START - minutes(61), DAY_START + minutes(12 * 60)],
                         ids=["before-it-opens", "after-the-shift-ended"])
def test_check_in_outside_its_window_is_refused(day: DutyDay, moment: Any) -> None:
    with at(moment), pytest.raises(ConditionFailed) as refused:
        shift_check_in(day.day, user=day.outgoing)
    assert "Check-in opens" in str(refused.value.detail)
    day.day.refresh_from_db()
    assert (day.day.attendance, day.day.checked_in_at) == (Attendance.EXPECTED, None)


def test_check_in_on_a_roster_not_published_is_refused(day: DutyDay) -> None:
    draft = RosterFactory(team=day.crew.team, first_day=day.roster.last_day.replace(day=1).replace(month=4),
                          last_day=day.roster.last_day.replace(day=30, month=4), created_by=day.crew.supervisor)
    shift = day.crew.shift(draft, day.outgoing, DAY_START)
    with at(DAY_START), pytest.raises(ConditionFailed):
        shift_check_in(shift, user=day.outgoing)


def test_nobody_checks_in_for_someone_else_but_a_supervisor_who_is_recorded(day: DutyDay) -> None:
    for other in (day.incoming, day.crew.duty):
        with at(DAY_START), pytest.raises(TransitionForbidden) as refused:
            shift_check_in(day.day, user=other)
        assert refused.value.code == "not_your_shift" and refused.value.status_code == 403
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.EXPECTED
    shift = check_in(day, day.day, DAY_START + minutes(3), user=day.crew.supervisor)
    assert shift.attendance == Attendance.ON_DUTY
    log = TransitionLog.objects.get(content_type=ContentType.objects.get_for_model(Shift), object_id=shift.pk)
    assert (log.transition, log.actor) == ("check_in", day.crew.supervisor)


def test_the_sweep_transition_is_not_taken_by_people(day: DutyDay) -> None:
    with at(DAY_START + minutes(40)), pytest.raises(UnknownTransition):
        perform_transition(day.day, "mark_absent", user=day.crew.supervisor)


# --- Absent, and arriving after -------------------------------------------------------------------------------


def test_not_checked_in_by_the_limit_is_absent_and_told_once_to_the_supervisor_and_the_backup(day: DutyDay) -> None:
    on_site(day)
    with at(DAY_START + minutes(29)):
        assert shifts_mark_absent() == 0  # the policy's limit is 30 minutes
    with at(DAY_START + minutes(31)):
        assert sweep_absences() == 1
        assert sweep_absences() == 0  # a second run, or a late one, tells nobody again
    with at(DAY_START + minutes(90)):
        assert sweep_absences() == 0
    shift = Shift.objects.get(pk=day.day.pk)
    assert shift.attendance == Attendance.ABSENT
    assert shift.absence_notified_at == DAY_START + minutes(31)
    assert recipients(ABSENT) == {day.crew.supervisor.username}
    # The backup: the night-before engineer, still on site (they may not leave before the handover is acknowledged).
    assert recipients(BACKUP) == {day.before.username}
    assert len(notified(ABSENT)) == 2 and len(notified(BACKUP)) == 2  # in-app and e-mail, once
    row = Notification.objects.filter(event=ABSENT).first()
    assert row.payload["backup"] == str(day.before) and row.payload["minutes"] == 31
    text = render(row, "en")
    assert text.subject == "sys-eng1 has not checked in for the Team sys shift from 2026-03-10 08:00"
    assert text.body == "Marked absent 31 minutes after the start. Backup: sys-eng3."


def test_without_anyone_on_site_the_backup_is_the_teams_next_on_duty(day: DutyDay) -> None:
    with at(DAY_START + minutes(45)):
        assert shifts_mark_absent() == 2  # the night before was never checked in either (it has ended: no backup)
    assert recipients(BACKUP) == {day.incoming.username}  # the night engineer, who may be called in early


def test_a_team_without_a_supervisor_tells_every_supervisor(day: DutyDay) -> None:
    day.crew.team.members.remove(day.crew.supervisor)
    elsewhere = UserFactory(username="other-supervisor", roles=[roles.SUPERVISOR])
    with at(DAY_START + minutes(45)):
        shifts_mark_absent()
    assert recipients(ABSENT) == {day.crew.supervisor.username, elsewhere.username}


def test_the_sweep_leaves_shifts_checked_in_not_due_or_not_published(day: DutyDay) -> None:
    draft = RosterFactory(team=day.crew.team, first_day=day.roster.first_day.replace(month=4),
                          last_day=day.roster.last_day.replace(day=30, month=4), created_by=day.crew.supervisor)
    unpublished = day.crew.shift(draft, day.crew.engineers[2], DAY_START)
    check_in(day, day.day, DAY_START + minutes(2))
    with at(DAY_START + minutes(60)):
        assert shifts_mark_absent() == 1  # the night before only: it was never checked in
    assert Shift.objects.get(pk=day.night_before.pk).attendance == Attendance.ABSENT
    assert Shift.objects.get(pk=day.night.pk).attendance == Attendance.EXPECTED
    assert Shift.objects.get(pk=unpublished.pk).attendance == Attendance.EXPECTED
    assert not notified(BACKUP)  # that shift had ended: only the supervisor is told


def test_a_late_check_in_after_being_marked_absent_records_the_arrival(day: DutyDay) -> None:
    on_site(day)
    with at(DAY_START + minutes(35)):
        shifts_mark_absent()
    shift = check_in(day, day.day, DAY_START + minutes(52))
    assert (shift.attendance, shift.late_minutes) == (Attendance.ON_DUTY, 52)
    assert shift.checked_in_at == DAY_START + minutes(52)
    assert shift.absence_notified_at == DAY_START + minutes(35)  # the absence stays on record
    assert recipients(ARRIVED) == {day.crew.supervisor.username, day.before.username}
    log = TransitionLog.objects.filter(object_id=shift.pk, content_type=ContentType.objects.get_for_model(Shift))
    assert [(r.transition, r.source_state, r.target_state) for r in log.order_by("pk")] == [
        ("mark_absent", Attendance.EXPECTED, Attendance.ABSENT), ("check_in", Attendance.ABSENT, Attendance.ON_DUTY)]


def test_the_sweep_runs_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-duty-absences"]
    assert entry["task"] == sweep_absences.name == "duty.tasks.sweep_absences"
    assert entry["schedule"].minute == set(range(60))


def test_a_sweep_larger_than_a_batch_marks_every_shift_once(day: DutyDay, monkeypatch: Any) -> None:
    monkeypatch.setattr("duty.attendance.SWEEP_BATCH", 1)
    with at(DAY_START + 3 * minutes(60)):
        assert shifts_mark_absent() == 2  # the night before and the day
        assert shifts_mark_absent() == 0
    assert len(notified(ABSENT)) == 2 * 2


# --- Checking out -----------------------------------------------------------------------------------------------


def test_check_out_is_refused_until_the_incoming_person_acknowledges_the_handover(day: DutyDay) -> None:
    check_in(day, day.day, DAY_START)
    check_in(day, day.night, day.night.start - minutes(10))
    end = day.day.end
    with at(end), pytest.raises(ConditionFailed) as refused:
        shift_check_out(day.day, user=day.outgoing)
    assert refused.value.code == "handover_not_acknowledged" and refused.value.status_code == 409
    assert "Write the handover first" in str(refused.value.detail) and str(day.incoming) in str(refused.value.detail)
    with at(end):
        handover = handover_write(shift=day.day, user=day.outgoing, summary="Quiet day; backup job re-run at 15:00.")
    with at(end + minutes(1)), pytest.raises(ConditionFailed) as waiting:
        shift_check_out(day.day, user=day.outgoing)
    assert "has not acknowledged your handover yet" in str(waiting.value.detail)
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.ON_DUTY
    with at(end + minutes(5)):
        handover_acknowledge(handover, user=day.incoming)
        shift = shift_check_out(day.day, user=day.outgoing)
    assert (shift.attendance, shift.checked_out_at) == (Attendance.DONE, end + minutes(5))


def test_the_last_shift_of_the_roster_may_leave_without_a_handover() -> None:
    last = duty_day("net", night=False)
    check_in(last, last.day, DAY_START)
    with at(last.day.end):
        shift = shift_check_out(last.day, user=last.outgoing)
    assert shift.attendance == Attendance.DONE


def test_staying_on_for_the_next_shift_needs_no_handover(day: DutyDay) -> None:
    Shift.objects.filter(pk=day.night.pk).update(user=day.outgoing)
    check_in(day, day.day, DAY_START)
    with at(day.day.end):
        assert shift_check_out(day.day, user=day.outgoing).attendance == Attendance.DONE


def test_nobody_checks_out_for_someone_else_but_a_supervisor(day: DutyDay) -> None:
    last = duty_day("dsk", night=False)
    check_in(last, last.day, DAY_START)
    with at(last.day.end), pytest.raises(TransitionForbidden):
        shift_check_out(last.day, user=last.crew.engineers[1])
    with at(last.day.end):
        assert shift_check_out(last.day, user=last.crew.supervisor).attendance == Attendance.DONE


def test_check_out_before_checking_in_is_refused_by_state(day: DutyDay) -> None:
    from opscenter.core.exceptions import InvalidState

    with at(DAY_START), pytest.raises(InvalidState):
        shift_check_out(day.day, user=day.outgoing)
