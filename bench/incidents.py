"""Incident benchmark: 100,000 incidents with their timelines on PostgreSQL, served by gunicorn
(2 workers, production settings, DEBUG off) on 127.0.0.1, loaded from this process over loopback.

    .venv/bin/python bench/incidents.py                     # create/fill opscenter_bench, serve, measure
    .venv/bin/python bench/incidents.py --duration 20 --concurrency 4 --json bench/results/incidents.json

    .venv/bin/python bench/incidents.py --incidents 2000 --duration 6 --rounds 2 --warmup 1   # a short check

Prints requests/s and p50/p95 latency for: the incident list page, the list API (first page and a
filtered page), the detail page, the detail API, create via the API, and two floors, each scenario's
throughput shown as a share of both:
- the bare floor: a trivial `login_required` view under the same settings (bench/urls.py adds it; the
  application's own URLs never serve it), the least any signed-in page can cost;
- the API floor: GET /api/v1/me/, a small real API view with token authentication (the floor of the figures
  before December 2026; it costs about 3.4 times the bare one).
The list scenarios read pages of worked rows: the create scenario runs last in every round, and what it
reported is deleted (with its timeline) and the tables vacuumed before the next round's lists run, and before
the first round (what earlier runs left). Its reports would otherwise be the newest rows, and the first page of
every list would show bare reports with no category, team, assignee, department or CI, a page cheaper than
the one people read. Deleting was chosen over filtering them out: the list scenarios then run the very query a
user's first page runs, with the generated year's mix of states, and not a narrower one.
It prints figures and asserts nothing. Needs PostgreSQL (BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5432) and Redis for the broker (BENCH_BROKER_URL, default
redis://127.0.0.1:6379/15; the queue it fills there is purged at the end).
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import import_module
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Scenario:
    name: str
    method: str
    paths: list[str]
    auth: str  # "token", "session", or "duty-token" (the duty officer, for reporting)
    body: dict | None = None


FLOOR = "floor: GET /api/v1/me/"
BARE_FLOOR = "bare floor: login_required view"
BARE_FLOOR_PATH = "/bench/bare/"  # bench/urls.py
# The create scenario's report; its title marks the rows `remove_reports` deletes.
REPORT = {"title": "ERP 登入失敗（壓測）", "description": "壓測建立的事件", "impact_scope": "財務部",
          "occurred_at": "2026-01-05T09:00:00+08:00", "channel": "phone", "caller_name": "財務部 陳小姐"}


@dataclass
class Result:
    name: str
    path: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)
    status: dict[int, int] = field(default_factory=dict)
    load: float = 0.0  # the machine's 1-minute load average at the end: other work skews the figures
    client_cpu_ms: float = 0.0  # CPU time this load generator spent per request (the server's cores are shared)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def merge(self, other: "Result") -> "Result":
        """This scenario's figures over both runs (requests, time and latencies added up)."""
        status = dict(self.status)
        for code, count in other.status.items():
            status[code] = status.get(code, 0) + count
        return Result(self.name, self.path, self.requests + other.requests, self.errors + other.errors,
                      self.seconds + other.seconds, self.latencies + other.latencies, status, other.load,
                      (self.client_cpu_ms * self.requests + other.client_cpu_ms * other.requests)
                      / max(1, self.requests + other.requests))

    def share(self, floor: "Result | None") -> float | None:
        """This scenario's throughput as a share of a floor's (None when there is none to compare with)."""
        if floor is None or floor is self or not floor.rps:
            return None
        return self.rps / floor.rps

    def summary(self, floor: "Result | None" = None, bare: "Result | None" = None) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "latencies"}
        shares = {"of_floor": self.share(floor), "of_bare_floor": self.share(bare)}
        return {**data, "rps": round(self.rps, 1), "p50_ms": round(self.percentile(50), 1),
                "p95_ms": round(self.percentile(95), 1),
                **{key: round(value, 3) if value is not None else None for key, value in shares.items()}}


# --- the server side: database, data, gunicorn ------------------------------------------------------

def server_env(args: argparse.Namespace) -> dict[str, str]:
    """Production settings (DEBUG off, manifest static files) on plain HTTP over loopback. The server itself runs
    `bench.settings` (see start_gunicorn): these settings with the bare floor's URL added."""
    base = args.postgres_url.rstrip("/")
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)},
        "OPSCENTER_ENV": args.profile,
        "DEBUG": "false",
        "DATABASE_URL": f"{base}/{args.database}" + (f"?options={quote(args.pg_options)}" if args.pg_options else ""),
        "DATABASE_CONN_MAX_AGE": "600",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", secrets.token_urlsafe(48) + "Bench0"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CELERY_BROKER_URL": args.broker_url,
        "STATIC_ROOT": str(ROOT / "var" / "bench" / "static"),
        "MEDIA_ROOT": str(ROOT / "var" / "bench" / "media"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def ensure_database(args: argparse.Namespace) -> None:
    import psycopg

    conn = psycopg.connect(f"{args.postgres_url.rstrip('/')}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        if args.reset:
            cursor.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{args.database}"')
            print(f"created database {args.database}")
    conn.close()


def run(command: list[str], env: dict[str, str], what: str) -> str:
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"{what}: {time.monotonic() - began:.0f} s")
    return done.stdout


def prepare(args: argparse.Namespace, env: dict[str, str]) -> dict:
    """Migrate, collect static files, generate the incidents, and make the bench users' credentials.

    When the production profile's collectstatic fails (its manifest storage refuses a missing file),
    the server runs the development profile with DEBUG off instead, and says so.
    """
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env, "migrate")
    if env["OPSCENTER_ENV"] == "production":
        done = subprocess.run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            reason = next((line for line in reversed(done.stderr.splitlines()) if "Error" in line), "?")
            print(f"production collectstatic failed ({reason.strip()[:200]});\n"
                  "  serving with OPSCENTER_ENV=development and DEBUG=false instead")
            env.update({"OPSCENTER_ENV": "development", "DEBUG": "false"})
    remove_reports(env)  # what earlier runs' create scenario left: generate then tops up what is missing
    began = time.monotonic()
    if subprocess.run([PYTHON, "bench/generate.py", "--incidents", str(args.incidents)], cwd=ROOT, env=env).returncode:
        sys.exit("generate failed")
    print(f"generate: {time.monotonic() - began:.0f} s")
    out = run([PYTHON, __file__, "_credentials"], env, "credentials")
    return json.loads(out.strip().splitlines()[-1])


def remove_reports(env: dict[str, str]) -> None:
    """Delete the incidents the create scenario reported (in a child process with Django), then vacuum."""
    out = run([PYTHON, __file__, "_remove_reports"], env, "remove the reports of the create scenario")
    print("  " + out.strip().splitlines()[-1])


def remove_reported() -> None:
    """(In a child process with Django) delete the create scenario's reports: the incidents, their SLA clocks and
    notifications (through the ORM) and their timeline rows. The timeline tables refuse deletes through the ORM
    and, on PostgreSQL, in the database (audit records are append-only), so these go by SQL with the database's
    guard suspended (`audit_maintenance`, as the bench's superuser): housekeeping of the bench's own database,
    which nothing in the application does. Ends with VACUUM ANALYZE, as bench/generate.py does before each run, so
    the lists read a table in the state autovacuum keeps a server in."""
    sys.path.insert(0, str(ROOT))
    from opscenter.environment import configure

    configure()
    import django

    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from bench.generate import vacuum
    from incidents.models import Incident
    from opscenter.core.models import Attachment, Comment, FieldChange, Notification, TransitionLog
    try:
        from opscenter.core.models.workflow import audit_maintenance
    except ImportError:  # a commit before the audit guard (measuring an older one: docs/performance.md)
        from contextlib import nullcontext as audit_maintenance

    ids = list(Incident.objects.filter(title=REPORT["title"], created_by__username="duty")
               .values_list("pk", flat=True))
    content_type = ContentType.objects.get_for_model(Incident)
    with transaction.atomic():
        with audit_maintenance(), connection.cursor() as cursor:
            for model in (TransitionLog, FieldChange, Comment, Attachment):
                table = connection.ops.quote_name(model._meta.db_table)
                for start in range(0, len(ids), 5000):
                    cursor.execute(f"DELETE FROM {table} WHERE content_type_id = %s AND object_id = ANY(%s)",
                                   [content_type.pk, ids[start:start + 5000]])
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            Notification.objects.filter(event__startswith="incident.", payload__id__in=chunk).delete()
            Incident.objects.filter(pk__in=chunk).delete()
    if ids:
        vacuum()
    print(f"removed {len(ids)} reports of the create scenario; {Incident.objects.count()} incidents remain")


def credentials() -> None:
    """(In a child process with Django) a supervisor's token and session, a duty officer's token,
    and a sample of incident ids; printed as one JSON line."""
    sys.path.insert(0, str(ROOT))
    from opscenter.environment import configure

    configure()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from incidents.models import Incident
    from opscenter.core.models import User
    try:
        from opscenter.core.tokens import api_token_create
    except ImportError:  # a commit before the expiring tokens: DRF's own
        from rest_framework.authtoken.models import Token

        def api_token_create(user: object) -> tuple[None, str]:
            return None, Token.objects.get_or_create(user=user)[0].key

    supervisor, duty = User.objects.get(username="supervisor"), User.objects.get(username="duty")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(supervisor.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the one that reads users
    session[HASH_SESSION_KEY] = supervisor.get_session_auth_hash()
    session.create()
    ids = list(Incident.objects.order_by("?").values_list("pk", flat=True)[:500])
    print(json.dumps({
        "token": api_token_create(user=supervisor)[1],
        "duty_token": api_token_create(user=duty)[1],
        "session": session.session_key, "ids": ids, "incidents": Incident.objects.count(),
    }))


def start_gunicorn(args: argparse.Namespace, env: dict[str, str]) -> subprocess.Popen:
    """Serve the project's WSGI application with bench.settings: the same settings, the bare floor's URL added."""
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "opscenter.wsgi", "--workers", str(args.workers), "--threads", str(args.threads),
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return server
        except OSError:
            if server.poll() is not None:
                sys.exit("gunicorn exited during start-up")
            time.sleep(0.3)
    stop(server)
    sys.exit("gunicorn did not answer within 60 s")


def stop(server: subprocess.Popen) -> None:
    """Ask the gunicorn master to shut down (it stops its workers); kill its process group if it hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


def purge_broker(url: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2)
        client.delete("opscenter")  # the default queue: deliveries the bench's creates queued
    except Exception as exc:  # noqa: BLE001
        print(f"(could not purge the bench broker: {exc})")


# --- the load side -------------------------------------------------------------------------------

class Client:
    """One connection's worth of requests; gunicorn's sync workers close after each response."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method: str, path: str, body: bytes | None) -> int:
        try:
            self.conn.request(method, path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
            return response.status
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 599


def headers_for(scenario: Scenario, creds: dict) -> dict[str, str]:
    headers = {"Accept": "application/json" if scenario.auth != "session" else "text/html",
               "Accept-Language": "zh-hant", "Host": "127.0.0.1"}
    if scenario.auth == "session":
        headers["Cookie"] = f"sessionid={creds['session']}"
    else:
        headers["Authorization"] = f"Token {creds['duty_token' if scenario.auth == 'duty-token' else 'token']}"
    if scenario.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def measure(scenario: Scenario, creds: dict, args: argparse.Namespace, duration: float) -> Result:
    """Warm up, then run `concurrency` threads for `duration` seconds; every request is timed."""
    body = json.dumps(scenario.body).encode() if scenario.body is not None else None
    result = Result(scenario.name, scenario.paths[0])
    lock = threading.Lock()
    phase = {"record": False, "stop": False}

    def worker(offset: int) -> None:
        client = Client(args.port, headers_for(scenario, creds))
        i = offset
        while not phase["stop"]:
            path = scenario.paths[i % len(scenario.paths)]
            i += args.concurrency
            began = time.perf_counter()
            status = client.send(scenario.method, path, body)
            elapsed = time.perf_counter() - began
            if phase["record"] and not phase["stop"]:
                with lock:
                    result.requests += 1
                    result.latencies.append(elapsed)
                    result.status[status] = result.status.get(status, 0) + 1
                    if status >= 400:
                        result.errors += 1
        client.conn.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(args.concurrency)]
    for t in threads:
        t.start()
    time.sleep(args.warmup)
    phase["record"] = True
    began, cpu = time.monotonic(), time.process_time()
    time.sleep(duration)
    phase["stop"] = True
    result.seconds = time.monotonic() - began
    result.client_cpu_ms = (time.process_time() - cpu) * 1000 / max(1, result.requests)
    result.load = os.getloadavg()[0]
    for t in threads:
        t.join(35)
    return result


def probe(port: int, scenario: Scenario, creds: dict) -> int:
    body = json.dumps(scenario.body).encode() if scenario.body is not None else None
    client = Client(port, headers_for(scenario, creds))
    status = client.send(scenario.method, scenario.paths[0], body)
    client.conn.close()
    return status


def scenarios(creds: dict) -> list[Scenario]:
    """The scenarios in the order each round takes them; create comes last (its reports are removed after it)."""
    ids = creds["ids"]
    return [
        Scenario(BARE_FLOOR, "GET", [BARE_FLOOR_PATH], "session"),
        Scenario(FLOOR, "GET", ["/api/v1/me/"], "token"),
        Scenario("list page", "GET", ["/incidents/"], "session"),
        Scenario("list API, first page", "GET", ["/api/v1/incidents/"], "token"),
        Scenario("list API, filtered", "GET", ["/api/v1/incidents/?state=handling&priority=P1"], "token"),
        Scenario("detail page", "GET", [f"/incidents/{pk}/" for pk in ids], "session"),
        Scenario("detail API", "GET", [f"/api/v1/incidents/{pk}/" for pk in ids], "token"),
        Scenario("create via API", "POST", ["/api/v1/incidents/"], "duty-token", body=REPORT),
    ]


def print_table(results: list[Result], skipped: dict[str, int], floor: Result | None, bare: Result | None) -> None:
    """One line per scenario; "of /me/" is the share of GET /api/v1/me/, "of bare" the share of the bare floor."""
    print()
    print(f"{'scenario':<31} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'requests':>9} {'errors':>7} "
          f"{'of /me/':>8} {'of bare':>8} {'load':>5} {'client CPU':>10}")
    for r in results:
        shares = [r.share(floor), r.share(bare)]
        of_floor, of_bare = (f"{share:>8.0%}" if share is not None else "" for share in shares)
        print(f"{r.name:<31} {r.rps:>8.1f} {r.percentile(50):>8.1f} {r.percentile(95):>8.1f} "
              f"{r.requests:>9} {r.errors:>7} {of_floor:>8} {of_bare:>8} {r.load:>5.1f} {r.client_cpu_ms:>7.2f} ms")
    for name, status in skipped.items():
        print(f"{name:<31} not measured: the endpoint answered {status}")


def main() -> None:
    if sys.argv[1:2] == ["_credentials"]:
        credentials()
        return
    if sys.argv[1:2] == ["_remove_reports"]:
        remove_reported()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000,
                        help="incidents the bench database holds (generated up to this many; a smaller number "
                             "than it holds generates none)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "opscenter_bench"))
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1: sync workers; more: gthread workers)")
    parser.add_argument("--profile", choices=["production", "development"], default="production",
                        help="settings profile of the server (DEBUG is off in both)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads kept busy")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first (each round)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds the scenarios (the floor too) take in turn")
    parser.add_argument("--only", action="append", help="measure only scenarios whose name contains this")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--pg-options", default="", help='server options for the connections, to try a '
                        'setting: e.g. "-c join_collapse_limit=4"')
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if urlsplit(args.postgres_url).scheme not in ("postgres", "postgresql"):
        sys.exit("--postgres-url must be a postgres:// URL")

    ensure_database(args)
    env = server_env(args)
    creds = prepare(args, env)
    print(f"database {args.database}: {creds['incidents']} incidents; gunicorn {args.workers} workers × "
          f"{args.threads} thread{'s' if args.threads > 1 else ''} "
          f"({env['OPSCENTER_ENV']} settings, DEBUG off); load average {os.getloadavg()[0]:.1f}; "
          f"{args.concurrency} client threads × {args.duration:.0f} s per scenario; CPUs: {os.cpu_count()}")
    server = start_gunicorn(args, env)
    results: dict[str, Result] = {}
    skipped: dict[str, int] = {}
    try:
        chosen = []
        for scenario in scenarios(creds):
            if args.only and not any(word in scenario.name for word in args.only) and "floor" not in scenario.name:
                continue
            status = probe(args.port, scenario, creds)
            if status >= 400 or status == 599 or (scenario.method == "GET" and status != 200):
                skipped[scenario.name] = status
                continue
            chosen.append(scenario)
        # Each scenario's time is split into rounds, the floor's too, taken in turn: a shared machine speeds up
        # and slows down over minutes, and a share of the floor means something only if both saw the same.
        # The probes' report and each round's creates are removed before the next lists run (see the docstring).
        if any(scenario.method == "POST" for scenario in chosen):
            remove_reports(env)
        for round_no in range(1, args.rounds + 1):
            for scenario in chosen:
                part = measure(scenario, creds, args, args.duration / args.rounds)
                results[scenario.name] = results[scenario.name].merge(part) if scenario.name in results else part
                if scenario.method == "POST":
                    remove_reports(env)
            print(f"  round {round_no}/{args.rounds}: " + ", ".join(
                f"{r.name.split(':')[0]} {r.rps:.0f}/s" for r in results.values()))
    finally:
        stop(server)
        purge_broker(args.broker_url)
    results = list(results.values())
    floor = next((r for r in results if r.name == FLOOR), None)
    bare = next((r for r in results if r.name == BARE_FLOOR), None)
    print_table(results, skipped, floor, bare)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "incidents": creds["incidents"], "workers": args.workers, "threads": args.threads,
            "concurrency": args.concurrency,
            "profile": env["OPSCENTER_ENV"],
            "duration": args.duration, "rounds": args.rounds, "cpus": os.cpu_count(),
            "floors": {"of_floor": FLOOR, "of_bare_floor": BARE_FLOOR},
            "results": [r.summary(floor, bare) for r in results], "not_measured": skipped,
        }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
