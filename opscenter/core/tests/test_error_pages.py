"""The error pages as a person meets them: 403, 404, 500 and a refused form (CSRF) in the site's layout, in
English and 繁體中文, with the status code; the 500 page without a query (the database may be what failed);
the API's errors as JSON; and the log's one line per refused page. A database that cannot be reached (503):
test_database_outage.py."""

import logging
import re

import pytest
from django.db import ProgrammingError, connection
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from opscenter.core import roles
from opscenter.core.models import User

pytestmark = pytest.mark.django_db

CAB_AGENDA = "/changes/cab/"  # CAB members, approvers and supervisors only


def client_for(user: User | None, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.cookies["django_language"] = language
    if user is not None:
        client.force_login(user)
    return client


def in_language(language: str, *messages: str) -> list[str]:
    """The messages as the catalogue gives them in `language` (the words a reader of that language sees)."""
    with translation.override(language):
        return [gettext(message) for message in messages]


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.fixture
def finance(make_user) -> User:  # noqa: ANN001
    return make_user(roles.DEPARTMENT_USER, username="fin", display_name="蔡財務")


LAYOUT_WORDS = {"en": ("en", "My work", "Notifications"), "zh-hant": ("zh-Hant", "我的工作", "通知")}


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_refused_page_is_a_403_in_the_layout_with_the_navigation(finance, language) -> None:  # noqa: ANN001
    response = client_for(finance, language).get(CAB_AGENDA)
    assert response.status_code == 403
    html = response.content.decode()
    lang, my_work, notifications = LAYOUT_WORDS[language]
    assert html_lang(html) == lang
    assert 'id="navbar-menu"' in html and my_work in html and notifications in html and "蔡財務" in html
    assert 'id="error-page"' in html and ">403<" in html
    for words in in_language(language, "You may not open this page", "Back to my work"):
        assert words in html
    assert "403 Forbidden" not in html


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_missing_page_is_a_404_in_the_layout(finance, language) -> None:  # noqa: ANN001
    response = client_for(finance, language).get("/incidents/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    lang, my_work, _notifications = LAYOUT_WORDS[language]
    assert html_lang(html) == lang and 'id="navbar-menu"' in html and my_work in html
    assert ">404<" in html
    for words in in_language(language, "Page not found", "Back to my work"):
        assert words in html


def test_a_missing_page_for_someone_signed_out_has_the_layout_without_navigation(db) -> None:  # noqa: ANN001
    response = client_for(None, "en").get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'id="navbar-menu"' not in html and 'id="language-select"' in html


class DatabaseBroken:
    """An execute wrapper refusing every query as a bug would have it refused (a table missing): a server error,
    not an outage. It keeps what was tried."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        self.tried.append(sql)
        raise ProgrammingError('relation "core_user" does not exist')


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_500_page_renders_after_a_failed_query_without_a_query_of_its_own(finance, language) -> None:  # noqa: ANN001
    client = client_for(finance, language)
    database_broken = DatabaseBroken()
    with connection.execute_wrapper(database_broken):
        response = client.get("/")
    assert response.status_code == 500
    assert len(database_broken.tried) == 1  # reading the signed-in user failed; the error page tried none
    html = response.content.decode()
    assert html_lang(html) == LAYOUT_WORDS[language][0]
    assert 'id="error-page"' in html and ">500<" in html and "OpsCenter" in html
    assert 'id="navbar-menu"' not in html and 'id="language-form"' not in html  # the minimal layout
    for words in in_language(language, "Something went wrong on our side", "Back to my work"):
        assert words in html
    assert "ProgrammingError" not in html and "does not exist" not in html


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_form_sent_with_an_outdated_csrf_token_is_a_403_page_in_the_layout(finance, language) -> None:  # noqa: ANN001
    client = client_for(finance, language)
    client.handler.enforce_csrf_checks = True
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    html = response.content.decode()
    lang, my_work, _notifications = LAYOUT_WORDS[language]
    assert html_lang(html) == lang and 'id="navbar-menu"' in html and my_work in html
    for words in in_language(language, "The form has expired", "Go back"):
        assert words in html
    assert "CSRF verification failed" not in html


def test_the_500_page_itself_makes_no_query(rf, django_assert_num_queries) -> None:  # noqa: ANN001
    from opscenter.core.error_views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/incidents/"))
    assert response.status_code == 500 and b'id="error-page"' in response.content


def test_the_api_answers_its_errors_in_json_not_pages(finance, api_as) -> None:  # noqa: ANN001
    api = api_as(finance)
    missing = api.get("/api/v1/no-such-endpoint/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert missing["Content-Type"].startswith("application/json")

    api.raise_request_exception = False
    with connection.execute_wrapper(DatabaseBroken()):
        failed = api.get("/api/v1/incidents/")
    assert failed.status_code == 500 and failed["Content-Type"].startswith("application/json")
    assert failed.json()["code"] == "server_error" and "relation" not in failed.json()["detail"]


def test_a_refused_page_is_logged_as_one_line_without_a_traceback(finance, caplog) -> None:  # noqa: ANN001
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client_for(finance, "en").get(CAB_AGENDA).status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == [f"Forbidden (Permission denied): {CAB_AGENDA}"]
    assert records[0].exc_info is None
    # Django's own console handler is not there to print it a second time beside the root's.
    assert logging.getLogger("django").handlers == []


def test_a_server_error_keeps_its_traceback_in_the_log(finance, caplog) -> None:  # noqa: ANN001
    client = client_for(finance, "en")
    with caplog.at_level(logging.ERROR, logger="django.request"), connection.execute_wrapper(DatabaseBroken()):
        assert client.get("/").status_code == 500
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None and record.exc_info[0] is ProgrammingError


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_mtta_and_mttr_are_spelled_out_where_the_summary_first_shows_them(make_user, language) -> None:  # noqa: ANN001
    supervisor = make_user(roles.SUPERVISOR, username="sup2")
    html = client_for(supervisor, language).get("/incidents/summary/").content.decode()
    for words in in_language(language, "Mean time to acknowledge (MTTA)", "Mean time to resolve (MTTR)"):
        assert words in html
    assert ">MTTA<" not in html and ">MTTR<" not in html
