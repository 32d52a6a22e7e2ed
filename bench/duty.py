"""Duty benchmark: 30 teams, 600 people and two years of shifts on PostgreSQL, measured in process.

    .venv/bin/python bench/duty.py                      # create/fill opscenter_duty_bench, then measure
    .venv/bin/python bench/duty.py --reset --repeat 5000

The data (written set-wise with bulk_create, no services, no notifications, once; a second run reuses it): 30 teams
of 20 people (a supervisor, two duty officers, 17 engineers), day (08:00) and night (20:00) shift types of 12 hours
needing a duty officer and two engineers, one published roster per team and month from a year back to a year ahead,
six shifts a team and day, the team's supervisor on a day shift on weekdays and one supervisor a night on the night
shift, past shifts checked in and out (3 % late, 0.5 % absent), the reminders of every shift already due sent.

Prints figures and asserts nothing:
- who is on duty for a team, `duty.selectors.on_duty(team, at)` (target ≤ 2 ms in process; it runs on every P1),
  at random moments of the two years and now; and the paging resolver's first wave (who a P1 pages first);
- the month roster page, the roster's month grid, `duty:roster-detail` (p95 target ≤ 150 ms; not measured on a
  tree without that route), through Django's test client in this process (middleware, session, template);
- the reminder sweep and the absence sweep (≤ 1 s each): with nothing due (what every minute costs), and with
  every reminder of the coming 12 hours (or the absence of everybody on duty now) due at once, as after beat was
  down. Those runs roll back: they repeat on the same data and deliver nothing.
Needs PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEAMS, PEOPLE_PER_TEAM, ENGINEERS_ON_SHIFT = 30, 20, 2
PREFIX = "duty-bench-"


class Rollback(Exception):
    """Leaves a measuring transaction without committing it."""


def configure(args: argparse.Namespace) -> None:
    """Django on the bench database: the development profile with DEBUG off, the test client's host allowed, no
    broker needed (the sweeps' outbox rows are rolled back before anything is queued)."""
    os.environ.update({
        "DATABASE_URL": f"{args.postgres_url.rstrip('/')}/{args.database}",
        "OPSCENTER_ENV": "development", "DEBUG": "false", "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
    })
    from bench.generate import setup_django

    setup_django()


# --- data ------------------------------------------------------------------------------------------------

def generate(today: date, days: int, seed: int = 1) -> None:
    """Teams, people, shift types, rosters, shifts and sent reminders, unless the bench teams exist already."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import vacuum
    from duty.models import DutyPolicy, Roster, Shift, ShiftRequirement, ShiftType
    from opscenter.core import roles
    from opscenter.core.caching import renew
    from opscenter.core.choices import TeamKind
    from opscenter.core.models import Team, User

    # bulk_create sends no signal, and the cache may hold answers read from another database: renew what it keeps
    # of the shifts (duty.paging.shifts_on_duty), so that it is read from these.
    renew(Shift)
    if Team.objects.filter(code__startswith=PREFIX).exists():
        print(f"data: {Shift.objects.count()} shifts present")
        return
    began = time.monotonic()
    rng = random.Random(seed)
    policy = DutyPolicy.current()
    zone, now = policy.zone, timezone.now()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    kinds = [TeamKind.SYSTEM, TeamKind.NETWORK, TeamKind.DESKTOP]
    password = make_password(os.environ.get("BENCH_PASSWORD", "opscenter-demo"))
    first_month = (today - timedelta(days=days // 2)).replace(day=1)
    last_day = today + timedelta(days=days - days // 2)
    months = []
    month = first_month
    while month <= last_day:
        following = (month + timedelta(days=32)).replace(day=1)
        months.append((month, following - timedelta(days=1)))
        month = following
    with transaction.atomic():
        teams = Team.objects.bulk_create([Team(code=f"{PREFIX}{n:02d}", name=f"值班團隊 {n:02d}",
                                               kind=kinds[n % 3]) for n in range(TEAMS)])
        users = User.objects.bulk_create([
            User(username=f"db{n:02d}-{i:02d}", password=password, first_name=f"{i:02d}", last_name=f"團隊{n:02d}",
                 email=f"db{n:02d}-{i:02d}@example.com") for n in range(TEAMS) for i in range(PEOPLE_PER_TEAM)])
        crews = [users[n * PEOPLE_PER_TEAM:(n + 1) * PEOPLE_PER_TEAM] for n in range(TEAMS)]
        engineer_role = {TeamKind.SYSTEM: roles.SYSTEM_ENGINEER, TeamKind.NETWORK: roles.NETWORK_ENGINEER,
                         TeamKind.DESKTOP: roles.DESKTOP_ENGINEER}
        memberships, grants = [], []
        for team, crew in zip(teams, crews, strict=True):
            for i, user in enumerate(crew):
                role = roles.SUPERVISOR if i == 0 else roles.DUTY_OFFICER if i < 3 else engineer_role[team.kind]
                grants.append(User.groups.through(user_id=user.pk, group_id=groups[role].pk))
                memberships.append(Team.members.through(team_id=team.pk, user_id=user.pk))
        User.groups.through.objects.bulk_create(grants)
        Team.members.through.objects.bulk_create(memberships)
        types = {}
        for team in teams:
            team_role = engineer_role[team.kind]
            for code, hour in (("day", 8), ("night", 20)):
                kind = ShiftType.objects.create(team=team, code=code, name="白班" if code == "day" else "夜班",
                                                start_time=wall_time(hour),
                                                duration_minutes=720)
                ShiftRequirement.objects.bulk_create([ShiftRequirement(shift_type=kind, role=team_role, headcount=2),
                                                      ShiftRequirement(shift_type=kind, role=roles.DUTY_OFFICER)])
                types[team.pk, code] = kind
        rosters = {}
        for team, crew in zip(teams, crews, strict=True):
            for first, last in months:
                rosters[team.pk, first] = Roster(team=team, first_day=first, last_day=last, state="published",
                                                 published_at=datetime.combine(first, wall_time(0), zone)
                                                 - timedelta(days=14), created_by=crew[0])
        Roster.objects.bulk_create(list(rosters.values()))
    print(f"  {len(teams)} teams, {len(users)} people, {len(rosters)} rosters")
    batch: list = []
    written = 0

    def flush() -> None:
        nonlocal batch, written
        with transaction.atomic():
            Shift.objects.bulk_create(batch, batch_size=5000)
        written += len(batch)
        batch = []

    day = first_month
    number = 0
    while day <= last_day:
        roster_key = day.replace(day=1)
        for n, (team, crew) in enumerate(zip(teams, crews, strict=True)):
            roster = rosters[team.pk, roster_key]
            engineers, duty_officers = crew[3:], crew[1:3]
            team_role = engineer_role[team.kind]
            for code, hour in (("day", 8), ("night", 20)):
                start = datetime.combine(day, wall_time(hour), zone)
                offset = 0 if code == "day" else 5
                people = [(engineers[(2 * number + offset + k) % len(engineers)], team_role)
                          for k in range(ENGINEERS_ON_SHIFT)]
                people.append((duty_officers[(number + (code == "night")) % 2], roles.DUTY_OFFICER))
                if code == "day" and day.weekday() < 5:
                    people.append((crew[0], roles.SUPERVISOR))
                if code == "night" and number % TEAMS == n:
                    people.append((crew[0], roles.SUPERVISOR))
                for user, role in people:
                    batch.append(shift_row(Shift, roster, team, types[team.pk, code], user, role, start, now, rng))
        number += 1
        day += timedelta(days=1)
        if len(batch) >= 20000:
            flush()
    flush()
    with connection.cursor() as cursor:  # the reminders already due were sent
        for lead in (720, 30):
            cursor.execute(f"""INSERT INTO duty_shiftreminder (shift_id, lead_minutes, sent_at)
                               SELECT id, {lead}, start - interval '{lead} minutes' FROM duty_shift
                               WHERE start - interval '{lead} minutes' <= %s""", [now])
    renew(Shift)
    vacuum()
    print(f"data: {written} shifts written in {time.monotonic() - began:.0f} s")


def shift_row(model, roster, team, kind, user, role: str, start: datetime, now: datetime, rng: random.Random):  # noqa: ANN001, ANN201
    """One shift with the attendance it has by now: done (some late, a few absent), on duty, or expected."""
    end = start + timedelta(hours=12)
    fields = {"attendance": "expected"}
    if start <= now:
        draw = rng.random()
        if draw < 0.005 and end <= now:
            fields = {"attendance": "absent", "absence_notified_at": start + timedelta(minutes=30)}
        elif now - start < timedelta(hours=1) and draw < 0.2:
            fields = {"attendance": "expected"}  # not checked in yet: due for the absence sweep
        else:
            late = rng.randint(11, 40) if draw > 0.97 else 0
            fields = {"attendance": "done" if end <= now else "on_duty",
                      "checked_in_at": start + timedelta(minutes=late - 5), "late_minutes": late}
            if end <= now:
                fields["checked_out_at"] = end + timedelta(minutes=5)
    return model(roster=roster, team=team, shift_type=kind, user=user, role=role, start=start, end=end, **fields)


# --- measurements ----------------------------------------------------------------------------------------

CPU: dict[int, float] = {}  # CPU seconds of this process per call, by the id of the list of timings


def timings(call: Callable[[], object], repeat: int) -> list[float]:
    """Seconds of each of `repeat` calls, after a few unmeasured ones (and, in CPU, this process's share: on a
    machine shared with other work, the wall clock waits for the cores too)."""
    for _ in range(min(20, repeat)):
        call()
    spent = []
    cpu = time.process_time()
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        spent.append(time.perf_counter() - began)
    CPU[id(spent)] = (time.process_time() - cpu) / repeat
    return spent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(name: str, seconds: list[float], extra: str = "") -> None:
    ms = [s * 1000 for s in seconds]
    cpu = f"{CPU[id(seconds)] * 1000:>9.2f}" if id(seconds) in CPU else f"{'':>9}"
    print(f"{name:<46} {len(ms):>6} {statistics.median(ms):>9.2f} {percentile(ms, 95):>9.2f} {max(ms):>9.2f} "
          f"{cpu}  {extra}")


def queries_of(call: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def who_is_on_duty(args: argparse.Namespace, rng: random.Random) -> None:
    from django.db.models import Max, Min
    from django.utils import timezone

    from duty.models import Shift
    from duty.paging import first_wave
    from duty.selectors import on_duty
    from opscenter.core.models import Team

    teams = list(Team.objects.filter(code__startswith=PREFIX))
    bounds = Shift.objects.aggregate(first=Min("start"), last=Max("end"))
    span = (bounds["last"] - bounds["first"]).total_seconds()
    now = timezone.now()
    picks = [(rng.choice(teams), bounds["first"] + timedelta(seconds=rng.uniform(0, span)))
             for _ in range(args.repeat)]
    people = statistics.mean(len(on_duty(team, at)) for team, at in picks[:200])
    calls = iter(picks * 2)
    line("on_duty(team, at): random moments of 2 years", timings(lambda: on_duty(*next(calls)), args.repeat),
         f"{queries_of(lambda: on_duty(teams[0], now))} query; {people:.1f} people on duty")
    line("on_duty(team): now", timings(lambda: on_duty(rng.choice(teams), now), args.repeat),
         f"{queries_of(lambda: on_duty(teams[0], now))} query")
    line("paging first wave (on duty + supervisor on duty)", timings(lambda: first_wave(rng.choice(teams), now),
                                                                      args.repeat),
         f"{queries_of(lambda: first_wave(teams[0], now))} queries")


def roster_month_url(roster) -> str | None:  # noqa: ANN001
    """The month roster page of a roster (its grid, `duty:roster-detail`), None where the route does not exist."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("duty:roster-detail", args=[roster.pk])
    except NoReverseMatch:
        return None


def roster_page(args: argparse.Namespace, rng: random.Random) -> None:
    from django.test import Client
    from django.utils import timezone

    from duty.models import Roster
    from opscenter.core.models import User

    today = timezone.localdate()
    rosters = list(Roster.objects.filter(team__code__startswith=PREFIX, first_day__lte=today, last_day__gte=today)
                   .select_related("team"))
    if not rosters or roster_month_url(rosters[0]) is None:
        print(f"{'month roster page':<46} not measured: no route duty:roster-detail in this tree")
        return
    client = Client()
    client.force_login(User.objects.get(username=f"db{0:02d}-00"))
    urls = [roster_month_url(r) for r in rosters]
    status = client.get(urls[0]).status_code
    if status != 200:
        print(f"{'month roster page':<46} not measured: {urls[0]} answered {status}")
        return
    spent = timings(lambda: client.get(rng.choice(urls)), args.page_requests)
    line("month roster page (supervisor, this month)", spent, f"{queries_of(lambda: client.get(urls[0]))} queries")


def rolled_back(prepare: Callable[[], object], sweep: Callable[[], int]) -> tuple[float, int, int]:
    """(seconds, effects, queries) of one sweep after `prepare`, both rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    result = (0.0, 0, 0)
    try:
        with transaction.atomic():
            prepare()
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                done = sweep()
                result = (time.perf_counter() - began, done, len(queries))
            raise Rollback
    except Rollback:
        pass
    return result


def sweeps(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from duty.models import ShiftReminder
    from duty.reminders import send_shift_reminders

    now = timezone.now()

    def forget_coming_reminders() -> None:
        ShiftReminder.objects.filter(shift__start__gt=now).delete()

    for name, prepare in (("reminder sweep, nothing due", lambda: None),
                          ("reminder sweep, all of the coming 12 h due", forget_coming_reminders)):
        runs = [rolled_back(prepare, lambda: send_shift_reminders(now=now)) for _ in range(args.sweeps)]
        line(name, [r[0] for r in runs], f"{runs[0][1]} reminders, {runs[0][2]} queries")
    try:
        from duty.attendance import shifts_mark_absent
    except ImportError:
        print(f"{'absence sweep':<46} not measured: duty.attendance.shifts_mark_absent is not in this tree")
        return
    from duty.models import Shift

    def nobody_checked_in() -> None:  # every shift on duty now, as if nobody had checked in
        Shift.objects.filter(start__lte=now, end__gt=now).update(attendance="expected", checked_in_at=None,
                                                                 late_minutes=0)

    for name, prepare in (("absence sweep, nothing due", lambda: None),
                          ("absence sweep, every shift on duty now due", nobody_checked_in)):
        runs = [rolled_back(prepare, lambda: shifts_mark_absent(now=now)) for _ in range(args.sweeps)]
        line(name, [r[0] for r in runs], f"{runs[0][1]} marked absent, {runs[0][2]} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "opscenter_duty_bench"))
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--days", type=int, default=730, help="days of shifts, half of them past")
    parser.add_argument("--repeat", type=int, default=2000, help="who-is-on-duty calls timed")
    parser.add_argument("--page-requests", type=int, default=200, help="month roster page requests timed")
    parser.add_argument("--sweeps", type=int, default=5, help="runs of each sweep (each rolled back)")
    parser.add_argument("--data-only", action="store_true", help="make the data and stop")
    args = parser.parse_args()
    if urlsplit(args.postgres_url).scheme not in ("postgres", "postgresql"):
        sys.exit("--postgres-url must be a postgres:// URL")
    from bench.incidents import ensure_database

    ensure_database(SimpleNamespace(postgres_url=args.postgres_url, database=args.database, reset=args.reset))
    configure(args)
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    generate(timezone.localdate(), args.days)
    if args.data_only:
        return
    from duty.models import Shift

    print(f"database {args.database}: {Shift.objects.count()} shifts of {TEAMS} teams; load average "
          f"{os.getloadavg()[0]:.1f}; CPUs: {os.cpu_count()}")
    print(f"\n{'what':<46} {'runs':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'CPU ms':>9}")
    rng = random.Random(7)
    who_is_on_duty(args, rng)
    roster_page(args, rng)
    sweeps(args)


if __name__ == "__main__":
    main()
