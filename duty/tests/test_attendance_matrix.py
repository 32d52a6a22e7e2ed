"""Attendance's and the handover's state machines as the policy states them (按時到崗, 不得擅自離崗): every
state × check-in and check-out × every role, through the service every page, API and admin uses — the person on
the shift or a supervisor for them checks in while check-in is open (again after being marked absent) and checks
out once whoever comes next has acknowledged the handover (or when nobody comes next); everyone else is refused
(403), a move from the wrong state is refused (409), a rule of the policy that blocks it says which (409), and a
refusal changes nothing; the incoming person or a supervisor acknowledges a handover, never whoever wrote it."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from duty.attendance import attendance_transition, shift_check_in
from duty.choices import Attendance, HandoverState
from duty.handovers import handover_acknowledge, handover_write
from duty.models import Handover, Shift, check_in_open
from duty.tests.attend_scenarios import DAY_START, at, duty_day, minutes
from opscenter.core import roles
from opscenter.core.testing.matrix import attempt
from opscenter.core.tests.factories import UserFactory
from opscenter.core.workflow import transition_names

pytestmark = pytest.mark.django_db

EXPECTED, ON_DUTY, DONE, ABSENT = Attendance.EXPECTED, Attendance.ON_DUTY, Attendance.DONE, Attendance.ABSENT
ATTENDERS = {"holder", "supervisor"}
ROLES = ["holder", "supervisor", "engineer", "duty_officer", "auditor"]
# (situation, the shift's attendance, the moment, whether someone comes after it)
SITUATIONS = {
    "expected_in_window": (EXPECTED, DAY_START + minutes(5), True),
    "expected_too_early": (EXPECTED, DAY_START - timedelta(hours=4), True),
    "absent_in_window": (ABSENT, DAY_START + minutes(40), True),
    "on_duty_handover_waiting": (ON_DUTY, DAY_START + timedelta(hours=11, minutes=50), True),
    "on_duty_last_shift": (ON_DUTY, DAY_START + timedelta(hours=11, minutes=50), False),
    "done": (DONE, DAY_START + timedelta(hours=12, minutes=5), True),
}


def expected(situation: str, name: str, role: str) -> tuple[int, str]:
    state, _moment, someone_after = SITUATIONS[situation]
    sources = {"check_in": {EXPECTED, ABSENT}, "check_out": {ON_DUTY}}[name]
    if state not in sources:
        return 409, "invalid_state"
    if role not in ATTENDERS:
        return 403, "not_your_shift"
    if name == "check_in":
        return (200, ON_DUTY) if situation != "expected_too_early" else (409, "condition_failed")
    return (409, "handover_not_acknowledged") if someone_after else (200, DONE)


def test_the_matrix_covers_every_transition_a_person_takes() -> None:
    assert sorted(transition_names(Shift)) == ["check_in", "check_out", "mark_absent"]  # the last, the sweep's


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["check_in", "check_out"])
@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_transition_matrix(situation: str, name: str, role: str) -> None:
    state, moment, someone_after = SITUATIONS[situation]
    day = duty_day(night=someone_after)
    shift = day.day
    if state != EXPECTED:
        Shift.objects.filter(pk=shift.pk).update(attendance=state, checked_in_at=DAY_START + minutes(2))
    shift = Shift.objects.get(pk=shift.pk)
    user: Any = {"holder": shift.user, "supervisor": day.crew.supervisor}.get(role) or UserFactory(roles=[{
        "engineer": roles.SYSTEM_ENGINEER, "duty_officer": roles.DUTY_OFFICER, "auditor": roles.AUDITOR}[role]])
    want = expected(situation, name, role)
    with at(moment):
        problem = attempt(shift, name, user, want, lambda: attendance_transition(shift, name, user=user),
                          reason=str(check_in_open.reason), offered_check=want[1] != "handover_not_acknowledged")
        assert problem is None, problem
        if want == (200, ON_DUTY):
            assert Shift.objects.get(pk=shift.pk).checked_in_at == timezone.now()


# --- The handover: acknowledged by whoever comes next ----------------------------------------------------------

HANDOVER_ROLES = ["incoming", "supervisor", "outgoing", "engineer", "duty_officer", "auditor"]


def handover_expected(state: str, role: str) -> tuple[int, str]:
    if state != HandoverState.WRITTEN:
        return 409, "invalid_state"
    if role == "outgoing":
        return 403, "own_handover"
    if role not in {"incoming", "supervisor"}:
        return 403, "not_incoming"
    return 200, HandoverState.ACKNOWLEDGED


def test_the_handover_matrix_covers_its_transitions() -> None:
    assert list(transition_names(Handover)) == ["acknowledge"]


@pytest.mark.parametrize("role", HANDOVER_ROLES)
@pytest.mark.parametrize("state", [HandoverState.WRITTEN, HandoverState.ACKNOWLEDGED])
def test_handover_matrix(state: str, role: str) -> None:
    day = duty_day()
    end = DAY_START + timedelta(hours=12)
    with at(DAY_START):
        shift_check_in(day.day, user=day.outgoing)
    with at(end - minutes(10)):
        handover = handover_write(shift=day.day, user=day.outgoing, summary="Backup job re-run at 15:00.")
        if state == HandoverState.ACKNOWLEDGED:
            handover = handover_acknowledge(handover, user=day.incoming)
        handover = Handover.objects.get(pk=handover.pk)
        user: Any = {"incoming": day.incoming, "supervisor": day.crew.supervisor, "outgoing": day.outgoing}.get(role) \
            or UserFactory(roles=[{"engineer": roles.SYSTEM_ENGINEER, "duty_officer": roles.DUTY_OFFICER,
                                   "auditor": roles.AUDITOR}[role]])
        problem = attempt(handover, "acknowledge", user, handover_expected(state, role),
                          lambda: handover_acknowledge(handover, user=user))
        assert problem is None, problem
