"""The known-error API as clients use it: record (from a problem or on its own), edit, publish and retire with the
roles' rules and the conditions' reasons, suggestions, bad input (400 naming the field, 404 for what the caller may
not see, 409 with the reason) and pinned query counts."""

from typing import Any

import pytest

from conftest import assert_error
from incidents.tests.factories import IncidentFactory
from incidents.tests.test_api_schema import FUZZ, _keep_the_test_connection, call_and_check, schema
from opscenter.core import roles
from opscenter.core.models import Service
from opscenter.core.tests.factories import UserFactory
from opscenter.core.tests.real_services import require_postgres
from opscenter.core.tokens import api_token_create
from problems.choices import KnownErrorState, State
from problems.models import KnownError, Problem
from problems.tests.factories import KnownErrorFactory, problem_in_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/known-errors/"
LIST_QUERIES = 6  # the token, the two permission reads, roles, count, the page with its joins
DETAIL_QUERIES = 5  # the token, the two permission reads, roles, the known error with its joins
# The token, the two permission reads, roles; on what the published known errors are recorded, the titles alike and
# the symptoms alike (kept in the cache after the first ask, until a known error changes); the rows: those alike and
# those on the service.
SUGGESTION_QUERIES = 8


def test_record_from_a_problem_then_publish_notes_the_incidents(api_as, crew) -> None:  # noqa: ANN001
    incident = IncidentFactory(title="ERP 登入逾時")
    problem = problem_in_state(State.ANALYZING, crew, incidents=[incident])
    response = api_as(crew.engineer).post(URL, {"problem": problem.pk, "workaround": "Restart the pool."},
                                          format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft" and body["problem"]["number"] == problem.number
    assert body["root_cause"] == problem.root_cause and body["available_transitions"] == []
    manager = api_as(crew.manager)
    assert manager.get(f"{URL}{body['id']}/").json()["available_transitions"] == ["publish", "retire"]
    published = manager.post(f"{URL}{body['id']}/transitions/publish/", {}, format="json")
    assert published.status_code == 200 and published.json()["state"] == "published"
    notes = api_as(crew.engineer).get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
    assert any(e.get("kind") == "comment" and "Restart the pool." in str(e) for e in notes)
    timeline = manager.get(f"{URL}{body['id']}/timeline/").json()
    assert [e["detail"]["transition"] for e in timeline if e["kind"] == "transition"] == ["record", "publish"]


def test_record_on_its_own_needs_title_and_symptom(api_as, crew) -> None:  # noqa: ANN001
    client = api_as(crew.engineer)
    body = assert_error(client.post(URL, {"workaround": "x"}, format="json"), 400, "invalid")
    assert "title" in str(body["detail"]) and "symptom" in str(body["detail"])
    response = client.post(URL, {"title": "印表機卡紙", "symptom": "三樓印表機卡紙"}, format="json")
    assert response.status_code == 201 and response.json()["problem"] is None


@pytest.mark.parametrize(("data", "field"), [
    ({"title": "T", "symptom": "S", "state": "published"}, "state"),
    ({"title": "T", "symptom": "S", "service": "erp"}, "service"),
    ({"title": "T", "symptom": "S", "problem": "x"}, "problem"),
    ({"title": "T", "symptom": "S", "problem": 2**63}, "problem"),
    ({"title": "T" * 201, "symptom": "S"}, "title"),
    ({"title": "T", "symptom": "S", "category": "nope"}, "category"),
])
def test_bad_input_names_the_field_and_records_nothing(api_as, crew, data, field) -> None:  # noqa: ANN001
    body = assert_error(api_as(crew.engineer).post(URL, data, format="json"), 400, "invalid")
    assert field in str(body["detail"])
    assert not KnownError.objects.exists()


def test_a_problem_the_caller_may_not_see_or_not_analysed(api_as, crew) -> None:  # noqa: ANN001
    client = api_as(crew.engineer)
    assert_error(client.post(URL, {"problem": 10**9, "workaround": "x"}, format="json"), 404, "not_found")
    early = problem_in_state(State.INVESTIGATING, crew)
    assert_error(client.post(URL, {"problem": early.pk, "workaround": "x"}, format="json"), 409, "invalid_state")
    assert not KnownError.objects.exists()


def test_publish_refused_with_the_condition_and_the_role(api_as, crew) -> None:  # noqa: ANN001
    ke = KnownErrorFactory(workaround="")
    body = assert_error(api_as(crew.manager).post(f"{URL}{ke.pk}/transitions/publish/", {}, format="json"),
                        409, "condition_failed")
    assert "workaround" in str(body["detail"])
    ke = KnownErrorFactory()
    assert_error(api_as(crew.engineer).post(f"{URL}{ke.pk}/transitions/publish/", {}, format="json"), 403)
    assert_error(api_as(crew.manager).post(f"{URL}{ke.pk}/transitions/retire/", {}, format="json"), 400, "invalid")
    assert_error(api_as(crew.manager).post(f"{URL}{ke.pk}/transitions/nonsense/", {}, format="json"), 400)
    ke.refresh_from_db()
    assert ke.state == KnownErrorState.DRAFT


def test_edit_on_the_timeline_and_retired_is_read_only(api_as, crew) -> None:  # noqa: ANN001
    ke = KnownErrorFactory(state=KnownErrorState.PUBLISHED)
    client = api_as(crew.engineer)
    response = client.patch(f"{URL}{ke.pk}/", {"workaround": "Use the backup portal."}, format="json")
    assert response.status_code == 200 and response.json()["workaround"] == "Use the backup portal."
    assert_error(client.patch(f"{URL}{ke.pk}/", {"state": "draft"}, format="json"), 400, "invalid")
    api_as(crew.manager).post(f"{URL}{ke.pk}/transitions/retire/", {"comment": "Fixed."}, format="json")
    assert_error(client.patch(f"{URL}{ke.pk}/", {"workaround": "x"}, format="json"), 409, "read_only")


@pytest.mark.parametrize("role", [roles.DEPARTMENT_USER])
def test_department_users_may_not_read(api_as, role) -> None:  # noqa: ANN001
    ke = KnownErrorFactory(state=KnownErrorState.PUBLISHED)
    client = api_as(UserFactory(roles=[role]))
    for path in (URL, f"{URL}{ke.pk}/", f"{URL}suggestions/?text=ERP"):
        assert_error(client.get(path), 403)


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.DUTY_OFFICER])
def test_readers_only_read(api_as, role) -> None:  # noqa: ANN001
    ke = KnownErrorFactory()
    client = api_as(UserFactory(roles=[role]))
    assert client.get(f"{URL}{ke.pk}/").status_code == 200
    assert_error(client.post(URL, {"title": "T", "symptom": "S"}, format="json"), 403)
    assert_error(client.patch(f"{URL}{ke.pk}/", {"title": "T"}, format="json"), 403)


def test_list_search_and_filter(api_as, crew) -> None:  # noqa: ANN001
    KnownErrorFactory(title="ERP 系統登入逾時", state=KnownErrorState.PUBLISHED)
    KnownErrorFactory(title="VPN drops")
    client = api_as(crew.engineer)
    assert [r["title"] for r in client.get(URL, {"q": "登入"}).json()["results"]] == ["ERP 系統登入逾時"]
    assert [r["title"] for r in client.get(URL, {"state": "draft"}).json()["results"]] == ["VPN drops"]
    assert_error(client.get(URL, {"state": "nope"}), 400, "invalid")


def test_suggestions_published_only_by_service_and_words(api_as, crew) -> None:  # noqa: ANN001
    service = Service.objects.create(code="erp", name="ERP")
    match = KnownErrorFactory(title="ERP 系統登入逾時", state=KnownErrorState.PUBLISHED)
    on_service = KnownErrorFactory(title="Pool", service=service, state=KnownErrorState.PUBLISHED)
    KnownErrorFactory(title="ERP 系統登入逾時 retired", state=KnownErrorState.RETIRED)
    client = api_as(crew.duty)
    found = client.get(f"{URL}suggestions/", {"text": "ERP 登入逾時", "service": service.pk}).json()
    assert [r["id"] for r in found] == [match.pk, on_service.pk]  # the words first, then the same service
    assert found[0]["workaround"] == match.workaround
    assert_error(client.get(f"{URL}suggestions/", {"service": "erp"}), 400, "invalid")
    assert_error(client.get(f"{URL}suggestions/", {"colour": "red"}), 400, "invalid")


def test_query_counts_do_not_grow_with_rows(api_as, crew, django_assert_num_queries) -> None:  # noqa: ANN001
    service = Service.objects.create(code="erp", name="ERP")
    problem = problem_in_state(State.ANALYZING, crew)
    for n in range(6):
        KnownErrorFactory(title=f"ERP 系統登入逾時 {n}", service=service, problem=problem,
                          state=KnownErrorState.PUBLISHED)
    ke = KnownErrorFactory(problem=problem, service=service)
    client = api_as(crew.manager)
    client.get(URL)  # the client's session and the content types read once
    with django_assert_num_queries(LIST_QUERIES):
        assert len(client.get(URL).json()["results"]) == 7
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get(f"{URL}{ke.pk}/").status_code == 200
    with django_assert_num_queries(SUGGESTION_QUERIES):
        assert len(client.get(f"{URL}suggestions/", {"text": "ERP 登入", "service": service.pk}).json()) == 5
    with django_assert_num_queries(SUGGESTION_QUERIES - 3):
        assert len(client.get(f"{URL}suggestions/", {"text": "ERP 登入", "service": service.pk}).json()) == 5


def test_in_the_openapi_schema(api) -> None:  # noqa: ANN001
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (URL, "/api/v1/known-errors/{id}/", "/api/v1/known-errors/{id}/transitions/{transition}/",
                 "/api/v1/known-errors/suggestions/"):
        assert path in schema["paths"], path
    components = schema["components"]["schemas"]
    assert {"KnownErrorList", "KnownErrorDetail", "KnownErrorSuggestion", "KnownErrorStateEnum"} <= set(components)


# --- requests generated from the schema ---------------------------------------------------------------------



@pytest.fixture
def fuzz_world(crew) -> dict:  # noqa: ANN001
    """A problem manager's token and a draft known error for the generated requests to point at."""
    _token, key = api_token_create(user=crew.manager)
    return {"headers": {"Authorization": f"Token {key}"}, "ids": {URL: KnownErrorFactory().pk}}


@pytest.mark.usefixtures(_keep_the_test_connection.__name__)
@schema.include(path_regex=r"^/api/v1/known-errors/").parametrize()
@FUZZ
def test_known_error_requests_never_answer_a_server_error(case, fuzz_world) -> None:  # noqa: ANN001
    call_and_check(case, fuzz_world)


def test_a_known_error_that_does_not_exist_is_not_found(api_as, crew) -> None:  # noqa: ANN001
    client = api_as(crew.manager)
    for path in (f"{URL}999999/", f"{URL}999999/timeline/"):
        assert_error(client.get(path), 404)
    assert_error(client.post(f"{URL}999999/transitions/publish/", {}, format="json"), 404)
    assert_error(client.patch(f"{URL}999999/", {"title": "T"}, format="json"), 404)


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["/api/v1/known-errors/", "/api/v1/problems/"])
def test_a_nul_in_a_code_looked_up_is_a_400_on_postgresql(api_as: Any, supervisor: Any, path: str) -> None:
    """A category named by its code with a NUL in it reaches PostgreSQL, which cannot compare it: the request is
    refused as invalid (it was a 500), nothing is written."""
    require_postgres()
    before = (KnownError.objects.count(), Problem.objects.count())
    body = assert_error(api_as(supervisor).post(path, {"title": "t", "symptom": "s", "description": "d",
                                                       "category": "soft\x00ware"}, format="json"), 400)
    assert body["code"] == "invalid" and "NUL" in str(body["detail"])
    assert (KnownError.objects.count(), Problem.objects.count()) == before
