"""Notifications as kinds rendered per reader: the inbox grouped and filtered by kind and ticket, marked read
(all, by kind or ticket, never another's), e-mail subjects and facts, webhooks, and the reader's language kept."""

import json
import re
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy as _

from conftest import assert_error
from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.models import Notification, User, WebhookEndpoint
from opscenter.core.notification_kinds import NotificationKind, declare, render

pytestmark = pytest.mark.django_db

# Kinds of a pretend app, worded with the catalogue's existing strings so that both languages read them.
ASSIGNED, CLOSED = declare(
    NotificationKind("test.assigned", _("Priority"), _("assigned to you: %(title)s")),
    NotificationKind("test.closed", _("State"), _("closed: %(title)s")),
)
INBOX = "/notifications/"
API = "/api/v1/notifications/"


def params(number: str, **extra: Any) -> dict[str, Any]:
    return {"number": number, "title": "ERP login fails", "priority": "P1", "service": "ERP",
            "due_at": "2026-12-01T01:30:00+00:00", "actor": "李值班", **extra}


def send(capture: Any, kind: NotificationKind, people: list[User], number: str, **options: Any) -> None:
    """Write and deliver (Celery is eager in tests) one event to `people`."""
    with capture(execute=True):
        outbox.notify(kind=kind, recipients=people, params=params(number), link="/incidents/7/", webhooks=False,
                      **options)


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def me(make_user: Any) -> User:
    return make_user(roles.SYSTEM_ENGINEER, email="me@example.com", language="en")


@pytest.fixture
def inbox(me: User, make_user: Any, django_capture_on_commit_callbacks: Any) -> User:
    """Five in-app notifications of mine on two tickets and two kinds; one of someone else's."""
    other = make_user(roles.SYSTEM_ENGINEER)
    for number in ("INC-2026-000001", "INC-2026-000002", "INC-2026-000002"):
        send(django_capture_on_commit_callbacks, ASSIGNED, [me], number, channels=[Channel.IN_APP])
    for number in ("INC-2026-000001", "INC-2026-000002"):
        send(django_capture_on_commit_callbacks, CLOSED, [me], number, channels=[Channel.IN_APP])
    send(django_capture_on_commit_callbacks, CLOSED, [other], "INC-2026-000009", channels=[Channel.IN_APP])
    return other


# --- Rendering ----------------------------------------------------------------------------------------------


def test_a_row_holds_its_kind_and_facts_and_is_rendered_for_each_reader() -> None:
    row = Notification(event=ASSIGNED.event, payload=params("INC-2026-000123"))
    english, chinese = render(row, "en"), render(row, "zh-hant")
    assert english.subject == "P1 INC-2026-000123 assigned to you: ERP login fails"
    assert chinese.subject == "P1 INC-2026-000123 已指派給您：ERP login fails"
    assert ("Priority", "P1") in english.facts and ("Service", "ERP") in english.facts
    assert ("優先級", "P1") in chinese.facts and ("服務", "ERP") in chinese.facts
    assert ("Due", "2026-12-01 09:30") in english.facts  # local time (Asia/Shanghai)


def test_rows_written_as_text_show_their_text_and_a_missing_parameter_reads_blank() -> None:
    assert render(Notification(event="incident.assigned", subject="INC-1 已指派給您：舊", body="x"), "en").subject \
        == "INC-1 已指派給您：舊"
    assert render(Notification(event=ASSIGNED.event, payload={"number": "INC-1"}), "en").subject == \
        "INC-1 assigned to you: "


# --- The inbox: grouped and filtered -----------------------------------------------------------------------


def test_the_inbox_counts_by_kind_and_by_ticket_and_filters_by_each(me: User, inbox: User) -> None:
    client = signed_in(me)
    html = client.get(INBOX).content.decode()
    assert html.count("assigned to you: ERP login fails") == 3 and html.count("closed: ERP login fails") == 2
    groups = client.get(INBOX).context["groups"]
    assert [(g["key"], g["count"], g["unread"]) for g in groups["tickets"]] == [
        ("INC-2026-000002", 3, 3), ("INC-2026-000001", 2, 2)]
    assert {(g["label"], g["count"]) for g in groups["kinds"]} == {("Priority", 3), ("State", 2)}
    assert "INC-2026-000009" not in html  # another user's

    by_ticket = client.get(INBOX, {"ticket": "INC-2026-000001"}).content.decode()
    assert by_ticket.count("ERP login fails") == 2 and "INC-2026-000002 assigned" not in by_ticket
    by_kind = client.get(INBOX, {"kind": CLOSED.event}).content.decode()
    assert by_kind.count("closed: ERP login fails") == 2 and "assigned to you" not in by_kind.split('id="inbox"')[1]

    api = signed_in(me)
    rows = api.get(API, {"ticket": "INC-2026-000002", "event": ASSIGNED.event}).json()["results"]
    assert len(rows) == 2 and {row["kind"] for row in rows} == {"Priority"}
    body = api.get(f"{API}groups/").json()
    assert body["tickets"][0] == {"key": "INC-2026-000002", "label": "INC-2026-000002", "count": 3, "unread": 3}


def test_the_inbox_in_chinese_for_a_reader_who_chose_it(me: User, inbox: User) -> None:
    User.objects.filter(pk=me.pk).update(language="zh-hant")
    html = signed_in(User.objects.get(pk=me.pk), "en").get(INBOX).content.decode()
    assert '<html lang="zh-Hant">' in html and "已指派給您：ERP login fails" in html
    assert re.search(r"優先級[:：] ?P1", html)


# --- Mark all read -------------------------------------------------------------------------------------------


def test_mark_all_read_on_the_page_by_ticket_then_all(me: User, inbox: User) -> None:
    client = signed_in(me)
    response = client.post(f"{INBOX}read/", {"ticket": "INC-2026-000002", "next": f"{INBOX}?ticket=INC-2026-000002"})
    assert response.status_code == 302 and response["Location"] == f"{INBOX}?ticket=INC-2026-000002"
    assert outbox.unread_count(me) == 2
    assert "Mark these as read" not in client.get(INBOX, {"ticket": "INC-2026-000002"}).content.decode()
    assert "Mark all as read" in client.get(INBOX).content.decode()
    client.post(f"{INBOX}read/", {})
    assert outbox.unread_count(me) == 0 and outbox.unread_count(inbox) == 1
    assert "Mark all as read" not in client.get(INBOX).content.decode()


def test_marking_another_users_notification_on_the_page_is_refused_and_changes_nothing(me: User, inbox: User) -> None:
    theirs = outbox.inbox(inbox).get()
    mine = outbox.inbox(me).first()
    response = signed_in(me).post(f"{INBOX}read/", {"id": [theirs.pk, mine.pk]}, follow=True)
    assert "are not yours" in response.content.decode()
    assert outbox.unread_count(inbox) == 1 and outbox.unread_count(me) == 5


def test_mark_read_through_the_api_by_kind_all_and_refused(api_as: Any, me: User, inbox: User) -> None:
    client = api_as(me)
    response = client.post(f"{API}read/", {"event": CLOSED.event}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 2, "unread": 3}
    theirs = list(outbox.inbox(inbox).values_list("pk", flat=True))
    body = assert_error(client.post(f"{API}read/", {"ids": theirs}, format="json"), 404)
    assert body["code"] == "not_found" and outbox.unread_count(inbox) == 1 and outbox.unread_count(me) == 3
    assert_error(client.post(f"{API}read/", {"everything": True}, format="json"), 400)
    assert client.post(f"{API}read/", {}, format="json").json() == {"marked": 3, "unread": 0}
    assert api_as(inbox).get(API).json()["results"][0]["read_at"] is None


def test_the_api_needs_a_signed_in_user(client: Client) -> None:
    assert client.post(f"{API}read/", {}).status_code in (401, 403)
    assert client.get(f"{API}groups/").status_code in (401, 403)


# --- Query counts --------------------------------------------------------------------------------------------


def queries(client: Client, path: str, data: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, data or {}).status_code == 200
    return len(ctx.captured_queries)


def test_inbox_page_and_api_query_counts_do_not_grow(  # noqa: ANN001
    api_as: Any, me: User, django_capture_on_commit_callbacks: Any, django_assert_num_queries: Any
) -> None:
    def add(count: int) -> None:
        for index in range(count):
            send(django_capture_on_commit_callbacks, [ASSIGNED, CLOSED][index % 2], [me],
                 f"INC-2026-{index % 7:06d}", channels=[Channel.IN_APP])

    page, api = signed_in(me), api_as(me)
    add(2)
    few = [queries(page, INBOX), queries(page, INBOX, {"kind": ASSIGNED.event, "ticket": "INC-2026-000000"}),
           queries(api, API), queries(api, f"{API}groups/")]
    add(20)
    many = [queries(page, INBOX), queries(page, INBOX, {"kind": ASSIGNED.event, "ticket": "INC-2026-000000"}),
            queries(api, API), queries(api, f"{API}groups/")]
    assert few == many
    # the user (the session from the cache), count, page, unread count, roles, counts by kind and by ticket
    with django_assert_num_queries(7):
        page.get(INBOX, {"kind": ASSIGNED.event})
    # the token and its user, count, page
    with django_assert_num_queries(3):
        api.get(API)


# --- E-mail and webhooks -------------------------------------------------------------------------------------


def test_an_email_has_a_readable_subject_and_the_facts_in_the_recipients_language(
    me: User, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    chinese = make_user(roles.SUPERVISOR, email="boss@example.com", language="zh-hant")
    send(django_capture_on_commit_callbacks, ASSIGNED, [me, chinese], "INC-2026-000123", channels=[Channel.EMAIL])
    by_address = {m.to[0]: m for m in mail.outbox}
    english, zh = by_address["me@example.com"], by_address["boss@example.com"]
    assert english.subject == "[OpsCenter] P1 INC-2026-000123 assigned to you: ERP login fails"
    for line in ("Priority: P1", "Service: ERP", "Due: 2026-12-01 09:30", "By: 李值班",
                 "Open: http://127.0.0.1:8000/incidents/7/"):
        assert line in english.body
    assert zh.subject == "[OpsCenter] P1 INC-2026-000123 已指派給您：ERP login fails"
    # "優先級：P1" once the catalogue has the fact's format; the label is the policy's term either way
    assert re.search(r"優先級[:：] ?P1", zh.body) and re.search(r"服務[:：] ?ERP", zh.body)


def test_a_user_without_a_language_reads_the_sites_default(make_user: Any, settings: Any,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hant"
    person = make_user(roles.SYSTEM_ENGINEER, email="p@example.com")
    send(django_capture_on_commit_callbacks, ASSIGNED, [person], "INC-2026-000123", channels=[Channel.EMAIL])
    assert "已指派給您" in mail.outbox[0].subject


@pytest.mark.usefixtures("public_dns")
def test_a_webhook_receives_the_text_in_its_language_and_the_facts(django_capture_on_commit_callbacks: Any) -> None:
    WebhookEndpoint.objects.create(name="chat", url="https://hooks.example.com/x", language="zh-hant")
    with mock.patch("opscenter.core.outbox.requests.post", return_value=mock.Mock(status_code=200)) as post, \
            django_capture_on_commit_callbacks(execute=True):
        outbox.notify(kind=ASSIGNED, recipients=[], params=params("INC-2026-000123"), link="/incidents/7/")
    sent = json.loads(post.call_args.kwargs["data"])
    assert sent["event"] == "test.assigned" and sent["subject"] == "P1 INC-2026-000123 已指派給您：ERP login fails"
    assert sent["payload"]["number"] == "INC-2026-000123" and sent["link"].endswith("/incidents/7/")
    assert Notification.objects.get(channel=Channel.WEBHOOK).status == DeliveryStatus.SENT


# --- The reader's language -----------------------------------------------------------------------------------


def test_the_language_switch_is_remembered_for_the_user(make_user: Any) -> None:
    person = make_user(roles.SYSTEM_ENGINEER)
    client = signed_in(person, "en")
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    person.refresh_from_db()
    assert person.language == "zh-hant"
    # Another browser, asking for English: the saved choice wins.
    assert '<html lang="zh-Hant">' in signed_in(person, "en").get(INBOX).content.decode()
    signed_in(person, "en").post("/i18n/setlang/", {"language": "klingon", "next": "/"})
    person.refresh_from_db()
    assert person.language == "zh-hant"


def test_the_preferences_page_sets_and_clears_the_language(make_user: Any) -> None:
    person = make_user(roles.DEPARTMENT_USER)
    client = signed_in(person, "en")
    page = client.get("/preferences/").content.decode()
    assert "Site default (English)" in page and "繁體中文" in page
    response = client.post("/preferences/", {"language": "zh-hant"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.language == "zh-hant"
    assert client.post("/preferences/", {"language": "xx"}).status_code == 400
    person.refresh_from_db()
    assert person.language == "zh-hant"
    client.post("/preferences/", {"language": ""})
    person.refresh_from_db()
    assert person.language == ""


def test_a_language_chosen_on_the_sign_in_page_is_kept_for_the_user(make_user: Any) -> None:
    person = make_user(roles.SYSTEM_ENGINEER, username="pat")
    person.set_password("pw-12345-long")
    person.save()
    client = Client()
    client.cookies["django_language"] = "zh-hant"
    client.post("/accounts/login/", {"username": "pat", "password": "pw-12345-long"})
    person.refresh_from_db()
    assert person.language == "zh-hant"
