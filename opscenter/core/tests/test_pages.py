"""The kernel's pages as a person uses them: sign in and out, languages, the role home page,
notifications, the admin, the roles' permissions, health, and query counts that do not grow."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opscenter.core import navigation, outbox, roles
from opscenter.core.demo import USERS, seed_organisation
from opscenter.core.models import Department, TransitionLog, User
from opscenter.core.services import perform_transition
from opscenter.core.tests.workflow_app.models import WorkOrder

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"


def html_lang(response) -> str:  # noqa: ANN001
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang> on the page"
    return match.group(1)


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def deliver(django_capture_on_commit_callbacks, user: User, *subjects: str) -> None:  # noqa: ANN001
    """Write in-app notifications and run their after-commit delivery (Celery is eager in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        for subject in subjects:
            outbox.notify(event="test.event", recipients=[user], subject=subject, channels=["in_app"],
                          webhooks=False)


@pytest.fixture
def demo(db) -> dict[str, User]:  # noqa: ANN001
    seed_organisation("pw")
    return {user.username: user for user in User.objects.all()}


# --- Sign in, languages, sign out -------------------------------------------------------------------------


def test_anonymous_home_redirects_to_sign_in(client) -> None:  # noqa: ANN001
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/"


def test_sign_in_page_in_english(db) -> None:  # noqa: ANN001
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(LOGIN)
    assert response.status_code == 200
    assert html_lang(response) == "en"
    html = response.content.decode()
    assert "Sign in to your account" in html and "Password" in html and "Username" in html


def test_sign_in_page_in_traditional_chinese(db) -> None:  # noqa: ANN001
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "zh-hant"
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert html_lang(response) == "zh-Hant"
    html = response.content.decode()
    assert "登入您的帳戶" in html and "使用者名稱" in html and "密碼" in html
    assert "Sign in to your account" not in html


def test_accept_language_chooses_traditional_chinese(db) -> None:  # noqa: ANN001
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-Hant-TW,zh;q=0.8").get(LOGIN)
    assert html_lang(response) == "zh-Hant"


CATALOGUE_VIEWERS = {"supervisor", "sysadmin", "neteng", "desktop", "security", "auditor"}


@pytest.mark.parametrize(("username", "display_name", "role"), [(u[0], u[1], u[2][0]) for u in USERS],
                         ids=[u[0] for u in USERS])
def test_each_demo_role_signs_in_to_its_home_page(demo, username, display_name, role) -> None:  # noqa: ANN001
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(LOGIN, {"username": username, "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert f'<div id="nav-user">{display_name}</div>' in html
    assert f"Welcome, {display_name}" in html
    assert str(roles.ROLE_LABELS[role]) in html
    assert 'id="panel-notifications"' in html and 'id="panel-profile"' in html
    assert ('id="panel-catalogue"' in html) == (username in CATALOGUE_VIEWERS)


def test_wrong_password_stays_on_the_sign_in_page(demo) -> None:  # noqa: ANN001
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(LOGIN, {"username": "supervisor", "password": "wrong"})
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()
    assert client.get("/").status_code == 302


def test_language_switch_and_back(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["supervisor"])
    response = client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies["django_language"].value == "zh-hant"
    home = client.get("/")
    assert html_lang(home) == "zh-Hant"
    assert "歡迎，陳主管" in home.content.decode() and "運維主管" in home.content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.cookies["django_language"].value == "en"
    home = client.get("/")
    assert html_lang(home) == "en"
    assert "Welcome, 陳主管" in home.content.decode() and "Supervisor" in home.content.decode()


def test_sign_out(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["sysadmin"])
    assert client.get(LOGOUT).status_code == 405
    assert client.get("/").status_code == 200  # still signed in
    assert client.get(LOGIN)["Location"] == "/"
    response = client.post(LOGOUT)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get("/")["Location"] == f"{LOGIN}?next=/"


# --- Notifications ----------------------------------------------------------------------------------------


def unread_badge(response) -> int | None:  # noqa: ANN001
    match = re.search(r'id="unread-count">(\d+)<', response.content.decode())
    return int(match.group(1)) if match else None



def test_the_unread_count_is_read_afresh_once_messages_are_marked_read(  # noqa: ANN001
    make_user, django_capture_on_commit_callbacks
) -> None:
    me = make_user(roles.SYSTEM_ENGINEER)
    deliver(django_capture_on_commit_callbacks, me, "Disk full", "P1 assigned")
    user = User.objects.get(pk=me.pk)
    assert outbox.unread_count(user) == 2
    deliver(django_capture_on_commit_callbacks, me, "Shift starts")
    outbox.mark_read(user, [outbox.inbox(me).get(subject="Disk full").pk])
    assert outbox.unread_count(user) == 2  # counted afresh: one read, one more delivered
    client = signed_in(me)
    assert unread_badge(client.get("/")) == 2
    client.post("/notifications/read/", {"next": "/"})
    assert unread_badge(client.get("/")) is None


def test_notifications_page_lists_only_my_delivered_messages(  # noqa: ANN001
    make_user, django_capture_on_commit_callbacks
) -> None:
    me, other = make_user(roles.SYSTEM_ENGINEER), make_user(roles.SYSTEM_ENGINEER)
    deliver(django_capture_on_commit_callbacks, me, "Disk full on erp-db-01", "P1 incident assigned",
            "Shift starts in 30 minutes")
    deliver(django_capture_on_commit_callbacks, other, "Someone else's message")
    outbox.notify(event="test.event", recipients=[me], subject="Not delivered yet", webhooks=False)
    client = signed_in(me)
    outbox.mark_read(me, [outbox.inbox(me).get(subject="Shift starts in 30 minutes").pk])

    page = client.get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Disk full on erp-db-01" in html and "P1 incident assigned" in html and "Shift starts in" in html
    assert "Someone else's message" not in html and "Not delivered yet" not in html
    assert html.count("Mark read</button>") == 2
    assert unread_badge(page) == 2


def test_marking_notifications_read_updates_the_unread_badge(  # noqa: ANN001
    make_user, django_capture_on_commit_callbacks
) -> None:
    me, other = make_user(roles.SYSTEM_ENGINEER), make_user(roles.SYSTEM_ENGINEER)
    deliver(django_capture_on_commit_callbacks, me, "Disk full on erp-db-01", "P1 incident assigned",
            "Shift starts in 30 minutes")
    deliver(django_capture_on_commit_callbacks, other, "Someone else's message")
    client = signed_in(me)
    assert unread_badge(client.get("/")) == 3

    first = outbox.inbox(me).get(subject="Disk full on erp-db-01")
    response = client.post("/notifications/read/", {"id": first.pk})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert unread_badge(client.get("/")) == 2

    theirs = outbox.inbox(other).get()
    client.post("/notifications/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None

    response = client.post("/notifications/read/", {"next": "/"})
    assert response["Location"] == "/"
    assert unread_badge(client.get("/")) is None
    assert outbox.unread_count(other) == 1


def test_notification_read_needs_post(make_user) -> None:  # noqa: ANN001
    assert signed_in(make_user(roles.SYSTEM_ENGINEER)).get("/notifications/read/").status_code == 405


def test_home_panel_shows_unread_notifications(make_user, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    me = make_user(roles.DEPARTMENT_USER)
    client = signed_in(me)
    assert "You are all caught up." in client.get("/").content.decode()
    deliver(django_capture_on_commit_callbacks, me, "Your incident was resolved")
    html = client.get("/").content.decode()
    assert "Your incident was resolved" in html and "You are all caught up." not in html


# --- Admin ------------------------------------------------------------------------------------------------

ADMIN_MODELS = ["department", "team", "user", "service", "configurationitem"]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_supervisor_uses_the_admin(demo, model) -> None:  # noqa: ANN001
    client = signed_in(demo["supervisor"])
    assert client.get(f"/admin/core/{model}/").status_code == 200
    assert client.get(f"/admin/core/{model}/add/").status_code == 200


def test_supervisor_adds_a_department_in_the_admin(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["supervisor"])
    response = client.post("/admin/core/department/add/", {
        "code": "legal", "name": "法務部", "contact_email": "legal@example.com", "is_active": "on", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/admin/core/department/"
    assert Department.objects.get(code="legal").name == "法務部"


def test_supervisor_reads_and_pauses_a_periodic_task_in_the_admin(demo) -> None:  # noqa: ANN001
    """The README sends supervisors to the admin's Periodic tasks to see and change the background schedules."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    every_minute = CrontabSchedule.objects.create(minute="*", timezone="Asia/Shanghai")
    task = PeriodicTask.objects.create(name="sweep-outbox", task="opscenter.core.tasks.sweep_outbox",
                                       crontab=every_minute)
    client = signed_in(demo["supervisor"])
    index = client.get("/admin/").content.decode()
    assert "/admin/django_celery_beat/periodictask/" in index
    listing = client.get("/admin/django_celery_beat/periodictask/")
    assert listing.status_code == 200 and "sweep-outbox" in listing.content.decode()
    page = client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200
    response = client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/change/", {
        "name": "sweep-outbox", "regtask": "opscenter.core.tasks.sweep_outbox", "task": "",
        "crontab": every_minute.pk, "args": "[]", "kwargs": "{}", "priority": "", "queue": "", "exchange": "",
        "routing_key": "", "headers": "{}", "expires_0": "", "expires_1": "", "expire_seconds": "",
        "description": "", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:3000]
    task.refresh_from_db()
    assert task.enabled is False  # the "enabled" box was left unticked: the sweep is paused
    assert client.get("/admin/django_celery_beat/periodictask/add/").status_code == 403  # adding stays with root


def test_engineer_is_sent_to_the_admin_sign_in(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["sysadmin"])
    response = client.get("/admin/core/department/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "Administration" not in client.get("/").content.decode()


def test_transition_log_admin_is_read_only(demo) -> None:  # noqa: ANN001
    order = WorkOrder.objects.create(title="Replace toner", created_by=demo["finance"])
    perform_transition(order, "submit", user=demo["finance"], comment="please")
    log = TransitionLog.objects.get()
    client = signed_in(demo["supervisor"])

    assert client.get("/admin/core/transitionlog/").status_code == 200
    change = client.get(f"/admin/core/transitionlog/{log.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.get("/admin/core/transitionlog/add/").status_code == 403
    assert client.post(f"/admin/core/transitionlog/{log.pk}/change/", {"comment": "rewritten"}).status_code == 403
    assert client.get(f"/admin/core/transitionlog/{log.pk}/delete/").status_code == 403
    assert client.post(f"/admin/core/transitionlog/{log.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post("/admin/core/transitionlog/", {"action": "delete_selected", "_selected_action": [log.pk],
                                                      "post": "yes"})
    assert bulk.status_code in (200, 302)
    log.refresh_from_db()
    assert (log.comment, TransitionLog.objects.count()) == ("please", 1)


# --- Roles ------------------------------------------------------------------------------------------------


def test_every_role_exists_as_a_group(db) -> None:  # noqa: ANN001
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


def test_role_permissions(make_user) -> None:  # noqa: ANN001
    department_user = make_user(roles.DEPARTMENT_USER)
    assert department_user.has_perm("core.view_service")
    assert not department_user.has_perm("core.view_configurationitem")
    supervisor = make_user(roles.SUPERVISOR)
    assert supervisor.has_perm("core.change_service") and supervisor.has_perm("core.add_configurationitem")
    engineer = make_user(roles.SYSTEM_ENGINEER)
    assert engineer.has_perm("core.view_configurationitem") and not engineer.has_perm("core.change_service")


def test_auditor_only_reads(make_user) -> None:  # noqa: ANN001
    codenames = list(Group.objects.get(name=roles.AUDITOR).permissions.values_list("codename", flat=True))
    assert codenames and all(c.startswith("view_") for c in codenames), codenames
    auditor = make_user(roles.AUDITOR)
    assert auditor.has_perm("core.view_transitionlog")
    assert not auditor.has_perm("core.change_service")


# --- Health -----------------------------------------------------------------------------------------------


def test_healthz(client) -> None:  # noqa: ANN001
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["database"] == "ok" and "broker" in body and body["status"] == "ok"


# --- Query counts -----------------------------------------------------------------------------------------


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def assert_page_queries_do_not_grow(  # noqa: ANN001
    client: Client, path: str, user: User, capture, django_assert_num_queries, *, expected: int
) -> None:
    """The page costs `expected` queries with 2 delivered notifications and still `expected` with 20."""
    deliver(capture, user, *[f"message {i}" for i in range(2)])
    few = count_queries(client, path)
    deliver(capture, user, *[f"message {i}" for i in range(2, 20)])
    many = count_queries(client, path)
    assert few == many, f"{path}: {few} queries with 2 notifications but {many} with 20"
    with django_assert_num_queries(expected):
        client.get(path)


def test_home_page_query_count_does_not_grow(  # noqa: ANN001
    make_user, django_capture_on_commit_callbacks, django_assert_num_queries, monkeypatch
) -> None:
    me = make_user(roles.SUPERVISOR)
    client = signed_in(me)
    deliver(django_capture_on_commit_callbacks, me, *[f"message {i}" for i in range(2)])
    count_queries(client, "/")  # the first request fills what the panels keep in the cache (the duty policy)
    few = count_queries(client, "/")
    deliver(django_capture_on_commit_callbacks, me, *[f"message {i}" for i in range(2, 20)])
    assert count_queries(client, "/") == few, "the home page costs more queries with more notifications"

    # The pinned figure covers the kernel's panels only; each process app pins the cost of its own.
    # the user (the session comes from the cache), roles, 5 unread notifications, services, CIs, teams, the
    # unread count
    kernel_panels = [p for p in navigation._panels if p.key in {"notifications", "catalogue", "profile"}]
    assert len(kernel_panels) == 3
    monkeypatch.setattr(navigation, "_panels", kernel_panels)
    with django_assert_num_queries(7):
        client.get("/")


# the user (the session comes from the cache), count, unread count, roles, page of notifications, the counts by
# kind and by ticket
def test_notifications_page_query_count_does_not_grow(  # noqa: ANN001
    make_user, django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    me = make_user(roles.SUPERVISOR)
    assert_page_queries_do_not_grow(signed_in(me), "/notifications/", me, django_capture_on_commit_callbacks,
                                    django_assert_num_queries, expected=7)
