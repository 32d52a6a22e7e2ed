"""Service level bench data on PostgreSQL: N incidents over the last year with their response and resolution
clocks, breaches and outages, of which a number are open with running clocks and their thresholds — written
set-wise with INSERT … SELECT over generate_series (no ORM per row, no services, no notifications).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opscenter_sla_bench \\
        .venv/bin/python bench/sla_generate.py --incidents 1000000 --running 100000

The database is created and migrated when missing. The demo organisation and the demo agreements (office
hours with CN holidays, 7×24 for P1, thresholds 50/75/90/100 %) are created first when missing. Bench
incidents are numbered BEN-…; the table is topped up to N of them (a second run with the same N does
nothing). Running clocks: the open incidents are assigned, so each has a running response and resolution
clock (`--running` clocks in all), started within the last hour with deadlines 1–49 h ahead: none of their
thresholds is due, and bench/sla_sweep.py makes as many due as it measures. Stopped clocks carry an
approximate business time (40 % of the wall-clock time) and a breach when it exceeds the target; their
timelines (clock events) and their thresholds are not written.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import setup_django  # noqa: E402

CHUNK = 100_000
# priority shares (cumulative) like the incident bench: P1 2 %, P2 10 %, P3 48 %, P4 40 %
PRIORITY_SQL = ("CASE WHEN r_priority < 0.02 THEN 'P1' WHEN r_priority < 0.12 THEN 'P2' "
                "WHEN r_priority < 0.60 THEN 'P3' ELSE 'P4' END")


def ensure_database() -> None:
    """Create the database DATABASE_URL names when it is missing (PostgreSQL only)."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("set DATABASE_URL to a postgres:// URL (e.g. postgres://postgres@127.0.0.1:5432/opscenter_sla_bench)")
    import psycopg

    name = parts.path.lstrip("/")
    conn = psycopg.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    conn.close()


def columns(model, given: dict[str, str]) -> tuple[str, str]:  # noqa: ANN001
    """The column list and the SELECT expressions of an INSERT: the given expressions, and for every other
    column NULL, '' or false as an empty field of the model would hold."""
    names, expressions = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or getattr(field, "generated", False):  # the database works a generated column out
            continue
        if field.column in given:
            expression = given[field.column]
        elif field.null:
            expression = "NULL"
        elif field.get_internal_type() == "BooleanField":
            expression = "false"
        elif field.get_internal_type() in ("CharField", "TextField", "SlugField"):
            expression = "''"
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
        names.append(f'"{field.column}"')
        expressions.append(expression)
    return ", ".join(names), ", ".join(expressions)


def prerequisites(now: dt.datetime) -> dict:
    """The demo organisation and agreements; returns the ids the INSERTs pick from."""
    from incidents.models import Category
    from opscenter.core.demo import seed_organisation
    from opscenter.core.models import Department, Service, Team, User
    from sla import demo
    from sla.models import Agreement

    if not User.objects.filter(username="duty").exists():
        seed_organisation(os.environ.get("BENCH_PASSWORD", "opscenter-demo"))
    if not Agreement.objects.exists():
        demo.terms(now)
    return {
        "departments": list(Department.objects.order_by("pk").values_list("pk", flat=True)),
        "services": list(Service.objects.order_by("pk").values_list("pk", flat=True)),
        "teams": list(Team.objects.order_by("pk").values_list("pk", flat=True)),
        "categories": list(Category.objects.order_by("pk").values_list("pk", flat=True)),
        "engineers": list(User.objects.filter(username__in=["sysadmin", "neteng", "desktop", "security"])
                          .order_by("pk").values_list("pk", flat=True)),
        "duty": User.objects.get(username="duty").pk,
        "supervisor": User.objects.get(username="supervisor").pk,
    }


def insert_incidents(cursor, first: int, last: int, open_from: int, now: dt.datetime, ids: dict) -> None:  # noqa: ANN001
    """Incidents BEN-first … BEN-last: closed over the last year, assigned (open) from `open_from` on."""
    from incidents.models import Incident

    pick = "({array})[1 + (g %% cardinality({array}))]"
    given = {
        "number": "'BEN-' || lpad(g::text, 8, '0')", "title": "'Bench incident ' || g",
        "created_by_id": "%(duty)s", "created_at": "created", "updated_at": "coalesce(closed, created)",
        "state": "CASE WHEN is_open THEN 'assigned' ELSE 'closed' END", "description": "'bench'",
        "occurred_at": "created - interval '5 minutes'", "impact_scope": "'bench'", "channel": "'phone'",
        "caller_name": "'bench caller'", "department_id": pick.format(array="%(departments)s::bigint[]"),
        "service_id": pick.format(array="%(services)s::bigint[]"),
        "category_id": pick.format(array="%(categories)s::bigint[]"), "impact": "2", "urgency": "2",
        "priority": PRIORITY_SQL, "classified_at": "created + interval '3 minutes'",
        "team_id": pick.format(array="%(teams)s::bigint[]"),
        "assignee_id": pick.format(array="%(engineers)s::bigint[]"),
        "assigned_at": "created + interval '8 minutes'", "first_response_at": "responded", "resolved_at": "resolved",
        "resolved_by_id": "CASE WHEN is_open THEN NULL ELSE (%(engineers)s::bigint[])[1 + (g %% 4)] END",
        "closed_at": "closed",
    }
    names, expressions = columns(Incident, given)
    cursor.execute(f"""
        INSERT INTO {Incident._meta.db_table} ({names})
        SELECT {expressions} FROM (
            SELECT g, is_open, r_priority, created,
                   CASE WHEN is_open THEN NULL ELSE created + r_response * r_response * interval '3 hours' END
                       AS responded,
                   CASE WHEN is_open THEN NULL
                        ELSE created + r_response * r_response * interval '3 hours'
                             + r_resolve * r_resolve * interval '3 days' END AS resolved,
                   CASE WHEN is_open THEN NULL
                        ELSE created + r_response * r_response * interval '3 hours'
                             + r_resolve * r_resolve * interval '3 days' + interval '1 day' END AS closed
            FROM (
                SELECT g, g >= %(open_from)s AS is_open, random() AS r_priority, random() AS r_response,
                       random() AS r_resolve,
                       CASE WHEN g >= %(open_from)s THEN %(now)s - random() * interval '1 hour'
                            ELSE %(now)s - interval '5 days' - random() * interval '360 days' END AS created
                FROM generate_series(%(first)s::integer, %(last)s::integer) AS g
            ) AS drawn
        ) AS incident
    """, {**ids, "first": first, "last": last, "open_from": open_from, "now": now})


def insert_clocks(cursor, first_number: str, last_number: str, now: dt.datetime) -> None:  # noqa: ANN001
    """Response and resolution clocks of the bench incidents numbered in [first, last], under their
    department's agreement; running on open incidents, stopped (and breached past the target) on closed ones."""
    from incidents.models import Incident
    from sla.models import Agreement, BusinessCalendar, Clock, PriorityTarget

    given = {
        "incident_id": "incident_id", "kind": "kind", "agreement_id": "agreement_id",
        "department_id": "department_id", "calendar_id": "calendar_id", "priority": "priority",
        "target_seconds": "target", "state": "CASE WHEN running THEN 'running' ELSE 'stopped' END",
        "started_at": "started", "segment_started_at": "CASE WHEN running THEN started END",
        "elapsed_seconds": "CASE WHEN running THEN 0 ELSE elapsed END",
        "due_at": "CASE WHEN running THEN %(now)s + interval '1 hour' + random() * interval '48 hours' END",
        "stopped_at": "CASE WHEN running THEN NULL ELSE stopped END",
        "breached": "NOT running AND elapsed > target", "calendar_version": "calendar_version",
    }
    names, expressions = columns(Clock, given)
    cursor.execute(f"""
        INSERT INTO {Clock._meta.db_table} ({names})
        SELECT {expressions} FROM (
            SELECT i.id AS incident_id, k.kind, a.id AS agreement_id, i.department_id,
                   coalesce(pt.calendar_id, a.calendar_id) AS calendar_id, cal.version AS calendar_version,
                   i.priority, i.state <> 'closed' AS running, i.created_at AS started,
                   CASE k.kind WHEN 'response' THEN pt.response_minutes ELSE pt.resolution_minutes END * 60
                       AS target,
                   CASE k.kind WHEN 'response' THEN i.first_response_at ELSE i.resolved_at END AS stopped,
                   (0.4 * extract(epoch FROM CASE k.kind WHEN 'response' THEN i.first_response_at
                                                         ELSE i.resolved_at END - i.created_at))::integer AS elapsed
            FROM {Incident._meta.db_table} AS i
            CROSS JOIN (VALUES ('response'), ('resolution')) AS k(kind)
            JOIN LATERAL (SELECT id, calendar_id FROM {Agreement._meta.db_table}
                          WHERE department_id = i.department_id ORDER BY valid_from DESC, id DESC LIMIT 1) AS a
                 ON true
            LEFT JOIN {PriorityTarget._meta.db_table} AS pt ON pt.agreement_id = a.id AND pt.priority = i.priority
            JOIN {BusinessCalendar._meta.db_table} AS cal ON cal.id = coalesce(pt.calendar_id, a.calendar_id)
            WHERE i.number BETWEEN %(first)s AND %(last)s
        ) AS clock
    """, {"first": first_number, "last": last_number, "now": now})


def keep_next_targets(first_number: str, last_number: str) -> None:
    """The next SLA target of the bench incidents numbered in [first, last] on their rows, as the clock services
    keep it (on a release from before the incident row kept it, nothing)."""
    from incidents.models import Incident
    from sla import clocks

    store = getattr(clocks, "store_next_targets", None)
    if store is not None:
        store(Incident.objects.filter(number__range=(first_number, last_number)).exclude(state="closed"))


def insert_thresholds(cursor, now: dt.datetime) -> None:  # noqa: ANN001
    """The 50/75/90/100 % thresholds of the running bench clocks, all ahead of now."""
    from sla.models import Clock, ClockThreshold

    cursor.execute(f"""
        INSERT INTO {ClockThreshold._meta.db_table} (clock_id, percent, due_at, fired_at)
        SELECT c.id, p.percent, c.started_at + (c.due_at - c.started_at) * p.percent / 100.0, NULL
        FROM {Clock._meta.db_table} AS c CROSS JOIN (VALUES (50), (75), (90), (100)) AS p(percent)
        WHERE c.state = 'running' AND c.due_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {ClockThreshold._meta.db_table} t WHERE t.clock_id = c.id)
    """)


def insert_breaches_and_outages(cursor, first_number: str, last_number: str, supervisor: int) -> None:  # noqa: ANN001
    """A breach per breached bench clock (nine in ten explained), and an outage on one P1 incident in three."""
    from incidents.models import Incident
    from sla.models import Breach, Clock, Outage

    names, expressions = columns(Breach, {
        "clock_id": "c.id", "incident_id": "c.incident_id", "department_id": "c.department_id", "kind": "c.kind",
        "breached_at": "c.started_at + c.target_seconds * interval '1 second' / 0.4",
        "explanation": "CASE WHEN c.id %% 10 <> 0 THEN 'bench explanation' ELSE '' END",
        "corrective_action": "CASE WHEN c.id %% 10 <> 0 THEN 'bench action' ELSE '' END",
        "action_owner_id": f"CASE WHEN c.id %% 10 <> 0 THEN {int(supervisor)} END",
        "action_due": "CASE WHEN c.id %% 10 <> 0 THEN (c.stopped_at + interval '14 days')::date END"})
    cursor.execute(f"""
        INSERT INTO {Breach._meta.db_table} ({names})
        SELECT {expressions} FROM {Clock._meta.db_table} AS c JOIN {Incident._meta.db_table} AS i
            ON i.id = c.incident_id
        WHERE c.breached AND i.number BETWEEN %(first)s AND %(last)s
    """, {"first": first_number, "last": last_number})
    names, expressions = columns(Outage, {
        "incident_id": "i.id", "service_id": "i.service_id", "started_at": "i.created_at",
        "ended_at": "i.resolved_at", "kind": "'full'", "recorded_by_id": str(int(supervisor)),
        "recorded_at": "i.resolved_at"})
    cursor.execute(f"""
        INSERT INTO {Outage._meta.db_table} ({names})
        SELECT {expressions} FROM {Incident._meta.db_table} AS i
        WHERE i.priority = 'P1' AND i.resolved_at IS NOT NULL AND i.id %% 3 = 0
          AND i.number BETWEEN %(first)s AND %(last)s
    """, {"first": first_number, "last": last_number})


def number(n: int) -> str:
    return f"BEN-{n:08d}"


def generate(target: int, running: int, out=sys.stdout) -> int:  # noqa: ANN001
    """Top the bench incidents up to `target`; the last `running` / 2 of them are open. Returns how many
    were added."""
    from django.db import connection, transaction
    from django.utils import timezone

    from incidents.models import Incident

    if connection.vendor != "postgresql":
        sys.exit("the SLA bench data is written with PostgreSQL's generate_series: set DATABASE_URL to postgres://…")
    now = timezone.now()
    ids = prerequisites(now)
    existing = Incident.objects.filter(number__startswith="BEN-").count()
    missing = max(0, target - existing)
    out.write(f"bench incidents: {existing} present, {missing} to add\n")
    if not missing:
        return 0
    open_from = target - running // 2 + 1
    began = time.monotonic()
    for first in range(existing + 1, target + 1, CHUNK):
        last = min(target, first + CHUNK - 1)
        step = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            insert_incidents(cursor, first, last, open_from, now, ids)
            insert_clocks(cursor, number(first), number(last), now)
            insert_breaches_and_outages(cursor, number(first), number(last), ids["supervisor"])
            keep_next_targets(number(first), number(last))
        out.write(f"  {last:>9} incidents with clocks ({time.monotonic() - step:.1f} s)\n")
        out.flush()
    with transaction.atomic(), connection.cursor() as cursor:
        insert_thresholds(cursor, now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    out.write(f"added {missing} incidents with their clocks in {time.monotonic() - began:.0f} s\n")
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="bench incidents the table should hold")
    parser.add_argument("--running", type=int, default=100_000, help="running clocks (two per open incident)")
    args = parser.parse_args()
    ensure_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    generate(args.incidents, args.running)


if __name__ == "__main__":
    main()
