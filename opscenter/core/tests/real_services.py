"""Helpers of the tests that run against real services: PostgreSQL, Redis and a Celery worker process."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import override_settings

from conftest import require_service


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


def require_postgres_and_redis() -> None:
    require_postgres()
    require_service(redis_reachable(), "Redis (set CELERY_BROKER_URL=redis://…)")


def wait_for(predicate: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def drain(process: subprocess.Popen) -> str:
    """The worker's last output, for the message of a failed assertion."""
    if process.poll() is None:
        process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        return "(worker output unavailable)"
    return out[-3000:] if out else ""


def _purge(queue: str) -> None:
    from opscenter.celery import app

    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_declare(queue, passive=True)
        except Exception:  # noqa: BLE001 - no such queue yet: nothing to purge
            return
        conn.default_channel.queue_purge(queue)


@contextmanager
def celery_worker(mail_dir: Path) -> Iterator[subprocess.Popen]:
    """A real worker process on the test database and the broker, writing mail as files into
    `mail_dir`; publishing from the test is switched from eager to the broker meanwhile."""
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "opscenter.settings.test",
        "DATABASE_URL": (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}"
                         f":{db['PORT'] or 5432}/{db['NAME']}"),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",  # the tests' webhook receivers listen on loopback
    })
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _purge(queue)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opscenter", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
         "--loglevel=INFO"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    eager_off = override_settings(CELERY_TASK_ALWAYS_EAGER=False)
    eager_off.enable()
    try:
        yield worker
    finally:
        eager_off.disable()
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
