"""Time one SLA sweep (sla.clocks.sweep) over the running clocks of the bench database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opscenter_sla_bench .venv/bin/python bench/sla_sweep.py
    … bench/sla_sweep.py --due 0,10,100,1000 --repeat 3

Make the data first with bench/sla_generate.py (100,000 running clocks, none of their thresholds due). For
each figure of --due, that many unannounced thresholds of running clocks are made due, one sweep runs and
is timed, and everything is rolled back: the sweep announces them (breaches, outbox rows) in a transaction
that is never committed, so runs repeat on the same data and nothing is delivered. It prints figures and
asserts nothing.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import setup_django  # noqa: E402


class Rollback(Exception):
    """Leaves the measuring transaction without committing it."""


def make_due(count: int, now) -> None:  # noqa: ANN001
    """Bring `count` random unannounced thresholds of running clocks to one minute before `now`."""
    from django.db import connection

    from sla.models import Clock, ClockThreshold

    if not count:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {ClockThreshold._meta.db_table} SET due_at = %s - interval '1 minute'
            WHERE id IN (SELECT t.id FROM {ClockThreshold._meta.db_table} t
                         JOIN {Clock._meta.db_table} c ON c.id = t.clock_id
                         WHERE c.state = 'running' AND t.fired_at IS NULL
                         ORDER BY random() LIMIT %s)
        """, [now, count])


def one_sweep(due: int) -> tuple[float, int, int]:
    """(seconds, thresholds announced, queries) of one sweep with `due` thresholds due, rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sla import clocks

    now = timezone.now()
    result = (0.0, 0, 0)
    try:
        with transaction.atomic():
            make_due(due, now)
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                announced = clocks.sweep(now=now)
                result = (time.perf_counter() - began, announced, len(queries))
            raise Rollback
    except Rollback:
        pass
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", default="0,100,1000", help="comma-separated numbers of due thresholds to time")
    parser.add_argument("--repeat", type=int, default=3, help="sweeps per figure (the median is printed)")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from sla.choices import ClockState
    from sla.models import Clock

    running = Clock.objects.filter(state=ClockState.RUNNING).count()
    print(f"{connection.vendor} {connection.settings_dict['NAME']}: {running:,} running clocks, "
          f"{Clock.objects.count():,} clocks in all")
    if connection.vendor != "postgresql":
        print("(not PostgreSQL: the figures say little about production)")
    print(f"{'due thresholds':>15} {'announced':>10} {'median s':>9} {'min s':>7} {'queries':>8} {'ms/announce':>12}")
    for due in [int(n) for n in args.due.split(",") if n.strip()]:
        runs = [one_sweep(due) for _ in range(args.repeat)]
        seconds = [r[0] for r in runs]
        median = statistics.median(seconds)
        per = f"{median / runs[0][1] * 1000:.1f}" if runs[0][1] else "—"
        print(f"{due:>15,} {runs[0][1]:>10,} {median:>9.3f} {min(seconds):>7.3f} {runs[0][2]:>8,} {per:>12}")
    print("target: one sweep over 100,000 running clocks ≤ 2 s")


if __name__ == "__main__":
    main()
