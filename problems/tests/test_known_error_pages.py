"""The known-error pages as people use them: the list with its search and tabs, recording from a problem's page
(filled from it) or on its own, editing, publishing and retiring on its page, the suggestions on the incident page
and the report form (JSON as one types) — per role, with refusals, pinned query counts and both languages."""

import pytest

from incidents.tests.factories import IncidentFactory
from opscenter.core import roles
from opscenter.core.caching import renew
from opscenter.core.models import Service
from opscenter.core.testing.pages import html, page_queries, signed_in
from opscenter.core.tests.factories import UserFactory
from problems.choices import KnownErrorState, State
from problems.models import KnownError
from problems.tests.factories import KnownErrorFactory, problem_in_state

pytestmark = pytest.mark.django_db

LIST = "/problems/known-errors/"
NEW = "/problems/known-errors/new/"
SUGGEST = "/problems/known-errors/suggest/"


def url(ke: KnownError, suffix: str = "") -> str:
    return f"{LIST}{ke.pk}/{suffix}"


def test_list_tabs_and_search(crew) -> None:  # noqa: ANN001
    published = KnownErrorFactory(title="ERP 系統登入逾時", state=KnownErrorState.PUBLISHED)
    draft = KnownErrorFactory(title="VPN drops every hour")
    client = signed_in(crew.engineer)
    page = html(client.get(LIST))
    assert published.number in page and draft.number not in page  # the published ones first
    page = html(client.get(LIST, {"queue": "all", "q": "登入"}))
    assert published.number in page and draft.number not in page
    page = html(client.get(LIST, {"queue": "all", "state": "draft"}))
    assert draft.number in page and published.number not in page
    assert f'href="{LIST}"' in html(client.get("/problems/"))  # a tab of the problem pages


def test_department_users_have_no_known_error_pages() -> None:
    ke = KnownErrorFactory(state=KnownErrorState.PUBLISHED)
    client = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert client.get(LIST).status_code == 403
    assert client.get(url(ke)).status_code == 404
    assert client.get(NEW).status_code == 403
    assert client.get(SUGGEST, {"text": "ERP"}).status_code == 403


def test_record_from_the_problem_page_then_publish_and_retire(crew) -> None:  # noqa: ANN001
    incident = IncidentFactory(title="ERP 登入逾時")
    problem = problem_in_state(State.SOLVING, crew, incidents=[incident])
    engineer = signed_in(crew.engineer)
    page = html(engineer.get(f"/problems/{problem.pk}/"))
    assert f"{NEW}?problem={problem.pk}" in page  # "Record a known error"
    form = html(engineer.get(NEW, {"problem": problem.pk}))
    assert problem.root_cause in form and problem.number in form
    response = engineer.post(f"{NEW}?problem={problem.pk}", {
        "title": problem.title, "symptom": "ERP 系統登入逾時", "root_cause": problem.root_cause,
        "workaround": "重新啟動 ERP 連線池。"})
    assert response.status_code == 302, html(response)
    ke = KnownError.objects.get()
    assert ke.problem == problem and ke.state == KnownErrorState.DRAFT
    page = html(engineer.get(url(ke)))
    assert 'id="transition-publish"' not in page or "transition-blocked" in page  # engineers do not publish
    manager = signed_in(crew.manager)
    response = manager.post(url(ke, "transitions/publish/"), {"publish-confirm": "on"})
    assert response.status_code == 302
    ke.refresh_from_db()
    assert ke.state == KnownErrorState.PUBLISHED
    assert "重新啟動 ERP 連線池。" in html(engineer.get(f"/incidents/{incident.pk}/"))
    response = manager.post(url(ke, "transitions/retire/"), {})
    assert response.status_code == 400  # the reason is required
    response = manager.post(url(ke, "transitions/retire/"), {"retire-comment": "The root cause is removed."})
    assert response.status_code == 302
    page = html(engineer.get(url(ke)))
    assert 'id="read-only-notice"' in page and 'id="edit-known-error"' not in page


def test_record_on_its_own_and_edit(crew) -> None:  # noqa: ANN001
    client = signed_in(crew.engineer)
    response = client.post(NEW, {"title": "印表機卡紙", "symptom": ""})
    assert response.status_code == 400 and 'id="form-errors"' in html(response)
    response = client.post(NEW, {"title": "印表機卡紙", "symptom": "三樓印表機卡紙", "workaround": "取出紙匣。"})
    ke = KnownError.objects.get()
    assert response.status_code == 302 and ke.problem is None
    response = client.post(url(ke, "edit/"), {"title": "印表機卡紙", "symptom": "三樓印表機卡紙",
                                             "workaround": "取出紙匣，重新放紙。"})
    assert response.status_code == 302
    ke.refresh_from_db()
    assert ke.workaround == "取出紙匣，重新放紙。"
    assert signed_in(UserFactory(roles=[roles.AUDITOR])).get(url(ke, "edit/")).status_code == 403


def test_not_recorded_from_a_problem_before_its_analysis_nor_an_invisible_one(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    client = signed_in(crew.engineer)
    assert client.get(NEW, {"problem": problem.pk}).status_code == 302  # back to the problem, with the reason
    assert f"{NEW}?problem={problem.pk}" not in html(client.get(f"/problems/{problem.pk}/"))
    assert client.get(NEW, {"problem": 10**9}).status_code == 404
    assert client.get(NEW, {"problem": "x"}).status_code == 404
    assert client.get(url(KnownError(pk=10**9))).status_code == 404


def test_the_incident_page_suggests_published_known_errors_only(crew) -> None:  # noqa: ANN001
    service = Service.objects.create(code="erp", name="ERP")
    incident = IncidentFactory(title="ERP 登入逾時", service=service)
    published = KnownErrorFactory(title="ERP 系統登入逾時", state=KnownErrorState.PUBLISHED)
    retired = KnownErrorFactory(title="ERP 舊問題", service=service, state=KnownErrorState.RETIRED)
    draft = KnownErrorFactory(title="ERP 草稿", service=service)
    page = html(signed_in(crew.duty).get(f"/incidents/{incident.pk}/"))
    assert 'id="known-error-suggestions"' in page and published.number in page
    assert retired.number not in page and draft.number not in page
    caller = UserFactory(roles=[roles.DEPARTMENT_USER])
    assert "known-error-suggestions" not in html(signed_in(caller).get(f"/incidents/{incident.pk}/"))


def test_the_incident_pages_suggestions_cost_the_same_queries_however_many(crew) -> None:  # noqa: ANN001
    service = Service.objects.create(code="erp", name="ERP")
    incident = IncidentFactory(title="ERP 登入逾時", service=service)
    KnownErrorFactory(title="ERP 系統登入逾時", workaround="Restart the pool.", state=KnownErrorState.PUBLISHED)
    client = signed_in(crew.duty)
    client.get(f"/incidents/{incident.pk}/")
    one = page_queries(client, f"/incidents/{incident.pk}/")
    for n in range(4):
        KnownErrorFactory(title=f"ERP pool {n}", service=service, workaround=f"Step {n}.",
                          state=KnownErrorState.PUBLISHED)
    client.get(f"/incidents/{incident.pk}/")  # the known errors changed: which are alike is asked again once
    page = html(client.get(f"/incidents/{incident.pk}/"))
    assert page.count('class="list-group-item suggested-known-error"') == 5 and "Step 3." in page
    assert page_queries(client, f"/incidents/{incident.pk}/") == one


def test_the_report_form_asks_for_suggestions_as_one_types(crew) -> None:  # noqa: ANN001
    service = Service.objects.create(code="erp", name="ERP")
    match = KnownErrorFactory(title="ERP 系統登入逾時", state=KnownErrorState.PUBLISHED)
    on_service = KnownErrorFactory(title="Pool", service=service, state=KnownErrorState.PUBLISHED)
    KnownErrorFactory(title="ERP 系統登入逾時", state=KnownErrorState.RETIRED)
    client = signed_in(crew.duty)
    page = html(client.get("/incidents/report/"))
    assert f'data-suggest-url="{SUGGEST}"' in page and "js/known-error-suggest.js" in page
    assert "cdn" not in page.lower()
    found = client.get(SUGGEST, {"text": "ERP 登入逾時", "service": service.pk}).json()["results"]
    assert [r["number"] for r in found] == [match.number, on_service.number]  # the words first, then the service
    assert found[0]["workaround"] == match.workaround and found[0]["url"] == url(match)
    assert client.get(SUGGEST, {"service": "x", "text": ""}).json() == {"results": []}  # nothing asked, nothing found
    department = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert "known-error-panel" not in html(department.get("/incidents/report/"))


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_pages_render_in_both_languages(crew, language: str) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    ke = KnownErrorFactory(problem=problem, state=KnownErrorState.PUBLISHED)
    client = signed_in(crew.manager, language)
    for path in (LIST, f"{LIST}?queue=all", url(ke), url(ke, "edit/"), NEW, f"{NEW}?problem={problem.pk}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert ke.number in html(response) or path.startswith(NEW)


# --- query counts -------------------------------------------------------------------------------------------


def test_list_and_detail_query_counts_do_not_grow(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    from opscenter.core.services import comment_add

    problem = problem_in_state(State.ANALYZING, crew)
    service = Service.objects.create(code="erp", name="ERP")
    ke = KnownErrorFactory(problem=problem, service=service, state=KnownErrorState.PUBLISHED)
    client = signed_in(crew.manager)
    client.get(LIST)
    client.get(url(ke))  # the process's first timeline loads the known error's content type once
    few = page_queries(client, LIST, {"queue": "all"})
    short = page_queries(client, url(ke))
    suggest = page_queries(client, SUGGEST, {"text": "ERP", "service": service.pk})
    for n in range(6):
        KnownErrorFactory(problem=problem, service=service, state=KnownErrorState.PUBLISHED, title=f"ERP {n}")
        comment_add(ke, user=crew.manager, body=f"note {n}")
    assert page_queries(client, LIST, {"queue": "all"}) == few
    assert page_queries(client, url(ke)) == short
    assert page_queries(client, SUGGEST, {"text": "ERP", "service": service.pk}) == suggest
    with django_assert_num_queries(LIST_QUERIES):
        client.get(LIST, {"queue": "all"})
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(url(ke))
    with django_assert_num_queries(SUGGEST_QUERIES):
        client.get(SUGGEST, {"text": "ERP", "service": service.pk})
    renew(KnownError)  # a known error was edited: the words are matched again
    with django_assert_num_queries(SUGGEST_QUERIES + 3):
        client.get(SUGGEST, {"text": "ERP", "service": service.pk})


# The user (the session comes from the cache), their roles, the unread count, the service choices of the filter bar,
# the count, the rows (joined with service, CI, category and problem).
LIST_QUERIES = 6
# The user, roles, the unread count, the known error (joined with its references and author), the timeline (1: the
# core_timeline view).
DETAIL_QUERIES = 5
# The user, roles; the known errors alike to the words or on the service (joined with service and CI). Which are
# alike, and on what the published ones are recorded, is kept in the cache until a known error changes; then those
# are asked again: the scopes, the titles alike and the symptoms alike.
SUGGEST_QUERIES = 3
