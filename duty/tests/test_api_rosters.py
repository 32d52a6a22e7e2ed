"""The roster API beyond the generated matrix: generating, findings and their acceptance, single assignments and
their refusals (400 with a JSON code and detail, nothing changed), who reads what, who is on duty, and query
counts that do not grow with rows."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import assert_error
from duty.choices import FindingKind, RosterState
from duty.models import Roster, Shift
from duty.tests.factories import duty_crew, four_engineers, policy, rotation_of
from opscenter.core import roles
from opscenter.core.models import TransitionLog
from opscenter.core.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

TAIPEI = ZoneInfo("Asia/Taipei")
ROSTERS, SHIFTS, ON_DUTY = "/api/v1/duty/rosters/", "/api/v1/duty/shifts/", "/api/v1/duty/on-duty/"
SHIFT_LIST_QUERIES = 7
ON_DUTY_QUERIES = 6
ROSTER_DETAIL_QUERIES = 8


@pytest.fixture
def crew():  # noqa: ANN201
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    crew.first = timezone.localdate(timezone=TAIPEI) + timedelta(days=10)
    crew.rotation = rotation_of(crew, four_engineers(crew), starts_on=crew.first)
    return crew


def generate(api_as: Any, crew: Any, days: int = 4, **extra: Any) -> Any:
    return api_as(crew.supervisor).post(ROSTERS, {
        "team": crew.team.pk, "first_day": crew.first.isoformat(),
        "last_day": (crew.first + timedelta(days=days - 1)).isoformat(), **extra}, format="json")


def shift_rows() -> list:
    return sorted(Shift.objects.values_list("pk", "user_id", "role", "start", "end"))


# --- Rosters ------------------------------------------------------------------------------------------------


def test_a_supervisor_generates_a_roster_and_reads_its_shifts_in_the_policys_zone(api_as, crew) -> None:  # noqa: ANN001
    response = generate(api_as, crew)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["open_findings"], body["findings"]) == ("draft", 0, [])
    assert body["available_transitions"] == ["publish"]
    assert len(body["shifts"]) == 8 and body["shift_count"] == 8
    first = body["shifts"][0]
    assert first["start"] == f"{crew.first.isoformat()}T08:00:00+08:00"
    assert (first["role"], first["role_label"], first["shift_type"]["code"]) == (
        roles.SYSTEM_ENGINEER, "System engineer", "day")
    assert TransitionLog.objects.filter(object_id=body["id"], transition="create").exists()


def test_findings_are_listed_block_publishing_and_are_accepted_through_the_transition(api_as, crew) -> None:  # noqa: ANN001
    crew.rotation.members.filter(position=3).delete()
    body = generate(api_as, crew).json()
    assert body["open_findings"] == 2
    assert {f["kind"] for f in body["findings"]} == {FindingKind.GAP}
    gap_from = f"{crew.first + timedelta(days=1)} 08:00"
    assert body["findings"][0]["text"].startswith(f"System engineer: 0 of 1 on duty from {gap_from}")
    client = api_as(crew.supervisor)
    url = f"{ROSTERS}{body['id']}/transitions/"
    assert_error(client.post(url + "publish/", {}, format="json"), 409, "condition_failed")
    assert_error(client.post(url + "accept_findings/", {}, format="json"), 400, "invalid")
    assert_error(client.post(url + "accept_findings/", {"note": "ok", "accepted": []}, format="json"), 400)
    accepted = client.post(url + "accept_findings/", {"note": "Overtime agreed with the team."}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["findings_note"], accepted.json()["findings_accepted_by"]["username"]) == (
        "Overtime agreed with the team.", crew.supervisor.username)
    assert accepted.json()["available_transitions"] == ["publish"]
    published = client.post(url + "publish/", {}, format="json")
    assert published.status_code == 200 and published.json()["state"] == RosterState.PUBLISHED
    assert_error(client.post(url + "withdraw/", {}, format="json"), 400, "invalid")  # says why


@pytest.mark.parametrize(("change", "code"), [
    ({"team": 999999}, "invalid"),
    ({"team": "system"}, "invalid"),
    ({"last_day": "2026-01-01"}, "end_before_start"),
    ({"days": 93}, "period_too_long"),
    ({"state": "published"}, "invalid"),
    ({"rotations": [999999]}, "invalid"),
])
def test_bad_input_to_generate_is_a_400_and_makes_nothing(api_as, crew, change, code) -> None:  # noqa: ANN001
    days = change.pop("days", 4)
    assert_error(generate(api_as, crew, days=days, **change), 400, code)
    assert not Roster.objects.exists() and not Shift.objects.exists()


def test_a_second_roster_over_the_same_days_is_refused(api_as, crew) -> None:  # noqa: ANN001
    assert generate(api_as, crew).status_code == 201
    before = shift_rows()
    assert_error(generate(api_as, crew, days=2), 400, "period_taken")
    assert shift_rows() == before and Roster.objects.count() == 1


def test_engineers_read_rosters_but_neither_generate_nor_publish(api_as, crew) -> None:  # noqa: ANN001
    roster_id = generate(api_as, crew).json()["id"]
    engineer = api_as(crew.engineers[0])
    assert engineer.get(ROSTERS).json()["count"] == 1
    assert engineer.get(f"{ROSTERS}{roster_id}/").json()["available_transitions"] == []
    assert_error(engineer.post(ROSTERS, {"team": crew.team.pk, "first_day": "2027-01-01", "last_day": "2027-01-02"},
                               format="json"), 403)
    assert_error(engineer.post(f"{ROSTERS}{roster_id}/transitions/publish/", {}, format="json"), 403)
    assert_error(engineer.post(f"{ROSTERS}{roster_id}/regenerate/", {}, format="json"), 403)
    assert Roster.objects.get().state == RosterState.DRAFT


@pytest.mark.parametrize("path", [ROSTERS, SHIFTS, ON_DUTY])
def test_department_users_are_refused_every_duty_endpoint(api_as, crew, path) -> None:  # noqa: ANN001
    generate(api_as, crew)
    user = UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory())
    assert_error(api_as(user).get(path), 403, "permission_denied")


def test_regenerate_remakes_the_draft_from_the_rotation_as_it_is_now(api_as, crew) -> None:  # noqa: ANN001
    roster_id = generate(api_as, crew).json()["id"]
    crew.rotation.pattern = ["night", "off", "day", "off"]
    crew.rotation.save()
    response = api_as(crew.supervisor).post(f"{ROSTERS}{roster_id}/regenerate/", {}, format="json")
    assert response.status_code == 200, response.content
    first = response.json()["shifts"][0]
    assert first["start"].endswith("T08:00:00+08:00") and first["user"]["id"] == crew.engineers[2].pk


def test_roster_detail_queries_do_not_grow_with_its_shifts(api_as, crew, django_assert_num_queries) -> None:  # noqa: ANN001
    short = generate(api_as, crew, days=2).json()["id"]
    crew.first += timedelta(days=2)
    long = generate(api_as, crew, days=20).json()["id"]
    client = api_as(crew.supervisor)
    for roster_id in (short, long):
        with django_assert_num_queries(ROSTER_DETAIL_QUERIES):
            assert client.get(f"{ROSTERS}{roster_id}/").status_code == 200


# --- Shifts -------------------------------------------------------------------------------------------------


@pytest.fixture
def draft(api_as, crew) -> dict:  # noqa: ANN001
    return generate(api_as, crew).json()


def test_shifts_are_listed_by_team_person_and_time(api_as, crew, draft) -> None:  # noqa: ANN001
    client = api_as(crew.engineers[1])
    assert client.get(SHIFTS, {"team": crew.team.pk}).json()["count"] == 8
    mine = client.get(SHIFTS, {"person": crew.engineers[0].pk}).json()["results"]
    assert [s["user"]["username"] for s in mine] == [crew.engineers[0].username] * 2  # a day and a night
    day = crew.first + timedelta(days=1)
    on_day = client.get(SHIFTS, {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}).json()
    # The night before (until 08:00), the day and the night of the day.
    assert on_day["count"] == 3
    at_noon = client.get(SHIFTS, {"from": f"{day}T12:00", "to": f"{day}T12:01"}).json()["results"]
    assert [s["start"] for s in at_noon] == [f"{day}T08:00:00+08:00"]
    assert_error(client.get(SHIFTS, {"from": "yesterday"}), 400, "invalid")
    assert_error(client.get(SHIFTS, {"team": 2**63}), 400, "invalid")


def test_a_supervisor_adds_changes_and_removes_a_shift(api_as, crew, draft) -> None:  # noqa: ANN001
    client = api_as(crew.supervisor)
    helper = UserFactory(username="helper", roles=[roles.SYSTEM_ENGINEER])
    start = datetime.combine(crew.first, datetime.min.time(), TAIPEI) + timedelta(hours=9)
    created = client.post(SHIFTS, {"roster": draft["id"], "user": helper.pk, "role": roles.SYSTEM_ENGINEER,
                                   "start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat()},
                          format="json")
    assert created.status_code == 201, created.content
    shift_id = created.json()["id"]
    assert created.json()["start"] == f"{crew.first}T09:00:00+08:00" and created.json()["shift_type"] is None
    changed = client.patch(f"{SHIFTS}{shift_id}/", {"end": (start + timedelta(hours=6)).isoformat()}, format="json")
    assert changed.status_code == 200 and changed.json()["end"] == f"{crew.first}T15:00:00+08:00"
    assert client.delete(f"{SHIFTS}{shift_id}/").status_code == 204
    assert not Shift.objects.filter(pk=shift_id).exists()


def test_bad_shift_input_is_a_400_with_a_code_and_changes_nothing(api_as, crew, draft) -> None:  # noqa: ANN001
    client = api_as(crew.supervisor)
    first = draft["shifts"][0]
    before = shift_rows()
    overlapping = {"roster": draft["id"], "user": first["user"]["id"], "role": roles.SYSTEM_ENGINEER,
                   "start": first["start"], "end": first["end"]}
    body = assert_error(client.post(SHIFTS, overlapping, format="json"), 400, "overlap")
    assert "two shifts at once" in str(body["detail"])
    assert_error(client.patch(f"{SHIFTS}{first['id']}/", {"end": first["start"]}, format="json"), 400,
                 "end_before_start")
    assert_error(client.patch(f"{SHIFTS}{first['id']}/", {"user": crew.duty.pk}, format="json"), 400,
                 "not_qualified")
    assert_error(client.patch(f"{SHIFTS}{first['id']}/", {"roster": draft["id"]}, format="json"), 400, "invalid")
    assert_error(client.patch(f"{SHIFTS}{first['id']}/", {"start": "soon"}, format="json"), 400, "invalid")
    assert_error(client.post(SHIFTS, {**overlapping, "roster": 999999}, format="json"), 400, "invalid")
    assert shift_rows() == before


def test_engineers_and_auditors_read_shifts_but_never_write_them(api_as, crew, draft) -> None:  # noqa: ANN001
    first = draft["shifts"][0]
    for user in (crew.engineers[0], UserFactory(roles=[roles.AUDITOR])):
        client = api_as(user)
        assert client.get(f"{SHIFTS}{first['id']}/").status_code == 200
        assert_error(client.patch(f"{SHIFTS}{first['id']}/", {"user": user.pk}, format="json"), 403)
        assert_error(client.delete(f"{SHIFTS}{first['id']}/"), 403)
    assert Shift.objects.count() == 8


def test_a_published_rosters_shifts_are_not_edited_until_it_is_withdrawn(api_as, crew, draft) -> None:  # noqa: ANN001
    client = api_as(crew.supervisor)
    assert client.post(f"{ROSTERS}{draft['id']}/transitions/publish/", {}, format="json").status_code == 200
    first = draft["shifts"][0]
    assert_error(client.delete(f"{SHIFTS}{first['id']}/"), 409, "published")
    assert_error(client.post(f"{ROSTERS}{draft['id']}/regenerate/", {}, format="json"), 409, "published")
    assert Shift.objects.count() == 8


def _count(client: Any, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params or {}).status_code == 200
    return len(queries.captured_queries)


def test_the_shift_list_costs_the_same_whatever_its_rows(api_as, crew, draft, django_assert_num_queries) -> None:  # noqa: ANN001
    client = api_as(crew.engineers[0])
    few = _count(client, SHIFTS, {"page_size": 100})
    crew.first += timedelta(days=4)
    generate(api_as, crew, days=10)
    assert _count(client, SHIFTS, {"page_size": 100}) == few
    with django_assert_num_queries(SHIFT_LIST_QUERIES):
        client.get(SHIFTS, {"page_size": 100, "team": crew.team.pk})


# --- Who is on duty -----------------------------------------------------------------------------------------


def _on_duty_now(crew: Any) -> Any:
    today = timezone.localdate(timezone=TAIPEI)
    roster = crew.published_roster(today - timedelta(days=1), today + timedelta(days=1))
    now = timezone.now()
    return (crew.shift(roster, crew.engineers[0], now - timedelta(hours=3)),
            crew.shift(roster, crew.engineers[1], now + timedelta(hours=9)))


def test_on_duty_answers_who_is_on_duty_now_and_next_by_team(api_as, crew) -> None:  # noqa: ANN001
    current, following = _on_duty_now(crew)
    other = duty_crew("net")
    client = api_as(crew.duty)
    everyone = client.get(ON_DUTY).json()
    assert [t["team"]["code"] for t in everyone["teams"]] == ["net", "sys"]
    response = client.get(ON_DUTY, {"team": crew.team.code})
    assert response.status_code == 200
    [team] = response.json()["teams"]
    assert [s["user"]["username"] for s in team["now"]] == [crew.engineers[0].username]
    assert [s["user"]["username"] for s in team["next"]] == [crew.engineers[1].username]
    assert client.get(ON_DUTY, {"team": crew.team.pk}).json()["teams"] == response.json()["teams"]
    later = client.get(ON_DUTY, {"team": crew.team.pk, "at": following.start.isoformat()}).json()["teams"][0]
    assert [s["id"] for s in later["now"]] == [following.pk]
    assert client.get(ON_DUTY, {"team": other.team.code}).json()["teams"][0]["now"] == []
    assert_error(client.get(ON_DUTY, {"team": "nowhere"}), 400, "invalid")
    assert_error(client.get(ON_DUTY, {"team": str(2**64)}), 400, "invalid")
    assert_error(client.get(ON_DUTY, {"at": "noon"}), 400, "invalid")


def test_on_duty_costs_the_same_whatever_the_teams_and_shifts(api_as, crew, django_assert_num_queries) -> None:  # noqa: ANN001
    _on_duty_now(crew)
    client = api_as(crew.duty)
    _count(client, ON_DUTY)  # the first request reads the duty policy into the cache
    few = _count(client, ON_DUTY)
    for code in ("net", "desk", "sec"):
        other = duty_crew(code)
        _on_duty_now(other)
    assert _count(client, ON_DUTY) == few
    with django_assert_num_queries(ON_DUTY_QUERIES):
        client.get(ON_DUTY)  # the token, the roles and permissions, the teams, now and next (the policy: cached)
