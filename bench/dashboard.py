"""Time a department's service level dashboard: the figures of one month and the trend over twelve months
(sla.metrics.department_month and department_trend), on the bench database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opscenter_sla_bench .venv/bin/python bench/dashboard.py
    … bench/dashboard.py --department finance --repeat 10

Make the data first with bench/sla_generate.py. Each figure is timed `--repeat` times after one untimed
warm-up call, with the number of queries. It prints figures and asserts nothing.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import setup_django  # noqa: E402

TARGETS = {"month": 0.200, "12 months": 0.500}


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], int]:
    """Seconds of each of `repeat` calls after a warm-up, and the queries of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as queries:
        call()
    return seconds, len(queries)


def publish_closed_months(metrics, department, last) -> None:  # noqa: ANN001
    """As the monthly evaluation does (定期評估): the eleven months before `last` published with their figures
    frozen, so the trend reads them back and computes `last` alone. Written once; printed when written."""
    from sla.choices import EvaluationState
    from sla.models import Evaluation

    months = metrics.trend_months(metrics.add_months(last, -1), 11)
    published = Evaluation.objects.filter(department=department, month__in=months, state=EvaluationState.PUBLISHED)
    if published.count() == len(months):
        return
    began = time.perf_counter()
    figures = metrics.department_months(department_ids=[department.pk], months=months)[department.pk]
    for month in months:
        Evaluation.objects.update_or_create(department=department, month=month, defaults={
            "state": EvaluationState.PUBLISHED, "figures": figures[f"{month:%Y-%m}"], "summary": "bench"})
    print(f"published the 11 closed months before {last:%Y-%m} (their figures computed once) in "
          f"{time.perf_counter() - began:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--department", default="finance", help="code of the department")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--live", action="store_true",
                        help="leave the months unpublished: the trend computes all twelve (the worst case)")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from incidents.models import Incident
    from opscenter.core.models import Department

    try:
        from sla import metrics
    except ImportError:
        metrics = None
    month_figures = getattr(metrics, "department_month", None)
    trend = getattr(metrics, "department_trend", None)
    if month_figures is None or trend is None:
        print("sla.metrics.department_month / department_trend are not there yet: nothing to measure.")
        return
    department = Department.objects.filter(code=args.department).first()
    if department is None:
        sys.exit(f"no department {args.department!r}: run bench/sla_generate.py first")
    last = metrics.add_months(metrics.current_month(), -1)
    if not args.live:
        publish_closed_months(metrics, department, last)
    print(f"{connection.vendor} {connection.settings_dict['NAME']}: {Incident.objects.count():,} incidents, "
          f"{Incident.objects.filter(department=department).count():,} of {department}")
    print(f"{'dashboard':<12} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'queries':>8} {'target ms':>10}")
    for name, call in (("month", lambda: month_figures(department.pk, last)),
                       ("12 months", lambda: trend(department.pk, last, count=12))):
        seconds, queries = timed(call, args.repeat)
        print(f"{name:<12} {statistics.median(seconds) * 1000:>10.1f} {min(seconds) * 1000:>8.1f} "
              f"{max(seconds) * 1000:>8.1f} {queries:>8} {TARGETS[name] * 1000:>10.0f}")


if __name__ == "__main__":
    main()
