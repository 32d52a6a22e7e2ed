"""The notifications outbox: written with the event, delivered once after commit, swept after an outage."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.models import Notification, WebhookEndpoint
from opscenter.core.tasks import deliver_notifications, sweep_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):  # noqa: ANN001, ANN201
    return [make_user(roles.SYSTEM_ENGINEER, email="a@example.com"), make_user(roles.SUPERVISOR, email="")]


def test_one_row_per_recipient_and_channel_written_with_the_event(people, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001, E501
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = outbox.notify(event="test.event", recipients=[*people, people[0]], subject="Disk full")
    # the second person has no email address: in-app only; duplicates are collapsed
    assert sorted((r.recipient.pk, r.channel) for r in rows) == sorted(
        [(people[0].pk, Channel.IN_APP), (people[0].pk, Channel.EMAIL), (people[1].pk, Channel.IN_APP)])
    assert len(callbacks) == 1
    assert Notification.objects.filter(status=DeliveryStatus.PENDING).count() == 3
    assert mail.outbox == []


def test_nothing_is_written_or_sent_when_the_event_rolls_back(people, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001, E501
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            outbox.notify(event="test.event", recipients=people, subject="x")
            raise RuntimeError("the event failed")
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_delivered_once_after_commit(people, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    with django_capture_on_commit_callbacks(execute=True):
        rows = outbox.notify(event="test.event", recipients=people, subject="Disk full", link="/x/")
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@example.com"]
    assert "/x/" in mail.outbox[0].body
    # a second delivery of the same rows, and a sweep, send nothing more
    deliver_notifications([r.pk for r in rows])
    sweep_outbox()
    assert len(mail.outbox) == 1
    assert outbox.unread_count(people[0]) == 1


def test_broker_outage_leaves_rows_for_the_sweep(people, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    with mock.patch.object(deliver_notifications, "apply_async", side_effect=OperationalError("down")):
        with django_capture_on_commit_callbacks(execute=True):
            outbox.notify(event="test.event", recipients=people, subject="Disk full")
    assert Notification.objects.filter(status=DeliveryStatus.PENDING).count() == 3
    assert mail.outbox == [] and outbox.unread_count(people[0]) == 0
    assert sweep_outbox() == 3
    assert len(mail.outbox) == 1 and outbox.unread_count(people[0]) == 1
    assert sweep_outbox() == 0
    assert len(mail.outbox) == 1


def test_a_row_claimed_by_a_crashed_worker_is_swept_after_the_claim_timeout(people) -> None:  # noqa: ANN001
    [row] = Notification.objects.bulk_create([Notification(
        event="e", channel=Channel.EMAIL, recipient=people[0], subject="s", status=DeliveryStatus.SENDING,
        claimed_at=timezone.now() - timedelta(minutes=1))])
    assert sweep_outbox() == 0  # still within the claim timeout: another worker may be sending it
    Notification.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert sweep_outbox() == 1
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("public_dns")
def test_webhook_is_signed_and_retried_with_backoff_then_failed(people, settings) -> None:  # noqa: ANN001
    settings.OUTBOX_MAX_ATTEMPTS = 2
    endpoint = WebhookEndpoint.objects.create(name="chatops", url="https://hooks.example.com/x", secret="s3cret",
                                              events=["test.event"])
    WebhookEndpoint.objects.create(name="other", url="https://hooks.example.com/y", events=["other.event"])
    with mock.patch("opscenter.core.tasks.deliver_notifications.apply_async"):
        outbox.notify(event="test.event", recipients=[], subject="Disk full", payload={"id": 7})
    [row] = Notification.objects.filter(channel=Channel.WEBHOOK)
    assert row.webhook == endpoint
    failing = mock.Mock(side_effect=ConnectionError("refused"))
    with mock.patch("opscenter.core.outbox.requests.post", failing):
        assert outbox.deliver(row.pk) is False
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert "refused" in row.last_error
    assert outbox.deliver(row.pk) is False  # not due yet: the backoff holds it back
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    with mock.patch("opscenter.core.outbox.requests.post", failing):
        outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 2


@pytest.mark.usefixtures("public_dns")
def test_webhook_delivery_posts_signed_json(people) -> None:  # noqa: ANN001
    WebhookEndpoint.objects.create(name="chatops", url="https://hooks.example.com/x", secret="s3cret")
    with mock.patch("opscenter.core.tasks.deliver_notifications.apply_async"):
        outbox.notify(event="test.event", recipients=[], subject="Disk full")
    [row] = Notification.objects.filter(channel=Channel.WEBHOOK)
    response = mock.Mock(status_code=200)
    with mock.patch("opscenter.core.outbox.requests.post", return_value=response) as post:
        assert outbox.deliver(row.pk) is True
    headers = post.call_args.kwargs["headers"]
    assert headers["X-OpsCenter-Event"] == "test.event"
    assert headers["X-OpsCenter-Signature"].startswith("sha256=")
    assert b'"subject": "Disk full"' in post.call_args.kwargs["data"]


def test_in_app_inbox_and_mark_read(people, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notify(event="a", recipients=[people[0]], subject="one")
        outbox.notify(event="b", recipients=[people[0]], subject="two")
        outbox.notify(event="c", recipients=[people[1]], subject="not yours")
    assert [n.subject for n in outbox.inbox(people[0])] == ["two", "one"]
    first = outbox.inbox(people[0]).get(subject="one")
    assert outbox.mark_read(people[0], [first.pk]) == 1
    assert outbox.unread_count(people[0]) == 1
    assert outbox.mark_read(people[0]) == 1
    assert outbox.unread_count(people[0]) == 0
    assert outbox.unread_count(people[1]) == 1
