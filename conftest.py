"""Fixtures shared by every app's tests, and the rule for tests that need outside services:
they skip on a developer machine without the service, and fail when CI is set."""

import os
import shutil

import pytest
from rest_framework.test import APIClient

from opscenter.core import roles

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def require_service(available: bool, what: str) -> None:
    """Skip without the service on a developer machine; fail in CI, where it must be there."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but is not available", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(autouse=True)
def _empty_cache(settings) -> None:  # noqa: ANN001
    """Every test starts with an empty cache (the test settings keep it in memory): what one test cached, a
    reference list or a session, never changes another's queries."""
    from django.core.cache import cache

    cache.clear()


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    """Browser tests need Debian's Chromium; check once and mark them to skip or fail."""
    for item in items:
        if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
            item.add_marker(pytest.mark.usefixtures("_chromium_missing"))


@pytest.fixture
def _chromium_missing() -> None:
    require_service(False, f"Chromium ({CHROMIUM})")


class FakeDNS:
    """Name resolution without a DNS server: every name resolves to one public address (example.com's at one
    time; nothing connects to it, the tests mock the post), unless `answer(name, address)` says otherwise."""

    PUBLIC_ADDRESS = "93.184.215.14"

    def __init__(self) -> None:
        self.names: list[str] = []
        self.answers: dict[str, list[str]] = {}

    def answer(self, name: str, *addresses: str) -> None:
        self.answers[name] = list(addresses)

    def getaddrinfo(self, host: str, port: int, *args, **kwargs) -> list[tuple]:  # noqa: ANN002, ANN003
        import socket

        self.names.append(host)
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in self.answers.get(host, [self.PUBLIC_ADDRESS])]


@pytest.fixture
def public_dns(monkeypatch) -> FakeDNS:  # noqa: ANN001
    """Every host name resolves to a public address, as a webhook receiver's on the Internet does."""
    import socket

    dns = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns


@pytest.fixture
def policy_defaults(db) -> None:  # noqa: ANN001
    """The rows the data migrations write (roles, incident categories, the priority matrix), written
    again: a transactional test runs after another one's flush, which empties every table."""
    import importlib

    from django.apps import apps

    for module in ("opscenter.core.migrations.0002_roles", "incidents.migrations.0002_defaults",
                   "changes.migrations.0002_defaults", "sla.migrations.0002_defaults",
                   "problems.migrations.0002_policy_and_roles"):
        migration = importlib.import_module(module)
        function = getattr(migration, "create_roles", None) or migration.create_defaults
        function(apps, None)


@pytest.fixture
def make_user(db):  # noqa: ANN001, ANN201
    """make_user(role, …, **fields): a user holding the given roles."""
    from opscenter.core.tests.factories import UserFactory

    def make(*role_names: str, **fields):  # noqa: ANN003, ANN202
        return UserFactory(roles=list(role_names), **fields)

    return make


@pytest.fixture
def supervisor(make_user):  # noqa: ANN001, ANN201
    return make_user(roles.SUPERVISOR, username="sup", is_staff=True)


@pytest.fixture
def api(db) -> APIClient:  # noqa: ANN001
    return APIClient()


@pytest.fixture
def api_as(db):  # noqa: ANN001, ANN201
    """api_as(user): an API client authenticated as the user with a real token."""
    from opscenter.core.tokens import api_token_create

    def client_for(user) -> APIClient:  # noqa: ANN001
        client = APIClient()
        _token, key = api_token_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return client_for


def assert_error(response, status: int, code: str | None = None) -> dict:  # noqa: ANN001
    """The response has the status and the JSON error shape {"code": …, "detail": …}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "detail"}, body
    assert body["detail"], body
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def browser_page(live_server, monkeypatch, policy_defaults):  # noqa: ANN001, ANN201
    """A page of Debian's Chromium (headless, English) on the live server; `page.base_url` is its URL."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15000)
        page.base_url = live_server.url
        yield page
        context.close()
        browser.close()
