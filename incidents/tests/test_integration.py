"""Against real services: a P1 classification's notifications delivered by a real Celery worker process
on Redis, with PostgreSQL. Skips on a machine without them; fails when CI is set."""

import email
import email.message
import email.policy
from pathlib import Path
from typing import Any

import pytest

from incidents.services import incident_report, incident_transition
from incidents.tests.scenarios import make_cast
from opscenter.core import outbox
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.models import Notification
from opscenter.core.tests.real_services import celery_worker, drain, require_postgres_and_redis, wait_for


def sent_mails(folder: Path) -> list[email.message.EmailMessage]:
    """The emails Django's file backend wrote: a file per connection, and a connection's messages one after
    another, each followed by a line of 79 dashes (two sent within the same second can share a file)."""
    separator = b"\n" + b"-" * 79 + b"\n"
    return [email.message_from_bytes(chunk, policy=email.policy.default)
            for path in sorted(folder.iterdir()) for chunk in path.read_bytes().split(separator) if chunk.strip()]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_p1_classification_is_delivered_by_a_real_worker(
    policy_defaults: None, make_user: Any, tmp_path: Path
) -> None:
    require_postgres_and_redis()
    cast = make_cast(make_user)

    with celery_worker(tmp_path) as worker:
        incident = incident_report(recorder=cast.duty, data={
            "title": "ERP 全面停擺", "description": "所有用戶無法登入 ERP", "occurred_at": "2026-01-05T09:00:00+08:00",
            "impact_scope": "全公司", "channel": "monitoring", "caller_name": "監控系統"})
        incident = incident_transition(incident, "classify", user=cast.duty,
                                       data={"category": cast.category, "impact": 1, "urgency": 1})
        assert incident.priority == "P1"

        urgent = Notification.objects.filter(event="incident.urgent", payload__id=incident.pk)
        assert {(n.recipient_id, n.channel) for n in urgent} == {
            (user.pk, channel) for user in (cast.engineer, cast.supervisor) for channel in (Channel.IN_APP,
                                                                                            Channel.EMAIL)}
        delivered = wait_for(lambda: not urgent.exclude(status=DeliveryStatus.SENT).exists())
        assert delivered, "the worker did not deliver: " + drain(worker)

    assert all(n.attempts == 1 and n.sent_at for n in urgent.all())  # each delivered once
    assert outbox.unread_count(cast.engineer) == 1 and outbox.unread_count(cast.supervisor) == 1
    mails = sent_mails(tmp_path)
    assert len(mails) == 2  # one email to each, once
    assert {mail["To"] for mail in mails} == {"engineer@example.com", "supervisor@example.com"}
    assert {mail["Subject"].strip() for mail in mails} == {f"[OpsCenter] {incident.number} P1 incident: ERP 全面停擺"}
    assert all("ERP 全面停擺" in mail.get_content() for mail in mails)
