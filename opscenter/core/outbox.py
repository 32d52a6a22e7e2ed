"""The notifications outbox: rows written with the event, delivered once after commit, swept if missed."""

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import Notification, User, WebhookEndpoint
from opscenter.core.notification_kinds import EMAIL_SUBJECT_PREFIX, NotificationKind, kind_label, language_of, render
from opscenter.core.webhook_addresses import WebhookAddressRefused, check_before_sending

logger = logging.getLogger(__name__)


def build_notifications(
    *,
    recipients: Iterable[User],
    kind: NotificationKind | None = None,
    params: dict[str, Any] | None = None,
    link: str = "",
    channels: Iterable[str] = (Channel.IN_APP, Channel.EMAIL),
    webhooks: bool = True,
    endpoints: list[WebhookEndpoint] | None = None,
    event: str = "",
    subject: str = "",
    body: str = "",
    payload: dict[str, Any] | None = None,
) -> list[Notification]:
    """The unsaved outbox rows of one event: one per recipient and channel, and one per interested webhook
    (`endpoints`: the active webhook endpoints, when the caller has them already).

    An app passes its declared `kind` and the event's `params` (JSON: numbers, codes, ISO times); each reader
    gets the kind rendered in their language. Text given as `event=`, `subject=` and `body=` (with `payload=`)
    is stored and shown as it is, in every language: kept for callers not yet moved to kinds.
    """
    if kind is not None:
        event, subject, body, payload = kind.event, "", "", params or {}
    else:
        payload = payload or params or {}
        if not subject:
            raise ValueError("notify needs a kind (or the stored subject of a text notification)")
    ticket = str(payload.get("number") or "")[:24]
    rows: list[Notification] = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        for channel in channels:
            if channel == Channel.EMAIL and not user.email:
                continue
            rows.append(Notification(event=event, channel=channel, recipient=user, subject=subject[:200],
                                     body=body, link=link, payload=payload, ticket=ticket))
    if webhooks:
        for endpoint in (endpoints if endpoints is not None else active_endpoints()):
            if endpoint.wants(event):
                rows.append(Notification(event=event, channel=Channel.WEBHOOK, webhook=endpoint,
                                         subject=subject[:200], body=body, link=link, payload=payload,
                                         ticket=ticket))
    return rows


def active_endpoints() -> list[WebhookEndpoint]:
    """The active outbound webhooks (see read_frozen)."""
    from opscenter.core.selectors import read_frozen

    return read_frozen(WebhookEndpoint, active_webhooks)


def active_webhooks() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(is_active=True)


def write_notifications(rows: list[Notification]) -> list[Notification]:
    """Write outbox rows in the caller's transaction and queue their delivery, once, for after commit."""
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created]  # PostgreSQL and SQLite ≥ 3.35 return primary keys
    transaction.on_commit(lambda: enqueue_delivery(ids))
    return created


def notify(**kwargs: Any) -> list[Notification]:
    """Write one outbox row per recipient and channel (and per interested webhook) in the caller's
    transaction, and queue their delivery for after commit (the arguments of build_notifications:
    `notify(kind=ASSIGNED, recipients=[…], params={…}, link=…)`)."""
    return write_notifications(build_notifications(**kwargs))


def enqueue_delivery(ids: list[int]) -> None:
    """Hand the rows to the worker; if the broker is down, the sweep delivers them later."""
    from opscenter.core.tasks import deliver_notifications

    try:
        deliver_notifications.apply_async(args=[ids], retry=False)
    except Exception:
        logger.warning("broker unavailable: %d notification(s) left for the outbox sweep", len(ids))


def _claim(pk: int) -> Notification | None:
    """Atomically take a due row for delivery; None when another worker has it or it is done."""
    now = timezone.now()
    stale = now - settings.OUTBOX_CLAIM_TIMEOUT
    claimed = Notification.objects.filter(pk=pk).filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
    ).update(status=DeliveryStatus.SENDING, claimed_at=now)
    if not claimed:
        return None
    return Notification.objects.select_related("recipient", "webhook").get(pk=pk)


def deliver(pk: int) -> bool:
    """Deliver one outbox row once: claim it, send it, mark it sent or schedule a retry (a webhook whose address
    is refused fails at once: trying again would not help)."""
    row = _claim(pk)
    if row is None:
        return False
    try:
        _send(row)
    except Exception as exc:
        attempts = row.attempts + 1
        failed = attempts >= settings.OUTBOX_MAX_ATTEMPTS or isinstance(exc, WebhookAddressRefused)
        backoff = timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))
        Notification.objects.filter(pk=pk).update(
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            attempts=attempts, next_attempt_at=timezone.now() + backoff,
            last_error=f"{type(exc).__name__}: {exc}"[:2000], claimed_at=None,
        )
        logger.warning("notification %s delivery failed (attempt %d): %s", pk, attempts, exc)
        return False
    Notification.objects.filter(pk=pk).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=row.attempts + 1, last_error="",
    )
    return True


def _send(row: Notification) -> None:
    if row.channel == Channel.IN_APP:
        return  # becomes visible in the recipient's list once marked sent
    if row.channel == Channel.EMAIL:
        subject, text = email_message(row)
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [row.recipient.email])
        return
    if row.channel == Channel.WEBHOOK:
        check_before_sending(row.webhook.url)
        rendered = render(row, language_of(row.webhook))
        body = json.dumps({"event": row.event, "id": row.pk, "subject": rendered.subject, "body": rendered.body,
                           "link": absolute(row.link) if row.link else "", "payload": row.payload},
                          ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-OpsCenter-Event": row.event,
                   "X-OpsCenter-Delivery": str(row.pk)}
        if row.webhook.secret:
            digest = hmac.new(row.webhook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-OpsCenter-Signature"] = f"sha256={digest}"
        # A redirect is not followed: it could lead to an address the check above would refuse.
        response = requests.post(row.webhook.url, data=body, headers=headers,
                                 timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False)
        response.raise_for_status()
        if 300 <= response.status_code < 400:
            raise requests.HTTPError(f"{response.status_code} redirect to {response.headers.get('Location', '')!r}"
                                     " not followed", response=response)
        return
    raise ValueError(f"unknown channel {row.channel}")


def absolute(link: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{link}"


def email_message(row: Notification) -> tuple[str, str]:
    """An e-mail's subject and text in the recipient's language: the subject, then the body, the facts
    (priority, service, state, due time, who) and the link to open."""
    language = language_of(row.recipient)
    rendered = render(row, language)
    lines = [rendered.subject, ""]
    if rendered.body:
        lines += [rendered.body, ""]
    with translation.override(language):
        if rendered.facts:
            lines += [*rendered.fact_lines(), ""]
        if row.link:
            lines += [gettext("Open: %(link)s") % {"link": absolute(row.link)}]
    subject = " ".join(f"{EMAIL_SUBJECT_PREFIX}{rendered.subject}".split())  # one line
    return subject, "\n".join(lines).rstrip() + "\n"


def due_ids(limit: int = 500) -> list[int]:
    """Rows the sweep must deliver: pending and due, or claimed by a worker that never finished."""
    now = timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - settings.OUTBOX_CLAIM_TIMEOUT)
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


def sweep() -> int:
    """Deliver everything left undelivered; returns how many rows were sent."""
    return sum(1 for pk in due_ids() if deliver(pk))


def unread_count(user: User) -> int:
    """The user's delivered in-app notifications not yet read (the badge of every page)."""
    return inbox(user).filter(read_at__isnull=True).count()


def inbox(user: User):
    """The user's delivered in-app notifications, newest first."""
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP, status=DeliveryStatus.SENT)


class NotificationsNotFound(OpsCenterError):
    status_code = 404
    code = "not_found"
    default_detail = _("Some of these notifications are not yours or do not exist; none was marked read.")


def inbox_filtered(user: User, *, event: str = "", ticket: str = "", unread: bool = False):
    """The user's inbox narrowed to one kind and/or one ticket, and to the unread ones."""
    qs = inbox(user)
    if event:
        qs = qs.filter(event=event)
    if ticket:
        qs = qs.filter(ticket=ticket)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


def mark_read(user: User, ids: Iterable[int] | None = None, *, event: str = "", ticket: str = "") -> int:
    """Mark the user's unread in-app notifications read (all of them, those of one kind or ticket, or those of
    `ids`); returns how many. Ids that are not the user's refuse the whole request (404) and change nothing."""
    qs = inbox_filtered(user, event=event, ticket=ticket, unread=True)
    if ids is not None:
        wanted = set(ids)
        if wanted and inbox(user).filter(pk__in=wanted).count() != len(wanted):
            raise NotificationsNotFound()
        qs = qs.filter(pk__in=wanted)
    return qs.update(read_at=timezone.now())


def inbox_groups(user: User) -> dict[str, list[dict[str, Any]]]:
    """The user's inbox counted by kind and by ticket (most recent first, ten tickets), each with its unread
    count: two queries whatever the inbox holds."""
    unread = Count("pk", filter=Q(read_at__isnull=True))
    kinds = [{"key": row["event"], "label": kind_label(row["event"]), "count": row["count"], "unread": row["unread"]}
             for row in inbox(user).order_by().values("event").annotate(count=Count("pk"), unread=unread)]
    kinds.sort(key=lambda row: (-row["unread"], str(row["label"])))
    tickets = [{"key": row["ticket"], "label": row["ticket"], "count": row["count"], "unread": row["unread"]}
               for row in inbox(user).exclude(ticket="").order_by().values("ticket")
               .annotate(count=Count("pk"), unread=unread, latest=Max("created_at")).order_by("-latest")[:10]]
    return {"kinds": kinds, "tickets": tickets}
