"""The problem API as clients use it: identify, edit the analysis as structure, link and unlink incidents, the
conditions' refusals, action items, raising a change — and bad input answered 400/403/404/409 with nothing changed.
The matrix by state and role, visibility and the list and detail counts are test_generated.py's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import assert_error
from incidents.tests.factories import IncidentFactory, category
from opscenter.core import roles
from opscenter.core.models import FieldChange, TransitionLog
from opscenter.core.tests.factories import UserFactory
from problems.choices import ActionState, FishboneCategory, State
from problems.models import ActionItem, Problem, ProblemIncident
from problems.tests.factories import ActionItemFactory, problem_in_state

pytestmark = pytest.mark.django_db

PROBLEMS = "/api/v1/problems/"
ACTIONS = "/api/v1/problem-actions/"


def url(problem: Problem, suffix: str = "") -> str:
    return f"{PROBLEMS}{problem.pk}/{suffix}"


# --- identify ---------------------------------------------------------------------------------------------


def test_identify_from_incidents(api_as, crew) -> None:  # noqa: ANN001
    first, second = IncidentFactory(), IncidentFactory()
    response = api_as(crew.engineer).post(PROBLEMS, {
        "title": "ERP logins time out", "description": "Mondays at 09:00.", "incidents": [first.pk, second.pk],
        "owner": crew.engineer.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == State.IDENTIFIED and body["source"] == "incidents"
    assert sorted(i["number"] for i in body["incidents"]) == sorted([first.number, second.number])
    assert body["owner"]["id"] == crew.engineer.pk
    assert body["fishbone"] == {category: [] for category in FishboneCategory.values} and body["five_whys"] == []


def test_identify_from_an_alarm(api_as, crew) -> None:  # noqa: ANN001
    client = api_as(crew.manager)
    data = {"title": "Disk fills on erp-db-01", "description": "Alarm every night.", "source": "monitoring"}
    assert_error(client.post(PROBLEMS, data, format="json"), 400, "invalid")
    response = client.post(PROBLEMS, {**data, "source_reference": "Zabbix trigger 4711"}, format="json")
    assert response.status_code == 201 and response.json()["source_reference"] == "Zabbix trigger 4711"


@pytest.mark.parametrize("data", [
    {"description": "no title", "incidents": [1]},
    {"title": "T", "description": "D", "incidents": ["x"]},
    {"title": "T", "description": "D", "incidents": [0]},
    {"title": "T", "description": "D", "incidents": [2**63]},
    {"title": "T", "description": "D", "source": "rumour", "incidents": [1]},
    {"title": "T", "description": "D", "incidents": [1], "state": "closed"},
    {"title": "T", "description": "D", "incidents": [1], "root_cause": "not at identification"},
    {"title": "T", "description": "D", "incidents": [1], "owner": 10**12},
])
def test_bad_identification_is_refused_and_makes_nothing(api_as, crew, data) -> None:  # noqa: ANN001
    IncidentFactory()
    assert_error(api_as(crew.engineer).post(PROBLEMS, data, format="json"), 400, "invalid")
    assert not Problem.objects.exists()


def test_an_incident_the_caller_cannot_see_is_not_found(api_as, crew) -> None:  # noqa: ANN001
    hidden = IncidentFactory(category=category("security"))
    response = api_as(crew.engineer).post(PROBLEMS, {"title": "T", "description": "D", "incidents": [hidden.pk]},
                                          format="json")
    body = assert_error(response, 404, "not_found")
    assert str(hidden.pk) in str(body["detail"]) and hidden.number not in str(body["detail"])
    assert not Problem.objects.exists()


def test_department_users_do_not_read_or_identify_problems(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.IDENTIFIED, crew)
    client = api_as(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert_error(client.get(PROBLEMS), 403, "permission_denied")
    assert_error(client.get(url(problem)), 403, "permission_denied")
    assert_error(client.post(PROBLEMS, {"title": "T", "description": "D", "source": "proactive"}, format="json"),
                 403, "permission_denied")
    assert_error(client.get(ACTIONS), 403, "permission_denied")


# --- the analysis ---------------------------------------------------------------------------------------------


def test_the_analysis_is_written_and_read_as_structure(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    response = api_as(crew.engineer).patch(url(problem), {
        "root_cause": "Shared pool", "fishbone": {"environment": ["Monday peak"], "measurement": ["No pool metric"]},
        "five_whys": [{"why": "Why slow?", "because": "Pool empty"}]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fishbone"]["environment"] == ["Monday peak"] and body["fishbone"]["people"] == []
    assert list(body["fishbone"]) == FishboneCategory.values
    assert body["five_whys"] == [{"why": "Why slow?", "because": "Pool empty"}]


@pytest.mark.parametrize(("payload", "field"), [
    ({"fishbone": {"peple": ["typo"]}}, "fishbone"),
    ({"fishbone": "people: slow"}, "fishbone"),
    ({"five_whys": [{"why": "Why?"}]}, "five_whys"),
    ({"five_whys": [{"because": 3, "why": "w"}]}, "five_whys"),
])
def test_a_malformed_analysis_is_400_naming_the_field(api_as, crew, payload, field) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    records = FieldChange.objects.count()
    body = assert_error(api_as(crew.engineer).patch(url(problem), payload, format="json"), 400, "invalid")
    assert field in body["detail"]
    assert FieldChange.objects.count() == records
    assert Problem.objects.get(pk=problem.pk).fishbone == problem.fishbone


def test_fields_the_state_does_not_allow_are_refused(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.IDENTIFIED, crew)
    body = assert_error(api_as(crew.engineer).patch(url(problem), {"root_cause": "Early"}, format="json"), 400)
    assert "root_cause" in body["detail"]
    body = assert_error(api_as(crew.engineer).patch(url(problem), {"state": "closed"}, format="json"), 400)
    assert "state" in body["detail"]


# --- links ------------------------------------------------------------------------------------------------


def test_link_and_unlink_incidents(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    client = api_as(crew.other_engineer)
    third = IncidentFactory()
    response = client.post(url(problem, "incidents/"), {"incidents": [third.pk, third.pk]}, format="json")
    assert response.status_code == 200 and third.number in [i["number"] for i in response.json()]
    again = client.post(url(problem, "incidents/"), {"incidents": [third.pk]}, format="json")
    assert again.status_code == 200
    assert ProblemIncident.objects.filter(problem=problem, incident=third).count() == 1
    assert client.delete(url(problem, f"incidents/{third.pk}/")).status_code == 204
    assert not ProblemIncident.objects.filter(problem=problem, incident=third).exists()
    timeline = client.get(url(problem, "timeline/")).json()
    linked = [e["detail"] for e in timeline if e["kind"] == "change" and e["detail"]["field"] == "incidents"]
    assert third.number in linked[-2]["new"] and third.number not in linked[-1]["new"]


def test_linking_an_incident_the_caller_cannot_see_is_404_and_changes_nothing(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    hidden = IncidentFactory(category=category("security"))
    client = api_as(crew.engineer)
    assert_error(client.post(url(problem, "incidents/"), {"incidents": [hidden.pk]}, format="json"), 404, "not_found")
    assert_error(client.delete(url(problem, f"incidents/{hidden.pk}/")), 404, "not_found")
    assert_error(client.delete(url(problem, f"incidents/{10**30}/")), 404, "not_found")
    assert problem.incidents.count() == 2
    assert_error(client.post(url(problem, "incidents/"), {"incidents": []}, format="json"), 400, "invalid")
    assert_error(client.post(url(problem, "incidents/"), {"incident": [1]}, format="json"), 400, "invalid")


def test_a_closed_or_cancelled_problem_is_not_edited(api_as, crew) -> None:  # noqa: ANN001
    for state in (State.CLOSED, State.CANCELLED):
        problem = problem_in_state(state, crew, title=f"Finished ({state})")
        assert_error(api_as(crew.manager).patch(url(problem), {"title": "Again"}, format="json"), 409, "read_only")
        assert Problem.objects.get(pk=problem.pk).title == f"Finished ({state})"


def test_duty_officers_and_auditors_only_read(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    for user in (crew.duty, UserFactory(roles=[roles.AUDITOR])):
        client = api_as(user)
        assert client.get(url(problem)).status_code == 200
        assert_error(client.post(url(problem, "incidents/"), {"incidents": [IncidentFactory().pk]}, format="json"),
                     403, "permission_denied")
        assert_error(client.patch(url(problem), {"frequency": "Daily"}, format="json"), 403, "permission_denied")


# --- conditions -------------------------------------------------------------------------------------------


def test_solving_without_a_root_cause_is_409_with_the_reason(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    client = api_as(crew.engineer)
    assert client.post(url(problem, "transitions/analyze/"), {}, format="json").status_code == 200
    logs = TransitionLog.objects.count()
    body = assert_error(client.post(url(problem, "transitions/solve/"), {}, format="json"), 409, "condition_failed")
    assert "root cause" in body["detail"]
    assert TransitionLog.objects.count() == logs
    offered = {t["name"]: t for t in client.get(url(problem, "available-transitions/")).json()}
    assert offered["solve"]["allowed"] is False and "root cause" in offered["solve"]["reason"]


def test_closing_with_open_actions_is_409_with_the_reason(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.UNDER_REVIEW, crew)
    ActionItemFactory(problem=problem, owner=crew.engineer)
    body = assert_error(api_as(crew.manager).post(url(problem, "transitions/approve_report/"), {}, format="json"),
                        409, "condition_failed")
    assert "Every action must be done" in body["detail"]
    assert Problem.objects.get(pk=problem.pk).state == State.UNDER_REVIEW


def test_a_transition_takes_only_its_own_data(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.IDENTIFIED, crew, owner=None)
    client = api_as(crew.manager)
    assert_error(client.post(url(problem, "transitions/investigate/"), {"owner": crew.duty.pk}, format="json"),
                 400, "invalid")
    assert_error(client.post(url(problem, "transitions/investigate/"), {"colour": "red"}, format="json"),
                 400, "invalid")
    assert_error(client.post(url(problem, "transitions/explode/"), {}, format="json"), 400, "unknown_transition")
    response = client.post(url(problem, "transitions/investigate/"), {"owner": crew.engineer.pk}, format="json")
    assert response.status_code == 200 and response.json()["owner"]["id"] == crew.engineer.pk


# --- actions ----------------------------------------------------------------------------------------------


def test_plan_and_work_an_action(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    client = api_as(crew.engineer)
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(ACTIONS, {"problem": problem.pk, "measure": "Alert on pool saturation",
                                     "owner": crew.other_engineer.pk, "due_date": due}, format="json")
    assert response.status_code == 201, response.content
    action = response.json()
    assert (action["state"], action["owner"]["id"], action["due_date"]) == ("open", crew.other_engineer.pk, due)
    other = api_as(crew.other_engineer)
    assert other.post(f"{ACTIONS}{action['id']}/transitions/start/", {}, format="json").json()["state"] == "in_progress"
    done = other.post(f"{ACTIONS}{action['id']}/transitions/complete/", {"result": "Alert live"}, format="json")
    assert done.json()["state"] == "done" and done.json()["result"] == "Alert live"
    detail = client.get(url(problem)).json()
    assert [a["state"] for a in detail["actions"]] == ["done", "done"]


def test_bad_actions_are_refused(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    client = api_as(crew.engineer)
    assert_error(client.post(ACTIONS, {"problem": problem.pk}, format="json"), 400, "invalid")
    assert_error(client.post(ACTIONS, {"problem": problem.pk, "measure": "x", "due_date": "tomorrow"},
                             format="json"), 400, "invalid")
    assert_error(client.post(ACTIONS, {"problem": problem.pk, "measure": "x", "owner": crew.duty.pk},
                             format="json"), 400, "invalid")
    assert_error(api_as(crew.other_engineer).post(ACTIONS, {"problem": problem.pk, "measure": "x"}, format="json"),
                 403, "permission_denied")
    closed = problem_in_state(State.CLOSED, crew)
    assert_error(client.post(ACTIONS, {"problem": closed.pk, "measure": "x"}, format="json"), 409, "read_only")
    action = problem.actions.get()
    assert_error(client.patch(f"{ACTIONS}{action.pk}/", {"measure": "rewrite"}, format="json"), 409, "read_only")
    assert_error(client.post(f"{ACTIONS}{action.pk}/transitions/start/", {}, format="json"), 409, "invalid_state")
    assert ActionItem.objects.filter(problem=problem).count() == 1


def test_overdue_actions_are_listed(api_as, crew, django_assert_num_queries) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    late = ActionItemFactory(problem=problem, owner=crew.engineer, due_date=timezone.localdate() - timedelta(days=1))
    ActionItemFactory(problem=problem, owner=crew.engineer)
    client = api_as(crew.manager)
    rows = client.get(ACTIONS, {"overdue": "true"}).json()["results"]
    assert [(r["id"], r["overdue"]) for r in rows] == [(late.pk, True)]
    assert client.get(PROBLEMS, {"overdue": "true"}).json()["results"][0]["actions_overdue"] == 1
    assert_error(client.get(ACTIONS, {"overdue": "maybe"}), 400, "invalid")
    for _n in range(4):
        ActionItemFactory(problem=problem_in_state(State.ANALYZING, crew), state=ActionState.OPEN)
    # token, permissions (2), roles, the count, the rows with their problems and owners
    with django_assert_num_queries(ACTION_LIST_QUERIES):
        client.get(ACTIONS)


ACTION_LIST_QUERIES = 6


# --- raising a change -------------------------------------------------------------------------------------


def test_raise_a_change(api_as, crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    client = api_as(crew.engineer)
    response = client.post(url(problem, "raise-change/"), {}, format="json")
    assert response.status_code == 201, response.content
    change = response.json()["change"]
    assert change["state"] == "draft"
    assert [c["id"] for c in client.get(url(problem)).json()["changes"]] == [change["id"]]
    on_change = client.get(f"/api/v1/changes/{change['id']}/").json()["problems"]
    assert [p["number"] for p in on_change] == [problem.number]
    assert_error(api_as(crew.other_engineer).post(url(problem, "raise-change/"), {}, format="json"), 403)
    assert_error(client.post(url(problem_in_state(State.IDENTIFIED, crew), "raise-change/"), {}, format="json"),
                 409, "invalid_state")
