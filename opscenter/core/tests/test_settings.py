"""Start-up configuration: a missing or malformed setting stops manage.py with one line naming it;
a complete production configuration passes the deploy checks; SQLite runs in WAL with IMMEDIATE
transactions."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

BASE_DIR = Path(__file__).resolve().parents[3]
PYTHON = BASE_DIR / ".venv" / "bin" / "python"


def good_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


# Variables these tests set or expect absent; whatever the calling shell (or CI) has for them is dropped.
CONTROLLED = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "TIME_ZONE",
              "OUTBOX_MAX_ATTEMPTS", "EMAIL_USE_TLS", "CELERY_BROKER_URL", "DATABASE_PREPARED_STATEMENTS",
              "CACHE_URL", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES", "API_TOKEN_TTL_HOURS",
              "TRUSTED_PROXY_COUNT", "WEBHOOK_ALLOWED_NETWORKS"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a clean environment with the given variables."""
    clean = {k: v for k, v in os.environ.items() if k not in CONTROLLED and not k.startswith("OPSCENTER_")}
    clean.update(env)
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    return subprocess.run([str(python), "manage.py", *args], cwd=BASE_DIR, env=clean, capture_output=True,
                          text=True, timeout=120)


def assert_one_line_naming(result: subprocess.CompletedProcess, name: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # noqa: ANN001
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


def test_production_refuses_to_start_without_a_secret_key(sqlite_url) -> None:  # noqa: ANN001
    result = manage("check", OPSCENTER_ENV="production", ALLOWED_HOSTS="ops.example.com", DATABASE_URL=sqlite_url)
    assert_one_line_naming(result, "SECRET_KEY")


@pytest.mark.parametrize("key", ["short", "django-insecure-" + "x" * 50, "ab" * 40])
def test_production_refuses_a_weak_secret_key(sqlite_url, key) -> None:  # noqa: ANN001
    result = manage("check", OPSCENTER_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="ops.example.com",
                    DATABASE_URL=sqlite_url)
    assert_one_line_naming(result, "SECRET_KEY")


@pytest.mark.parametrize("hosts", [None, "*"])
def test_production_refuses_to_start_without_allowed_hosts(sqlite_url, hosts) -> None:  # noqa: ANN001
    env = {"OPSCENTER_ENV": "production", "SECRET_KEY": good_secret_key(), "DATABASE_URL": sqlite_url}
    if hosts:
        env["ALLOWED_HOSTS"] = hosts
    assert_one_line_naming(manage("check", **env), "ALLOWED_HOSTS")


def test_complete_production_configuration_passes_the_deploy_checks(sqlite_url) -> None:  # noqa: ANN001
    result = manage("check", "--deploy", "--fail-level", "WARNING", OPSCENTER_ENV="production",
                    SECRET_KEY=good_secret_key(), ALLOWED_HOSTS="ops.example.com", DATABASE_URL=sqlite_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_complete_production_configuration_passes_djangos_security_checks(sqlite_url) -> None:  # noqa: ANN001
    result = manage("check", "--deploy", "--tag", "security", "--fail-level", "WARNING",
                    OPSCENTER_ENV="production", SECRET_KEY=good_secret_key(), ALLOWED_HOSTS="ops.example.com",
                    DATABASE_URL=sqlite_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"OPSCENTER_ENV": "bogus"}, "OPSCENTER_ENV"),
        ({"OUTBOX_MAX_ATTEMPTS": "abc"}, "OUTBOX_MAX_ATTEMPTS"),
        ({"TIME_ZONE": "Mars/Base"}, "TIME_ZONE"),
        ({"EMAIL_USE_TLS": "ture"}, "EMAIL_USE_TLS"),
        ({"CELERY_BROKER_URL": "carrier-pigeon://loft"}, "CELERY_BROKER_URL"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"CACHE_URL": "nonsense://x"}, "CACHE_URL"),
        ({"AXES_FAILURE_LIMIT": "0"}, "AXES_FAILURE_LIMIT"),
        ({"AXES_COOLOFF_MINUTES": "soon"}, "AXES_COOLOFF_MINUTES"),
        ({"API_TOKEN_TTL_HOURS": "0"}, "API_TOKEN_TTL_HOURS"),
        ({"WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8,10.0.0.0/33"}, "WEBHOOK_ALLOWED_NETWORKS"),
    ],
    ids=["env", "outbox-attempts", "time-zone", "email-tls", "broker", "database-url", "cache-url",
         "failure-limit", "cool-off", "token-lifetime", "webhook-networks"],
)
def test_malformed_setting_stops_start_up_with_one_line_naming_it(env, name) -> None:  # noqa: ANN001
    assert_one_line_naming(manage("check", **env), name)


@pytest.mark.parametrize("profile", ["development", "production"])
def test_sessions_are_read_from_a_cache_every_process_of_the_machine_shares(sqlite_url, profile) -> None:  # noqa: ANN001
    """A session ended by one web worker is ended for all: by default the cache is on disk, not in a process."""
    script = "from django.conf import settings as s; print(s.SESSION_ENGINE, s.CACHES['default']['BACKEND'])"
    result = manage("shell", "--no-imports", "-c", script, OPSCENTER_ENV=profile, SECRET_KEY=good_secret_key(),
                    ALLOWED_HOSTS="ops.example.com", DATABASE_URL=sqlite_url)
    assert result.stdout.split() == ["django.contrib.sessions.backends.cached_db",
                                     "django.core.cache.backends.filebased.FileBasedCache"], result.stderr
    result = manage("shell", "--no-imports", "-c", script, OPSCENTER_ENV=profile, SECRET_KEY=good_secret_key(),
                    ALLOWED_HOSTS="ops.example.com", DATABASE_URL=sqlite_url, CACHE_URL="redis://cache:6379/1")
    assert result.stdout.split()[1] == "django.core.cache.backends.redis.RedisCache", result.stderr


def test_sqlite_takes_the_write_lock_at_begin() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the test database is not SQLite")
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_file_database_runs_in_wal_mode(tmp_path, django_db_blocker) -> None:  # noqa: ANN001
    if connection.vendor != "sqlite":
        pytest.skip("the test database is not SQLite")
    config = {**connection.settings_dict, "NAME": str(tmp_path / "wal.sqlite3")}
    wrapper = DatabaseWrapper(config, alias="wal-check")
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 20000
        assert wrapper.transaction_mode == "IMMEDIATE"
    finally:
        wrapper.close()


def test_production_collects_static_files_for_whitenoise(sqlite_url, tmp_path) -> None:  # noqa: ANN001
    """The manifest storage resolves every reference in the vendored CSS and JS (no missing source maps)."""
    result = manage("collectstatic", "--no-input", OPSCENTER_ENV="production", SECRET_KEY=good_secret_key(),
                    ALLOWED_HOSTS="ops.example.com", DATABASE_URL=sqlite_url, STATIC_ROOT=str(tmp_path / "static"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert list((tmp_path / "static" / "vendor" / "tabler" / "css").glob("tabler.min.*.css"))


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_plans_a_repeated_query_once(django_user_model) -> None:  # noqa: ANN001
    """The second run of a query on a connection makes it a prepared statement: PostgreSQL skips planning it."""
    from opscenter.core.tests.real_services import require_postgres

    require_postgres()
    assert settings.DATABASES["default"]["OPTIONS"]["server_side_binding"] is True
    for _ in range(3):
        list(django_user_model.objects.filter(username="nobody").select_related("department"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%"core_user"."username" = $1%'])
        assert cursor.fetchone()[0] == 1


def test_prepared_statements_can_be_turned_off_for_a_pooler() -> None:
    result = manage("shell", "-c", "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
                    DATABASE_URL="postgres://nobody@127.0.0.1:1/none", DATABASE_PREPARED_STATEMENTS="false")
    assert result.returncode == 0, result.stderr
    assert "server_side_binding" not in result.stdout and "prepare_threshold" not in result.stdout
    result = manage("shell", "-c", "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
                    DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert "'server_side_binding': True" in result.stdout and "'prepare_threshold': 2" in result.stdout


@pytest.mark.parametrize("given", [{}, {"CELERY_BROKER_URL": "filesystem://"}])
def test_the_embedded_broker_connects_without_a_hostname_warning(sqlite_url, given) -> None:  # noqa: ANN001
    """The filesystem transport has no host: the embedded default's URL names localhost so kombu does not warn at
    every connection, also when the README's default is given in the environment (which Celery reads first)."""
    script = ("import logging; logging.basicConfig(level=logging.WARNING)\n"
              "from kombu import Connection\nfrom opscenter.celery import app\n"
              "print(app.conf.broker_url); Connection(app.conf.broker_url).info()")
    result = manage("shell", "--no-imports", "-c", script, DATABASE_URL=sqlite_url, **given)
    assert result.stdout.split()[0] == "filesystem://localhost/", result.stderr
    assert "hostname" not in result.stderr.lower(), result.stderr


def test_production_forbids_inline_script_and_answers_health_probes_over_http(sqlite_url) -> None:  # noqa: ANN001
    script = ("from django.test import Client; c = Client(); h = c.get('/healthz'); "
              "print(h.status_code, '|', h.headers.get('Content-Security-Policy')); "
              "print(c.get('/api/v1/me/').status_code)")
    result = manage("shell", "--no-imports", "-c", script, OPSCENTER_ENV="production", SECRET_KEY=good_secret_key(),
                    ALLOWED_HOSTS="testserver", DATABASE_URL=sqlite_url)
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2, result.stdout + result.stderr
    status, policy = lines[-2].split(" | ")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert status in ("200", "503"), result.stdout  # the probe's answer over HTTP, not a redirect to HTTPS
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert lines[-1] == "301"  # everything else still goes to HTTPS


def test_no_template_has_inline_script_or_event_handlers() -> None:
    """The production policy forbids inline script: behaviour lives in static/js/ (opscenter.js and the pages' own)."""
    import re

    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son(click|change|submit|load|input)=", re.IGNORECASE)
    offenders = [f"{path}:{n}" for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if inline.search(line)]
    assert offenders == []
