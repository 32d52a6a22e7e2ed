"""A database that cannot be reached answers 503, not 500: the API in its JSON error shape, pages, sign-in and
the token endpoint with a plain page in the reader's language, each with Retry-After; and the next request after
the database is back is answered as usual, without a restart. A query's own failure stays a 500."""

import socket
import sqlite3

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from conftest import assert_error
from opscenter.core import roles
from opscenter.core.error_views import RETRY_AFTER_SECONDS, database_unavailable
from opscenter.core.models import User
from opscenter.core.tests.real_services import require_postgres

PASSWORD = "s3cret-enough"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_error() -> Exception:
    """The driver's own error for a database server that cannot be reached (a connection refused)."""
    if connection.vendor == "postgresql":
        import psycopg

        try:
            psycopg.connect(host="127.0.0.1", port=closed_port(), user="opscenter", connect_timeout=2)
        except psycopg.OperationalError as exc:
            return exc
    try:
        sqlite3.connect("file:/nonexistent/opscenter.sqlite3?mode=rw", uri=True)
    except sqlite3.OperationalError as exc:
        return exc
    raise AssertionError("the unreachable database was reached")


class DatabaseDown:
    """An execute wrapper failing every query as an unreachable server does: Django's OperationalError raised
    from the driver's own. It keeps what was tried."""

    def __init__(self) -> None:
        self.tried: list[str] = []
        self.cause = unreachable_error()

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        self.tried.append(sql)
        raise OperationalError(str(self.cause)) from self.cause


@pytest.fixture
def engineer(make_user) -> User:  # noqa: ANN001
    user = make_user(roles.SYSTEM_ENGINEER, username="eng", display_name="林工程師")
    user.set_password(PASSWORD)
    user.save()
    return user


def page_client(user: User | None = None, language: str = "en") -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def api_client(user: User) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def asks_to_retry(response) -> None:  # noqa: ANN001
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


# Each request as a person or a client sends it, its client ready (signed in) before the outage: how it is sent,
# what it is (the API or a page) and its answer once the database is back.
def a_page(engineer: User):  # noqa: ANN201
    client = page_client(engineer)
    return lambda: client.get("/incidents/")


def an_api_endpoint(engineer: User):  # noqa: ANN201
    client = api_client(engineer)
    return lambda: client.get("/api/v1/incidents/")


def sign_in(engineer: User):  # noqa: ANN201
    client = page_client()
    return lambda: client.post("/accounts/login/", {"username": engineer.username, "password": PASSWORD})


def the_token_endpoint(engineer: User):  # noqa: ANN201
    client = APIClient(raise_request_exception=False)
    return lambda: client.post("/api/v1/auth/token/", {"username": engineer.username, "password": PASSWORD},
                               format="json")


REQUESTS = [(a_page, "page", 200), (an_api_endpoint, "api", 200), (sign_in, "page", 302),
            (the_token_endpoint, "api", 200)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("policy_defaults")
@pytest.mark.parametrize(("request_of", "kind", "status"), REQUESTS, ids=[r[0].__name__ for r in REQUESTS])
def test_an_outage_answers_503_then_the_next_request_is_answered(engineer, request_of, kind, status) -> None:  # noqa: ANN001
    send = request_of(engineer)
    database_down = DatabaseDown()
    with connection.execute_wrapper(database_down):
        response = send()
    asks_to_retry(response)
    assert database_down.tried  # the request met the outage; its answer tried no query of its own
    if kind == "api":
        body = assert_error(response, 503, "service_unavailable")
        assert "OperationalError" not in body["detail"] and "open database" not in body["detail"]
    else:
        html = response.content.decode()
        assert response["Content-Type"].startswith("text/html")
        assert 'id="error-page"' in html and ">503<" in html and "OpsCenter is unavailable for a moment" in html
        assert 'id="navbar-menu"' not in html and "Server Error" not in html and "OperationalError" not in html
    assert send().status_code == status  # the database is back: no restart


@pytest.mark.django_db
def test_the_503_answers_are_in_the_readers_language(engineer) -> None:  # noqa: ANN001
    pages = page_client(language="zh-hant")
    api = APIClient(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hant")
    with connection.execute_wrapper(DatabaseDown()):
        page = pages.post("/accounts/login/", {"username": "eng", "password": "x"})
        api = api.post("/api/v1/auth/token/", {"username": "eng", "password": "x"}, format="json")
    asks_to_retry(page)
    asks_to_retry(api)
    html = page.content.decode()
    assert '<html lang="zh-Hant">' in html and ">503<" in html
    with translation.override("zh-hant"):
        for words in (gettext("OpsCenter is unavailable for a moment"), gettext("Try again")):
            assert words in html
        assert assert_error(api, 503, "service_unavailable")["detail"] == gettext(
            "The service is unavailable for a moment: its database cannot be reached. Try again shortly.")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/incidents/", "/api/v1/incidents/"])
def test_the_503_answer_itself_makes_no_query(rf, django_assert_num_queries, path) -> None:  # noqa: ANN001
    from opscenter.core.error_views import service_unavailable

    with django_assert_num_queries(0):
        response = service_unavailable(rf.get(path))
    asks_to_retry(response)


def test_only_connection_failures_are_outages() -> None:
    import psycopg

    def wrapped(cause: Exception) -> OperationalError:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as exc:
            return exc

    assert database_unavailable(wrapped(unreachable_error()))
    assert database_unavailable(wrapped(psycopg.errors.AdminShutdown("terminating connection")))
    assert database_unavailable(wrapped(psycopg.errors.TooManyConnections("too many clients")))
    assert not database_unavailable(wrapped(psycopg.errors.DeadlockDetected("deadlock detected")))
    assert not database_unavailable(wrapped(psycopg.errors.QueryCanceled("statement timeout")))
    try:
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")
    except sqlite3.OperationalError as missing_table:
        assert not database_unavailable(wrapped(missing_table))
    assert not database_unavailable(ValueError("no database here"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("policy_defaults")
def test_a_connection_killed_by_the_server_answers_503_and_the_next_request_reconnects(engineer) -> None:  # noqa: ANN001
    """The real thing on PostgreSQL: the server ends the application's connection (a restart, a failover)."""
    require_postgres()
    import psycopg

    client = page_client(engineer)
    assert client.get("/incidents/").status_code == 200
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                         password=settings["PASSWORD"], dbname=settings["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    asks_to_retry(client.get("/incidents/"))
    # What Django's WSGI handler does when a request ends (the test client leaves it out): a connection that
    # failed and no longer answers is closed, so that the next request opens a new one.
    close_old_connections()
    assert client.get("/incidents/").status_code == 200
