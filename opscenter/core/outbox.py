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
from django.db.models import Q, QuerySet
from django.utils import timezone

from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.models import Notification, User, WebhookEndpoint

logger = logging.getLogger(__name__)


def build_notifications(
    *,
    event: str,
    recipients: Iterable[User],
    subject: str,
    body: str = "",
    link: str = "",
    payload: dict[str, Any] | None = None,
    channels: Iterable[str] = (Channel.IN_APP, Channel.EMAIL),
    webhooks: bool = True,
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[Notification]:
    """The unsaved outbox rows of one event: one per recipient and channel, and one per interested webhook
    (`endpoints`: the active webhook endpoints, when the caller has them already)."""
    payload = payload or {}
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
                                     body=body, link=link, payload=payload))
    if webhooks:
        for endpoint in (endpoints if endpoints is not None else active_endpoints()):
            if endpoint.wants(event):
                rows.append(Notification(event=event, channel=Channel.WEBHOOK, webhook=endpoint,
                                         subject=subject[:200], body=body, link=link, payload=payload))
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
    transaction, and queue their delivery for after commit (the arguments of build_notifications)."""
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
    """Deliver one outbox row once: claim it, send it, mark it sent or schedule a retry."""
    row = _claim(pk)
    if row is None:
        return False
    try:
        _send(row)
    except Exception as exc:
        attempts = row.attempts + 1
        failed = attempts >= settings.OUTBOX_MAX_ATTEMPTS
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
        link = f"\n\n{settings.SITE_URL.rstrip('/')}{row.link}" if row.link else ""
        send_mail(row.subject, f"{row.body}{link}", settings.DEFAULT_FROM_EMAIL, [row.recipient.email])
        return
    if row.channel == Channel.WEBHOOK:
        body = json.dumps({"event": row.event, "id": row.pk, "subject": row.subject, "body": row.body,
                           "link": row.link, "payload": row.payload}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-OpsCenter-Event": row.event,
                   "X-OpsCenter-Delivery": str(row.pk)}
        if row.webhook.secret:
            digest = hmac.new(row.webhook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-OpsCenter-Signature"] = f"sha256={digest}"
        response = requests.post(row.webhook.url, data=body, headers=headers,
                                 timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        response.raise_for_status()
        return
    raise ValueError(f"unknown channel {row.channel}")


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


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread in-app notifications read (all of them, or those of `ids`); returns how many."""
    qs = inbox(user).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
