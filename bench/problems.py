"""Problem benchmark on PostgreSQL: N incidents (1,000,000 unless told) and a few thousand problems, measured in
process.

    .venv/bin/python bench/problems.py                          # create/fill opscenter_problem_bench, then measure
    .venv/bin/python bench/problems.py --incidents 200000 --database opscenter_problem_bench_small

The data (set-wise, once; a second run reuses it): the incidents as bench/sla_generate.py writes them (INSERT …
SELECT over generate_series: closed over the last year, on the demo services and categories) without their clocks,
one in three also on a configuration item of the demo; then `--problems` problems (bulk_create) each linked to five
incidents with two action items, in every state.

Prints figures and asserts nothing:
- one run of the recurring-incident task (`problems.recurrence.candidates_propose`; target ≤ 5 s) with the policy's
  default threshold and window, as on its first run (every recurring group proposed) and again (nothing new), both
  rolled back so that the figures repeat; the observation-window sweep and the overdue-action sweep likewise;
- the problem list (the open queue and all) and a problem's page, p95 (target ≤ 100 ms), and the candidates page,
  through Django's test client in this process (middleware, session, template).
Needs PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.duty import Rollback, configure, line, queries_of, timings  # noqa: E402

CHUNK = 100_000
PREFIX = "PRB-B"


def incidents(target: int) -> None:
    """Top the bench incidents up to `target` (as bench/sla_generate.py writes them, without clocks)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.sla_generate import insert_incidents, prerequisites
    from incidents.models import Incident
    from opscenter.core.models import ConfigurationItem

    now = timezone.now()
    ids = prerequisites(now)
    existing = Incident.objects.filter(number__startswith="BEN-").count()
    if existing >= target:
        return
    print(f"bench incidents: {existing} present, {target - existing} to add")
    cis = list(ConfigurationItem.objects.order_by("pk").values_list("pk", flat=True))
    began = time.monotonic()
    for first in range(existing + 1, target + 1, CHUNK):
        last = min(target, first + CHUNK - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            insert_incidents(cursor, first, last, last + 1, now, ids)
            if cis:  # one in three on a configuration item too
                cursor.execute(
                    f"UPDATE {Incident._meta.db_table} SET configuration_item_id = (%s::bigint[])[1 + (id %% %s)] "
                    f"WHERE number BETWEEN %s AND %s AND id %% 3 = 0",
                    [cis, len(cis), f"BEN-{first:08d}", f"BEN-{last:08d}"])
        print(f"  {last:>9} incidents")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"added in {time.monotonic() - began:.0f} s")


def problems(count: int, rng: random.Random) -> None:
    """`count` bench problems in every state, each linked to five incidents, with two action items."""
    from django.db import transaction
    from django.utils import timezone

    from incidents.models import Incident
    from opscenter.core.models import Service, User
    from problems.choices import ActionState, State
    from problems.models import ActionItem, Problem, ProblemIncident

    existing = Problem.objects.filter(number__startswith=PREFIX).count()
    if existing >= count:
        return
    now = timezone.now()
    manager = User.objects.get(username="problem")
    engineers = list(User.objects.filter(username__in=["sysadmin", "neteng", "desktop"]))
    services = list(Service.objects.all())
    incident_ids = list(Incident.objects.filter(number__startswith="BEN-").order_by("?")
                        .values_list("pk", flat=True)[:count * 5])
    states = list(State.values)
    with transaction.atomic():
        made = Problem.objects.bulk_create([Problem(
            number=f"{PREFIX}{n:07d}", title=f"Bench problem {n}", description="bench", created_by=manager,
            owner=rng.choice(engineers), service=rng.choice(services), state=states[n % len(states)],
            created_at=now - timedelta(days=rng.uniform(0, 365))) for n in range(existing, count)], batch_size=2000)
        ProblemIncident.objects.bulk_create([
            ProblemIncident(problem=p, incident_id=incident_ids[(i * 5 + k) % len(incident_ids)], linked_by=manager)
            for i, p in enumerate(made) for k in range(5)], batch_size=5000, ignore_conflicts=True)
        ActionItem.objects.bulk_create([
            ActionItem(problem=p, measure=f"Bench action {k}", owner=rng.choice(engineers),
                       due_date=timezone.localdate() + timedelta(days=rng.randint(-20, 20)),
                       state=ActionState.OPEN if k else ActionState.DONE)
            for p in made for k in range(2)], batch_size=5000)
    print(f"added {len(made)} problems")


def rolled_back(call) -> tuple[float, object, int]:  # noqa: ANN001
    """(seconds, result, queries) of one call, rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    result: list = []
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            result.append(call())
            result.append(time.perf_counter() - began)
            result.append(len(queries))
            raise Rollback
    except Rollback:
        pass
    return result[1], result[0], result[2]


def sweeps(args: argparse.Namespace) -> None:
    from problems.overdue import actions_notify_overdue
    from problems.recurrence import candidates_propose, problems_reopen_on_recurrence

    for _ in range(args.sweeps):
        seconds, made, queries = rolled_back(candidates_propose)
        print(f"{'recurring-incident task, first run':<46} {seconds * 1000:>9.0f} ms  {len(made)} candidates, "
              f"{queries} queries")

    def twice() -> tuple:
        candidates_propose()
        began = time.perf_counter()
        again = candidates_propose()
        return time.perf_counter() - began, again

    for _ in range(args.sweeps):
        _seconds, (second, again), _queries = rolled_back(twice)
        print(f"{'recurring-incident task, run again':<46} {second * 1000:>9.0f} ms  {len(again)} candidates")
    seconds, reopened, queries = rolled_back(problems_reopen_on_recurrence)
    print(f"{'observation-window sweep':<46} {seconds * 1000:>9.0f} ms  {len(reopened)} reopened, {queries} queries")
    seconds, told, queries = rolled_back(actions_notify_overdue)
    print(f"{'overdue-action sweep':<46} {seconds * 1000:>9.0f} ms  {told} told, {queries} queries")


def pages(args: argparse.Namespace, rng: random.Random) -> None:
    from django.test import Client

    from opscenter.core.models import User
    from problems.models import Problem
    from problems.recurrence import candidates_propose

    client = Client()
    client.force_login(User.objects.get(username="problem"))
    ids = list(Problem.objects.filter(number__startswith=PREFIX).values_list("pk", flat=True)[:2000])
    for name, url in (("problem list, open queue", "/problems/?queue=open"),
                      ("problem list, all", "/problems/?queue=all")):
        assert client.get(url).status_code == 200, url
        spent = timings(lambda url=url: client.get(url), args.page_requests)
        line(name, spent, f"{queries_of(lambda url=url: client.get(url))} queries")
    detail = f"/problems/{ids[0]}/"
    assert client.get(detail).status_code == 200, detail
    spent = timings(lambda: client.get(f"/problems/{rng.choice(ids)}/"), args.page_requests)
    line("problem page", spent, f"{queries_of(lambda: client.get(detail))} queries")
    from django.db import transaction

    try:
        with transaction.atomic():
            candidates_propose()
            spent = timings(lambda: client.get("/problems/candidates/"), args.page_requests)
            line("candidates page (proposed)", spent,
                 f"{queries_of(lambda: client.get('/problems/candidates/'))} queries")
            raise Rollback
    except Rollback:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "opscenter_problem_bench"))
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--incidents", type=int, default=1_000_000, help="bench incidents the table should hold")
    parser.add_argument("--problems", type=int, default=5000, help="bench problems")
    parser.add_argument("--page-requests", type=int, default=200, help="requests timed per page")
    parser.add_argument("--sweeps", type=int, default=3, help="runs of each task (each rolled back)")
    parser.add_argument("--data-only", action="store_true", help="make the data and stop")
    args = parser.parse_args()
    if urlsplit(args.postgres_url).scheme not in ("postgres", "postgresql"):
        sys.exit("--postgres-url must be a postgres:// URL")
    from bench.incidents import ensure_database

    ensure_database(SimpleNamespace(postgres_url=args.postgres_url, database=args.database, reset=args.reset))
    configure(args)
    from django.core.management import call_command

    from incidents.models import Incident

    call_command("migrate", verbosity=0)
    rng = random.Random(17)
    incidents(args.incidents)
    problems(args.problems, rng)
    if args.data_only:
        return
    print(f"database {args.database}: {Incident.objects.count()} incidents; load average "
          f"{os.getloadavg()[0]:.1f}; CPUs: {os.cpu_count()}")
    sweeps(args)
    print(f"\n{'what':<46} {'runs':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'CPU ms':>9}")
    pages(args, rng)


if __name__ == "__main__":
    main()
