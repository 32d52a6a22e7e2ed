"""The attendance and handover API: check in and out through `transitions/<name>/`, write a handover and
acknowledge it; refusals are JSON with a code and change nothing; department users read nothing; pinned query
counts that do not grow with rows."""

from datetime import timedelta
from typing import Any

import pytest

from conftest import assert_error
from duty.attendance import shift_check_in
from duty.choices import Attendance, HandoverState
from duty.handovers import handover_write
from duty.models import Handover, Shift
from duty.tests.attend_scenarios import DAY_START, DutyDay, at, count, duty_day, minutes, more_log
from duty.tests.factories import UserFactory
from incidents.choices import State as IncidentState
from incidents.tests.factories import incident_row
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core import roles

pytestmark = pytest.mark.django_db
ATTENDANCE = "/api/v1/duty/attendance/"
HANDOVERS = "/api/v1/duty/handovers/"
LOG = "/api/v1/duty/log/"
END = DAY_START + timedelta(hours=12)


@pytest.fixture
def day() -> DutyDay:
    return duty_day()


def transition(shift: Shift, name: str) -> str:
    return f"{ATTENDANCE}{shift.pk}/transitions/{name}/"


def test_check_in_and_out_through_the_api(day: DutyDay, api_as: Any) -> None:
    me = api_as(day.outgoing)
    with at(DAY_START + minutes(14)):
        response = me.post(transition(day.day, "check_in"), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    # Checking out waits for the handover: nothing may be taken now.
    assert (body["attendance"], body["late_minutes"], body["available_transitions"]) == (Attendance.ON_DUTY, 14, [])
    with at(END):
        refused = assert_error(me.post(transition(day.day, "check_out"), {}, format="json"), 409,
                               "handover_not_acknowledged")
        assert str(day.incoming) in refused["detail"]
        written = me.post(HANDOVERS, {"shift": day.day.pk, "summary": "Nothing pending."}, format="json")
        assert written.status_code == 201, written.content
        handover = written.json()
        assert (handover["state"], handover["incoming_shift"]["user"]["username"]) == (
            HandoverState.WRITTEN, day.incoming.username)
        acknowledged = api_as(day.incoming).post(f"{HANDOVERS}{handover['id']}/transitions/acknowledge/", {},
                                                 format="json")
        assert acknowledged.status_code == 200, acknowledged.content
        assert acknowledged.json()["state"] == HandoverState.ACKNOWLEDGED
        done = me.post(transition(day.day, "check_out"), {"comment": "Handed over to eng2."}, format="json")
    assert done.status_code == 200 and done.json()["attendance"] == Attendance.DONE


def test_check_in_for_someone_elses_shift_is_403_and_changes_nothing(day: DutyDay, api_as: Any) -> None:
    with at(DAY_START):
        assert_error(api_as(day.incoming).post(transition(day.day, "check_in"), {}, format="json"), 403,
                     "not_your_shift")
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.EXPECTED
    with at(DAY_START):
        assert api_as(day.crew.supervisor).post(transition(day.day, "check_in"), {}, format="json").status_code == 200


@pytest.mark.parametrize(("name", "status", "code"), [
    ("mark_absent", 400, "unknown_transition"), ("check_out", 409, "invalid_state"), ("leave", 400,
                                                                                      "unknown_transition")])
def test_other_transitions_are_refused(day: DutyDay, api_as: Any, name: str, status: int, code: str) -> None:
    with at(DAY_START + minutes(40)):
        assert_error(api_as(day.outgoing).post(transition(day.day, name), {}, format="json"), status, code)
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.EXPECTED


def test_check_in_window_closed_is_409(day: DutyDay, api_as: Any) -> None:
    with at(END + minutes(1)):
        assert_error(api_as(day.outgoing).post(transition(day.day, "check_in"), {}, format="json"), 409,
                     "condition_failed")


def test_the_wrong_person_acknowledging_is_403(day: DutyDay, api_as: Any) -> None:
    with at(DAY_START):
        shift_check_in(day.day, user=day.outgoing)
    with at(END):
        handover = handover_write(shift=day.day, user=day.outgoing, summary="Quiet.")
    url = f"{HANDOVERS}{handover.pk}/transitions/acknowledge/"
    for wrong in (day.before, day.outgoing):
        assert_error(api_as(wrong).post(url, {}, format="json"), 403)
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.WRITTEN
    assert_error(api_as(day.before).post(HANDOVERS, {"shift": day.day.pk, "summary": "Mine?"}, format="json"),
                 403, "not_your_shift")
    assert_error(api_as(day.outgoing).post(HANDOVERS, {"shift": day.day.pk, "summary": "Again"}, format="json"),
                 409, "handover_exists")
    assert_error(api_as(day.outgoing).post(HANDOVERS, {"shift": day.day.pk, "summary": "x", "state": "acknowledged"},
                                           format="json"), 400, "invalid")


def test_department_users_see_no_attendance_and_no_handover(day: DutyDay, api_as: Any) -> None:
    with at(DAY_START):
        shift_check_in(day.day, user=day.outgoing)
    with at(END):
        handover = handover_write(shift=day.day, user=day.outgoing, summary="Quiet.")
    department = api_as(UserFactory(roles=[roles.DEPARTMENT_USER]))
    for url in (ATTENDANCE, f"{ATTENDANCE}{day.day.pk}/", HANDOVERS, f"{HANDOVERS}{handover.pk}/"):
        assert_error(department.get(url), 403)
    with at(DAY_START):
        assert_error(department.post(transition(day.night, "check_in"), {}, format="json"), 403)
    assert Shift.objects.get(pk=day.night.pk).attendance == Attendance.EXPECTED


def test_the_attendance_list_filters_my_shifts(day: DutyDay, api_as: Any) -> None:
    response = api_as(day.outgoing).get(ATTENDANCE, {"mine": "true"})
    assert [row["id"] for row in response.json()["results"]] == [day.day.pk]
    everyone = api_as(day.crew.supervisor).get(ATTENDANCE, {"team": day.crew.team.pk})
    assert everyone.json()["count"] == 3


# --- Query counts -----------------------------------------------------------------------------------------------


def test_log_api_queries_do_not_grow_with_rows(day: DutyDay, api_as: Any, django_assert_num_queries: Any) -> None:
    client = api_as(day.crew.supervisor)
    more_log(day, 2)
    few = count(client, LOG)
    more_log(day, 6, start=10)
    assert count(client, LOG) == few
    # the token and its user, roles, their permissions (2), the page's count and rows (author, shift and team
    # joined), the linked incidents and changes
    with django_assert_num_queries(LOG_API_QUERIES):
        client.get(LOG)


LOG_API_QUERIES = 8


def test_attendance_api_queries_do_not_grow_with_rows(day: DutyDay, api_as: Any,
                                                      django_assert_num_queries: Any) -> None:
    client = api_as(day.crew.supervisor)
    Shift.objects.filter(pk=day.night_before.pk).update(attendance=Attendance.ON_DUTY)
    with at(DAY_START):
        count(client, ATTENDANCE)  # the duty policy is read once, then kept in the cache
        few = count(client, ATTENDANCE)
        for k in range(6):
            later = day.crew.shift(day.roster, day.crew.engineers[k % 3], END + timedelta(hours=12 * (k + 1)))
            if k % 2:  # on duty: whether each may leave is read with the rows
                Shift.objects.filter(pk=later.pk).update(attendance=Attendance.ON_DUTY)
        assert count(client, ATTENDANCE) == few
        # the token and its user, roles, their permissions (2), the page's count and rows (team, person, roster and
        # shift type joined); each row's check-in window reads the cached policy
        with django_assert_num_queries(ATTENDANCE_API_QUERIES):
            client.get(ATTENDANCE)


ATTENDANCE_API_QUERIES = 6


def test_handover_api_queries_do_not_grow_with_items(day: DutyDay, api_as: Any,
                                                     django_assert_num_queries: Any) -> None:
    few, many = day, duty_day("net")
    for d, items in ((few, 1), (many, 8)):
        with at(DAY_START):
            shift_check_in(d.day, user=d.outgoing)
        people = incident_crew(team=d.crew.team)
        for _k in range(items):
            incident_row(IncidentState.HANDLING, crew=people)
    with at(END):
        small = handover_write(shift=few.day, user=few.outgoing, summary="One incident open.")
        large = handover_write(shift=many.day, user=many.outgoing, summary="Eight incidents open.")
    assert (small.items.count(), large.items.count()) == (1, 8)
    client = api_as(day.crew.supervisor)
    assert count(client, f"{HANDOVERS}{small.pk}/") == count(client, f"{HANDOVERS}{large.pk}/")
    # the token and its user, roles, their permissions (2), the handover with its shifts, people and team, its items
    with django_assert_num_queries(HANDOVER_API_QUERIES):
        client.get(f"{HANDOVERS}{large.pk}/")


HANDOVER_API_QUERIES = 6
