"""Sign-in lockout (issue: 40 wrong passwords and the right one still worked): after AXES_FAILURE_LIMIT failures of a
username from an address, the sign-in page, the admin's and the API's token endpoint refuse it, the right password
included; another username or address is not affected; a supervisor unlocks it in the admin; both are log lines."""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.utils import timezone
from knox.models import AuthToken

from conftest import assert_error
from opscenter.core import roles
from opscenter.core.lockout import client_address
from opscenter.core.models import SignInAttempt

pytestmark = pytest.mark.django_db

LIMIT = 3
HERE, ELSEWHERE = "127.0.0.1", "203.0.113.7"


@pytest.fixture(autouse=True)
def _limit(settings) -> None:  # noqa: ANN001
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_MINUTES = 15
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@dataclass(frozen=True)
class EntryPoint:
    name: str
    sign_in: Callable[[Client, str, str], object]
    refused: Callable[[object], bool]  # a wrong password's ordinary answer
    signed_in: Callable[[Client, object], bool]


def _page(path: str) -> Callable[[Client, str, str], object]:
    return lambda client, username, password: client.post(path, {"username": username, "password": password})


def _has_session(client: Client, response: object) -> bool:
    return response.status_code == 302 and SESSION_KEY in client.session  # type: ignore[attr-defined]


ENTRY_POINTS = [
    EntryPoint("sign-in page", _page("/accounts/login/"),
               lambda r: r.status_code == 200 and b"alert-danger" in r.content, _has_session),
    EntryPoint("admin sign-in", _page("/admin/login/"),
               lambda r: r.status_code == 200 and b"errornote" in r.content, _has_session),
    EntryPoint("API token", lambda client, username, password: client.post(
                   "/api/v1/auth/token/", {"username": username, "password": password},
                   content_type="application/json"),
               lambda r: r.status_code == 400 and r.json()["code"] == "invalid",
               lambda client, r: r.status_code == 200 and "token" in r.json()),
]


@pytest.fixture
def lin(make_user):  # noqa: ANN001, ANN201
    return make_user(roles.SUPERVISOR, username="lin", is_staff=True)


def lock_out(entry: EntryPoint, username: str = "lin", address: str = HERE) -> object:
    """Fail LIMIT times from the address; returns the last answer (the one that locks)."""
    client = Client(REMOTE_ADDR=address)
    for _attempt in range(LIMIT - 1):
        assert entry.refused(entry.sign_in(client, username, "wrong"))
    return entry.sign_in(client, username, "wrong")


def assert_locked_out_page(response: object) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    body = response.content.decode()
    assert 'id="error-page"' in body and "Signing in is locked" in body
    assert "locked for 15 minutes" in body and "ask a supervisor to unlock it" in body


def assert_locked_out(entry: EntryPoint, response: object) -> None:
    if entry.name == "API token":
        body = assert_error(response, 429, "locked_out")
        assert "locked for 15 minutes" in body["detail"]
        assert response["Retry-After"] == str(15 * 60)
    else:
        assert_locked_out_page(response)


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda e: e.name)
def test_the_limit_locks_the_username_from_the_address_and_the_right_password_is_refused(entry, lin) -> None:  # noqa: ANN001
    assert_locked_out(entry, lock_out(entry))
    client = Client(REMOTE_ADDR=HERE)
    answer = entry.sign_in(client, "lin", "pw")
    assert_locked_out(entry, answer)
    assert SESSION_KEY not in client.session
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda e: e.name)
def test_another_username_or_address_is_not_affected(entry, lin, make_user) -> None:  # noqa: ANN001
    make_user(roles.SUPERVISOR, username="mei", is_staff=True)
    lock_out(entry)
    for username, address in (("mei", HERE), ("lin", ELSEWHERE)):
        client = Client(REMOTE_ADDR=address)
        assert entry.signed_in(client, entry.sign_in(client, username, "pw")), (username, address)


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda e: e.name)
def test_a_success_before_the_limit_clears_the_failures(entry, lin) -> None:  # noqa: ANN001
    client = Client(REMOTE_ADDR=HERE)
    for _round in range(3):
        for _attempt in range(LIMIT - 1):
            assert entry.refused(entry.sign_in(client, "lin", "wrong"))
        assert entry.signed_in(client, entry.sign_in(client, "lin", "pw"))
        client = Client(REMOTE_ADDR=HERE)


def test_the_lockout_ends_after_the_cool_off(lin) -> None:  # noqa: ANN001
    entry = ENTRY_POINTS[0]
    lock_out(entry)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))  # the failures, 16 minutes ago
    client = Client(REMOTE_ADDR=HERE)
    assert entry.signed_in(client, entry.sign_in(client, "lin", "pw"))


def test_without_a_cool_off_the_lockout_lasts_until_unlocked(settings, lin) -> None:  # noqa: ANN001
    settings.AXES_COOLOFF_TIME = None
    entry = ENTRY_POINTS[0]
    response = lock_out(entry)
    assert response.status_code == 429 and not response.has_header("Retry-After")
    assert "locked until a supervisor unlocks it" in response.content.decode()
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(days=30))
    assert entry.sign_in(Client(REMOTE_ADDR=HERE), "lin", "pw").status_code == 429


def test_the_lockout_page_is_in_the_readers_language(lin) -> None:  # noqa: ANN001
    entry = ENTRY_POINTS[0]
    lock_out(entry)
    client = Client(REMOTE_ADDR=HERE)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    response = entry.sign_in(client, "lin", "pw")
    assert response.status_code == 429
    assert '<html lang="zh-Hant">' in response.content.decode()


# --- The log and the admin -----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda e: e.name)
def test_a_lockout_is_a_log_line(entry, lin, caplog) -> None:  # noqa: ANN001
    with caplog.at_level(logging.WARNING, logger="opscenter.security"):
        lock_out(entry)
    lines = [r.getMessage() for r in caplog.records if r.name == "opscenter.security"]
    path = {"sign-in page": "/accounts/login/", "admin sign-in": "/admin/login/", "API token": "/api/v1/auth/token/"}
    assert lines == [f"Sign-in locked out: username 'lin' from {HERE} on {path[entry.name]}"]


def test_a_supervisor_sees_the_lockout_and_unlocks_it_in_the_admin(lin, make_user, caplog) -> None:  # noqa: ANN001
    entry = ENTRY_POINTS[0]
    lock_out(entry)
    lock_out(entry, username="mei", address=ELSEWHERE)
    boss = make_user(roles.SUPERVISOR, username="boss", is_staff=True)
    admin = Client()
    admin.force_login(boss)

    listing = admin.get("/admin/core/signinattempt/?locked_out=yes")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "lin" in page and "mei" in page and "Locked out until" in page
    assert "post_data" not in page and "wrong" not in page  # what was typed is not shown

    attempt = SignInAttempt.objects.get(username="lin")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="opscenter.security"):
        response = admin.post("/admin/core/signinattempt/", {"action": "unlock", "_selected_action": [attempt.pk]})
    assert response.status_code == 302
    assert [r.getMessage() for r in caplog.records if r.name == "opscenter.security"] == [
        f"Sign-in unlocked: username 'lin' from {HERE}, by boss"]
    assert list(SignInAttempt.objects.values_list("username", flat=True)) == ["mei"]

    client = Client(REMOTE_ADDR=HERE)
    assert entry.signed_in(client, entry.sign_in(client, "lin", "pw"))
    assert entry.sign_in(Client(REMOTE_ADDR=ELSEWHERE), "mei", "pw").status_code == 429  # still locked

    failures = admin.get("/admin/core/signinfailure/?locked_out__exact=1")  # the history outlives the unlock
    assert failures.status_code == 200
    assert AccessFailureLog.objects.filter(username="lin", locked_out=True).exists()


def test_deleting_the_row_in_the_admin_unlocks_too_and_is_logged(lin, make_user, caplog) -> None:  # noqa: ANN001
    lock_out(ENTRY_POINTS[0])
    boss = make_user(roles.SUPERVISOR, username="boss", is_staff=True)
    admin = Client()
    admin.force_login(boss)
    attempt = SignInAttempt.objects.get(username="lin")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="opscenter.security"):
        response = admin.post(f"/admin/core/signinattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SignInAttempt.objects.exists()
    assert [r.getMessage() for r in caplog.records if r.name == "opscenter.security"] == [
        f"Sign-in unlocked: username 'lin' from {HERE}, by boss"]


def test_a_supervisor_reads_failures_but_changes_nothing_else(lin, make_user) -> None:  # noqa: ANN001
    lock_out(ENTRY_POINTS[0])
    attempt = SignInAttempt.objects.get(username="lin")
    admin = Client()
    admin.force_login(make_user(roles.SUPERVISOR, username="boss", is_staff=True))
    assert admin.get(f"/admin/core/signinattempt/{attempt.pk}/change/").status_code == 200  # read-only view
    admin.post(f"/admin/core/signinattempt/{attempt.pk}/change/", {"failures_since_start": 0, "username": "x"})
    attempt.refresh_from_db()
    assert (attempt.username, attempt.failures_since_start) == ("lin", LIMIT)
    assert admin.get("/admin/core/signinattempt/add/").status_code == 403
    failure = AccessFailureLog.objects.filter(username="lin").first()
    assert admin.post(f"/admin/core/signinfailure/{failure.pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("role", [roles.SYSTEM_ENGINEER, roles.CHANGE_APPROVER, roles.AUDITOR])
def test_other_staff_may_not_see_or_unlock(role, lin, make_user) -> None:  # noqa: ANN001
    lock_out(ENTRY_POINTS[0])
    attempt = SignInAttempt.objects.get(username="lin")
    client = Client()
    client.force_login(make_user(role, username="other", is_staff=True))
    assert client.get("/admin/core/signinattempt/").status_code == 403
    assert client.get("/admin/core/signinfailure/").status_code == 403
    client.post("/admin/core/signinattempt/", {"action": "unlock", "_selected_action": [attempt.pk]})
    assert SignInAttempt.objects.filter(pk=attempt.pk).exists()


# --- The address behind proxies ------------------------------------------------------------------------------


@pytest.mark.parametrize(("proxies", "forwarded", "remote", "address"), [
    (0, "198.51.100.1", HERE, HERE),  # no proxy: the header is the client's to write, and ignored
    (1, "198.51.100.1", "10.0.0.2", "198.51.100.1"),  # the TLS proxy appended the client's address
    (1, "6.6.6.6, 198.51.100.1", "10.0.0.2", "198.51.100.1"),  # what the client wrote itself is skipped
    (2, "6.6.6.6, 198.51.100.1, 10.0.0.3", "10.0.0.2", "198.51.100.1"),
    (2, "198.51.100.1", "10.0.0.2", "10.0.0.2"),  # fewer hops than proxies: not through them; the connection's
    (1, "not-an-address", "10.0.0.2", None),
])
def test_the_address_is_the_one_the_outermost_trusted_proxy_saw(settings, proxies, forwarded, remote,  # noqa: ANN001
                                                                 address) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == address


def test_behind_a_proxy_two_clients_are_two_addresses(settings, lin) -> None:  # noqa: ANN001
    settings.TRUSTED_PROXY_COUNT = 1
    entry = ENTRY_POINTS[0]
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _attempt in range(LIMIT):
        entry.sign_in(attacker, "lin", "wrong")
    assert entry.sign_in(attacker, "lin", "pw").status_code == 429
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert entry.signed_in(colleague, entry.sign_in(colleague, "lin", "pw"))


# --- In the browser -------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_locked_out_in_the_browser_and_unlocked_by_a_supervisor(browser_page, make_user) -> None:  # noqa: ANN001
    from django.apps import apps

    from opscenter.core.roles import SIGN_IN_PERMISSIONS, grant_role_permissions

    grant_role_permissions(apps, SIGN_IN_PERMISSIONS)  # the migration's grant, emptied by the flush
    make_user(roles.SYSTEM_ENGINEER, username="lin")
    make_user(roles.SUPERVISOR, username="boss", is_staff=True)
    page = browser_page
    shots = Path(os.environ["LOCKOUT_SCREENSHOTS"]) if os.environ.get("LOCKOUT_SCREENSHOTS") else None

    def sign_in(username: str, password: str, path: str = "/accounts/login/") -> None:
        page.goto(page.base_url + path)
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("#sign-in" if path == "/accounts/login/" else "input[type=submit]")

    for _attempt in range(LIMIT):
        sign_in("lin", "wrong")
    assert page.locator("h1.empty-title").inner_text() == "Signing in is locked"
    if shots:
        page.screenshot(path=str(shots / "locked-out-en.png"), full_page=True)
    page.click("#error-sign-in")
    page.fill("#id_username", "lin")
    page.fill("#id_password", "pw")
    page.click("#sign-in")
    assert page.locator("#error-page").is_visible()  # the right password too

    sign_in("boss", "pw", "/admin/login/")
    page.goto(page.base_url + "/admin/core/signinattempt/")
    assert "Locked out until" in page.locator("#result_list").inner_text()
    if shots:
        page.screenshot(path=str(shots / "admin-failed-sign-ins.png"), full_page=True)
    page.check("#result_list input.action-select")
    page.select_option("select[name=action]", "unlock")
    page.click("button[name=index]")
    assert "1 username and address unlocked." in page.locator(".messagelist").inner_text()
    page.context.clear_cookies()

    sign_in("lin", "pw")
    page.wait_for_url(page.base_url + "/")
