"""Against real services: concurrent transitions on PostgreSQL, and a real Celery worker on Redis
delivering the outbox. They skip on a machine without the services and fail when CI is set."""

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.test import override_settings

from conftest import require_service
from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.exceptions import ConcurrentChange, InvalidState
from opscenter.core.models import Notification, TransitionLog, WebhookEndpoint
from opscenter.core.services import perform_transition
from opscenter.core.tests.workflow_app.models import WorkOrder


def require_postgres() -> None:
    require_service(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://…)")


def redis_reachable() -> bool:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


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


def _wait_for(predicate, timeout: float = 60) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_the_outbox_end_to_end(policy_defaults, make_user, tmp_path: Path) -> None:  # noqa: ANN001
    require_postgres()
    require_service(redis_reachable(), "Redis (set CELERY_BROKER_URL=redis://…)")
    from opscenter.celery import app

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    WebhookEndpoint.objects.create(name="test", url=f"http://127.0.0.1:{hook.server_port}/hook")
    engineer = make_user(roles.SYSTEM_ENGINEER, email="eng@example.com")

    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update({
        "DJANGO_SETTINGS_MODULE": "opscenter.settings.test",
        "DATABASE_URL": (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}"
                         f":{db['PORT'] or 5432}/{db['NAME']}"),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path),
    })
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue) if _queue_exists(conn, queue) else None
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opscenter", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
         "--loglevel=INFO"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    eager_off = override_settings(CELERY_TASK_ALWAYS_EAGER=False)
    eager_off.enable()
    try:
        outbox.notify(event="incident.p1", recipients=[engineer], subject="P1: ERP down", link="/x/")
        delivered = _wait_for(lambda: not Notification.objects.exclude(status=DeliveryStatus.SENT).exists())
        assert delivered, "the worker did not deliver: " + _drain(worker)
        assert {r["event"] for r in _Hook.received} == {"incident.p1"}
        assert len(list(tmp_path.iterdir())) == 1  # one email, once
        assert outbox.unread_count(engineer) == 1

        # A row the broker never heard of (an outage) is delivered by the sweep task on the worker.
        [row] = Notification.objects.bulk_create([Notification(
            event="missed", channel=Channel.IN_APP, recipient=engineer, subject="missed")])
        from opscenter.core.tasks import sweep_outbox

        sweep_outbox.delay()
        assert _wait_for(lambda: Notification.objects.get(pk=row.pk).status == DeliveryStatus.SENT), _drain(worker)
        assert Notification.objects.filter(status=DeliveryStatus.SENT).count() == 4
    finally:
        eager_off.disable()
        worker.terminate()
        worker.wait(20)
        hook.shutdown()
        _Hook.received.clear()


def _queue_exists(conn, queue: str) -> bool:  # noqa: ANN001
    try:
        conn.default_channel.queue_declare(queue, passive=True)
        return True
    except Exception:  # noqa: BLE001
        return False


def _drain(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        return "(worker output unavailable)"
    return out[-3000:] if out else ""
