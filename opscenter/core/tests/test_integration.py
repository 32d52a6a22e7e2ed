"""Against real services: concurrent transitions on PostgreSQL, and a real Celery worker on Redis
delivering the outbox. They skip on a machine without the services and fail when CI is set."""

import http.server
import json
import threading
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections

from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.exceptions import ConcurrentChange, InvalidState
from opscenter.core.models import Notification, TransitionLog, WebhookEndpoint
from opscenter.core.services import perform_transition
from opscenter.core.tests.real_services import (
    celery_worker,
    drain,
    require_postgres,
    require_postgres_and_redis,
    wait_for,
)
from opscenter.core.tests.workflow_app.models import WorkOrder


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_exactly_one_wins_and_logs_once(policy_defaults, make_user) -> None:  # noqa: ANN001
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER)
    order = WorkOrder.objects.create(title="race", created_by=owner)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        copy = WorkOrder.objects.get(pk=order.pk)
        barrier.wait()
        try:
            perform_transition(copy, "submit", user=owner)
            outcomes.append("won")
        except (InvalidState, ConcurrentChange) as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("won") == 1, outcomes
    assert len(outcomes) == 8 and set(outcomes) <= {"won", "invalid_state", "concurrent_change"}
    assert TransitionLog.objects.filter(
        content_type=ContentType.objects.get_for_model(WorkOrder), object_id=order.pk).count() == 1


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"body": json.loads(body), "event": self.headers["X-OpsCenter-Event"]})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_the_outbox_end_to_end(policy_defaults, make_user, tmp_path: Path) -> None:  # noqa: ANN001
    require_postgres_and_redis()
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    WebhookEndpoint.objects.create(name="test", url=f"http://127.0.0.1:{hook.server_port}/hook")
    engineer = make_user(roles.SYSTEM_ENGINEER, email="eng@example.com")
    try:
        with celery_worker(tmp_path) as worker:
            outbox.notify(event="incident.p1", recipients=[engineer], subject="P1: ERP down", link="/x/")
            delivered = wait_for(lambda: not Notification.objects.exclude(status=DeliveryStatus.SENT).exists())
            assert delivered, "the worker did not deliver: " + drain(worker)
            assert {r["event"] for r in _Hook.received} == {"incident.p1"}
            assert len(list(tmp_path.iterdir())) == 1  # one email, once
            assert outbox.unread_count(engineer) == 1

            # A row the broker never heard of (an outage) is delivered by the sweep task on the worker.
            [row] = Notification.objects.bulk_create([Notification(
                event="missed", channel=Channel.IN_APP, recipient=engineer, subject="missed")])
            from opscenter.core.tasks import sweep_outbox

            sweep_outbox.delay()
            assert wait_for(lambda: Notification.objects.get(pk=row.pk).status == DeliveryStatus.SENT), drain(worker)
            assert Notification.objects.filter(status=DeliveryStatus.SENT).count() == 4
    finally:
        hook.shutdown()
        _Hook.received.clear()
