"""Known-error benchmark: the suggestions for an incident being recorded, among 10,000 published known errors on
PostgreSQL, measured in process.

    .venv/bin/python bench/known_errors.py                  # create/fill opscenter_ke_bench, then measure
    .venv/bin/python bench/known_errors.py --reset --repeat 2000

The data (written with bulk_create, no services, once; a second run reuses it): 10,000 published known errors and
1,000 drafts and 1,000 retired ones, their titles and symptoms made of Chinese and English words of IT faults
(ERP 系統登入逾時, VPN 連線中斷, printer jams …) with a running number, on 12 services and 200 CIs.

Prints figures and asserts nothing:
- `problems.known_errors.known_error_suggestions` (target p95 ≤ 50 ms) for what a person types on the report form:
  a Chinese title, an English one, a title with a service and a CI, a service alone — and the report form's JSON
  endpoint (`problems:knownerror-suggest`) through Django's test client in this process (middleware, session);
- the plan of the titles alike for one Chinese query (it should read the GiST trigram index in distance order).
Needs PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLISHED, DRAFTS, RETIRED = 10_000, 1_000, 1_000
PREFIX = "ke-bench-"
SYSTEMS = ["ERP 系統", "CRM", "OA 審批", "郵件", "VPN", "核心交換機", "影印機", "檔案伺服器", "資料庫", "Wi-Fi",
           "HR 系統", "報表平台", "Outlook", "SAP", "Active Directory", "Citrix"]
FAULTS = ["登入逾時", "連線中斷", "回應緩慢", "頁面空白", "卡紙", "無法列印", "同步失敗", "憑證過期",
          "login timeout", "connection drops", "slow response", "blank page", "sync fails", "disk full",
          "certificate expired", "password locked"]
DETAILS = ["高峰時段", "週一上午", "重新整理後恢復", "錯誤碼 J-0021", "after the nightly batch", "for remote users",
           "on the third floor", "since the upgrade"]


class Rollback(Exception):
    """Leaves a measuring transaction without committing it."""


def configure(args: argparse.Namespace) -> None:
    os.environ.update({
        "DATABASE_URL": f"{args.postgres_url.rstrip('/')}/{args.database}",
        "OPSCENTER_ENV": "development", "DEBUG": "false", "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
    })
    from bench.generate import setup_django

    setup_django()


def generate(seed: int = 1) -> None:
    """Services, CIs, a problem manager and the known errors, unless the bench's services exist already."""
    from django.utils import timezone

    from bench.generate import vacuum
    from opscenter.core import roles
    from opscenter.core.caching import renew
    from opscenter.core.choices import CIType
    from opscenter.core.models import ConfigurationItem, Service, User
    from problems.choices import KnownErrorState
    from problems.models import KnownError

    # bulk_create sends no signal, and the cache may hold answers read from another database: renew what it keeps
    # of the known errors (problems.known_errors), so that it is read from these.
    renew(KnownError)
    if Service.objects.filter(code__startswith=PREFIX).exists():
        print(f"data: {KnownError.objects.published().count()} published known errors present")
        return
    began = time.monotonic()
    rng = random.Random(seed)
    services = Service.objects.bulk_create([Service(code=f"{PREFIX}{n}", name=f"Bench service {n}")
                                            for n in range(12)])
    cis = ConfigurationItem.objects.bulk_create([ConfigurationItem(name=f"{PREFIX}ci-{n}", ci_type=CIType.SERVER)
                                                 for n in range(200)])
    manager = User.objects.create(username=f"{PREFIX}manager", display_name="Bench manager")
    from django.contrib.auth.models import Group

    manager.groups.add(Group.objects.get(name=roles.PROBLEM_MANAGER))
    now = timezone.now()
    year = now.year
    rows = []
    states = ([KnownErrorState.PUBLISHED] * PUBLISHED + [KnownErrorState.DRAFT] * DRAFTS
              + [KnownErrorState.RETIRED] * RETIRED)
    for n, state in enumerate(states, start=1):
        system, fault = rng.choice(SYSTEMS), rng.choice(FAULTS)
        title = f"{system} {fault} #{n}"
        rows.append(KnownError(
            number=f"KE-{year}-{n:06d}", title=title, state=state, created_by=manager,
            symptom=f"{system}{fault}，{rng.choice(DETAILS)}。{rng.choice(SYSTEMS)} {rng.choice(FAULTS)}",
            root_cause="Bench root cause.", workaround="Bench workaround.",
            service=rng.choice(services) if rng.random() < 0.7 else None,
            configuration_item=rng.choice(cis) if rng.random() < 0.5 else None,
            published_at=now if state != KnownErrorState.DRAFT else None,
            retired_at=now if state == KnownErrorState.RETIRED else None))
    KnownError.objects.bulk_create(rows, batch_size=2000)
    renew(KnownError)
    vacuum()
    print(f"data: {len(rows)} known errors written in {time.monotonic() - began:.1f} s")


def measure(label: str, runs: int, call: Callable[[int], object]) -> None:
    times, cpu = [], []
    for n in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        call(n)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{label:<52} {runs:>6} {statistics.median(times):>9.2f} {p95:>9.2f} {times[-1]:>9.2f} "
          f"{statistics.mean(cpu):>9.2f}")


def queries(rng: random.Random, count: int) -> list[str]:
    """What people type as an incident's title: a system and a fault, sometimes shortened or with a detail."""
    out = []
    for _ in range(count):
        system, fault = rng.choice(SYSTEMS), rng.choice(FAULTS)
        text = f"{system.replace(' 系統', '')} {fault}"
        if rng.random() < 0.3:
            text += f" {rng.choice(DETAILS)}"
        out.append(text)
    return out


def suggestions(args: argparse.Namespace, rng: random.Random) -> None:
    from django.test import Client

    from opscenter.core.models import ConfigurationItem, Service, User
    from problems.known_errors import known_error_suggestions

    user = User.objects.get(username=f"{PREFIX}manager")
    services = list(Service.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
    cis = list(ConfigurationItem.objects.filter(name__startswith=PREFIX).values_list("pk", flat=True))
    chinese = [q for q in queries(rng, args.repeat * 3) if any("\u4e00" <= c <= "\u9fff" for c in q)][:args.repeat]
    english = [f"{rng.choice(['ERP', 'CRM', 'VPN', 'SAP', 'Outlook'])} {rng.choice(FAULTS[8:])}"
               for _ in range(args.repeat)]
    found = []
    measure("suggestions: a Chinese title", args.repeat,
            lambda n: found.append(len(known_error_suggestions(user=user, text=chinese[n]))))
    measure("suggestions: an English title", args.repeat,
            lambda n: known_error_suggestions(user=user, text=english[n]))
    measure("suggestions: a title, a service and a CI", args.repeat,
            lambda n: known_error_suggestions(user=user, text=chinese[n], service=rng.choice(services),
                                              configuration_item=rng.choice(cis)))
    measure("suggestions: a service alone", args.repeat,
            lambda n: known_error_suggestions(user=user, service=rng.choice(services)))
    client = Client()
    client.force_login(user)
    client.get("/problems/known-errors/suggest/", {"text": chinese[0]})
    measure("report form endpoint (test client): a Chinese title", min(args.repeat, 500),
            lambda n: client.get("/problems/known-errors/suggest/", {"text": chinese[n], "service": services[0]}))
    print(f"\nChinese titles with at least one suggestion: {sum(1 for f in found if f)} of {len(found)}; "
          f"e.g. {chinese[0]!r}")
    from django.contrib.postgres.lookups import TrigramSimilar
    from django.contrib.postgres.search import TrigramDistance
    from django.db.models import F, Value

    from problems.models import KnownError

    plan = (KnownError.objects.published().filter(TrigramSimilar(F("title"), Value(chinese[0])))
            .order_by(TrigramDistance("title", Value(chinese[0])))[:5].explain(analyze=True))
    print("plan of the titles alike, for one Chinese query:")
    print("\n".join("  " + line for line in plan.splitlines()[:14]))



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "opscenter_ke_bench"))
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--repeat", type=int, default=1000, help="suggestion calls timed per kind")
    parser.add_argument("--data-only", action="store_true", help="make the data and stop")
    args = parser.parse_args()
    if urlsplit(args.postgres_url).scheme not in ("postgres", "postgresql"):
        sys.exit("--postgres-url must be a postgres:// URL")
    from bench.incidents import ensure_database

    ensure_database(SimpleNamespace(postgres_url=args.postgres_url, database=args.database, reset=args.reset))
    configure(args)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    generate()
    if args.data_only:
        return
    from problems.models import KnownError

    print(f"database {args.database}: {KnownError.objects.published().count()} published known errors of "
          f"{KnownError.objects.count()}; load average {os.getloadavg()[0]:.1f}; CPUs: {os.cpu_count()}")
    print(f"\n{'what':<52} {'runs':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'CPU ms':>9}")
    suggestions(args, random.Random(7))


if __name__ == "__main__":
    main()
