"""Bench data: N incidents with their timelines, written set-wise with bulk_create (no services, no
notifications), spread over the last year in every state — reusable by every benchmark.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opscenter_bench python bench/generate.py --incidents 100000

Tops the table up to N incidents (a second run with the same N does nothing); the demo organisation
(departments, teams, one user per role, services, CIs) is created first if it is missing.
"""

import argparse
import contextlib
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# What a year of incidents looks like at the end: (state, share, reported within the last … days).
STATE_MIX = [
    ("closed", 70, 365), ("cancelled", 5, 365), ("under_review", 3, 20), ("resolved", 5, 10),
    ("on_hold", 2, 30), ("recovering", 1, 3), ("handling", 4, 5), ("diagnosing", 3, 3), ("assigned", 3, 2),
    ("classified", 2, 1), ("reported", 2, 1),
]
ROAD = ["classify", "assign", "start_diagnosis", "start_handling", "restore", "confirm_recovery", "submit_report",
        "approve_report"]
STATE_AFTER = {"classify": "classified", "assign": "assigned", "start_diagnosis": "diagnosing",
               "start_handling": "handling", "restore": "recovering", "confirm_recovery": "resolved",
               "submit_report": "under_review", "approve_report": "closed"}
ROAD_TO = {state: ROAD[:i + 1] for i, state in enumerate(STATE_AFTER.values())} | {"reported": []}
# minutes each step takes after the previous one (low, high)
STEP_MINUTES = {"classify": (2, 30), "assign": (3, 60), "start_diagnosis": (5, 90), "start_handling": (10, 180),
                "restore": (20, 480), "confirm_recovery": (10, 120), "submit_report": (60, 2880),
                "approve_report": (60, 2880), "hold": (10, 120), "cancel": (5, 60)}
PRIORITY_WEIGHTS = {"P1": 2, "P2": 10, "P3": 48, "P4": 40}


def setup_django() -> None:
    from opscenter.environment import configure

    configure()
    import django

    django.setup()


class Generator:
    """Builds incidents and their transition logs in memory and writes them a batch at a time."""

    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        from django.contrib.contenttypes.models import ContentType

        from incidents.demo import CATEGORY_TEAMS, FAULTS, PRIORITY_CELLS, TEAM_ENGINEERS
        from incidents.models import Category, Incident, PriorityRule
        from opscenter.core.models import ConfigurationItem, Department, Service, Team, User

        self.rng, self.now = rng, now
        self.faults = FAULTS
        self.cells = PRIORITY_CELLS
        self.matrix = {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}
        self.categories = {c.code: c for c in Category.objects.all()}
        self.services = {s.code: s for s in Service.objects.all()}
        self.cis = {c.asset_tag: c for c in ConfigurationItem.objects.all()}
        self.departments = list(Department.objects.all())
        users = {u.username: u for u in User.objects.all()}
        self.duty, self.supervisor, self.finance = users["duty"], users["supervisor"], users["finance"]
        teams = {t.code: t for t in Team.objects.all()}
        self.team_for = {code: teams[team] for code, team in CATEGORY_TEAMS.items()}
        self.engineer_for = {code: users[TEAM_ENGINEERS[team]] for code, team in CATEGORY_TEAMS.items()}
        self.content_type = ContentType.objects.get_for_model(Incident)
        self.states = [s for s, _share, _days in STATE_MIX]
        self.weights = [share for _s, share, _days in STATE_MIX]
        self.window = {s: days for s, _share, days in STATE_MIX}
        self.assign_minutes = _assign_minutes()

    def minutes(self, step: str) -> dt.timedelta:
        low, high = STEP_MINUTES[step]
        return dt.timedelta(minutes=self.rng.uniform(low, high))

    def one(self, number: str) -> tuple[object, list[object]]:
        """One incident ending in a random state, and its transition log entries (object_id unset)."""
        from incidents.models import Incident
        from opscenter.core.models import TransitionLog

        rng = self.rng
        state = rng.choices(self.states, self.weights)[0]
        fault = rng.choice(self.faults)
        road = list(ROAD_TO["diagnosing" if state == "on_hold" and rng.random() < 0.5 else
                          "handling" if state == "on_hold" else
                          "classified" if state == "cancelled" and rng.random() < 0.5 else
                          "reported" if state == "cancelled" else state])
        steps = road + (["hold"] if state == "on_hold" else ["cancel"] if state == "cancelled" else [])
        durations = [self.minutes(step) for step in steps]
        latest_start = self.now - sum(durations, dt.timedelta()) - dt.timedelta(minutes=1)
        created = min(latest_start, self.now - dt.timedelta(days=rng.uniform(0, self.window[state])))
        incident = Incident(
            number=number, title=fault.title, description=fault.description, impact_scope=fault.scope,
            occurred_at=created - dt.timedelta(minutes=rng.randint(1, 60)), created_at=created, state=state,
            service=self.services[fault.service], configuration_item=self.cis.get(fault.ci or ""),
        )
        if fault.category in ("software", "desktop") and rng.random() < 0.2:  # a department user on the web
            incident.created_by = incident.caller = self.finance
            incident.caller_name, incident.channel = str(self.finance), "web"
            incident.department = self.finance.department
        else:
            incident.created_by, incident.department = self.duty, rng.choice(self.departments)
            incident.caller_name = f"{incident.department.name} 用戶"
            incident.channel = rng.choice(["phone", "phone", "email", "im", "monitoring"])
        engineer = self.engineer_for[fault.category]
        logs = [TransitionLog(content_type=self.content_type, created_at=created, transition="report",
                              source_state="", target_state="reported", actor=incident.created_by)]
        moment, source = created, "reported"
        for step, duration in zip(steps, durations, strict=True):
            moment += duration
            target, actor = self.apply(incident, step, moment, fault, engineer, source)
            logs.append(TransitionLog(content_type=self.content_type, created_at=moment, transition=step,
                                      source_state=source, target_state=target, actor=actor))
            source = target
        incident.updated_at = moment
        return incident, logs

    def apply(self, incident, step: str, moment: dt.datetime, fault, engineer, source: str):  # noqa: ANN001, ANN201
        """Set what the transition sets; returns (target state, actor)."""
        if step == "classify":
            incident.category = self.categories[fault.category]
            incident.impact, incident.urgency = self.rng.choice(self.cells[self.rng.choices(
                list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()))[0]])
            incident.priority = self.matrix[(incident.impact, incident.urgency)]
            incident.classified_at = moment
            incident.assign_due_at = moment + dt.timedelta(minutes=self.assign_minutes[incident.priority])
            if incident.assign_due_at < self.now:  # what the assignment sweep already announced
                incident.assign_overdue_notified_at = incident.assign_due_at
            return "classified", self.duty
        if step == "assign":
            incident.team, incident.assignee, incident.assigned_at = self.team_for[fault.category], engineer, moment
            return "assigned", self.duty
        if step == "start_diagnosis":
            incident.first_response_at = moment
            return "diagnosing", engineer
        if step == "start_handling":
            incident.diagnosis_cause, incident.diagnosis_scope = fault.cause, fault.scope
            return "handling", engineer
        if step == "restore":
            incident.measures = fault.measures
            return "recovering", engineer
        if step == "confirm_recovery":
            incident.test_function_note = incident.test_performance_note = incident.test_data_note = "通過"
            incident.resolution, incident.resolved_at, incident.resolved_by = fault.resolution, moment, engineer
            return "resolved", engineer
        if step == "submit_report":
            incident.report_cause, incident.report_process = fault.cause, fault.description
            incident.report_measures, incident.report_result = fault.measures, fault.resolution
            incident.report_submitted_at = moment
            return "under_review", engineer
        if step == "approve_report":
            incident.closed_at = moment
            return "closed", self.supervisor
        if step == "hold":
            incident.held_from, incident.hold_reason = source, self.rng.choice(["caller", "vendor", "parts", "change"])
            return "on_hold", engineer
        if step == "cancel":
            incident.cancel_reason = "false_alarm"
            return "cancelled", self.duty
        raise ValueError(step)


def _assign_minutes() -> dict[str, int]:
    from django.conf import settings

    return {p: m or 0 for p, m in settings.INCIDENT_ASSIGN_WITHIN_MINUTES.items()}


def numbers(count: int, years: list[int]) -> Iterator[str]:
    """Hand out `count` incident numbers for the given years, taken as the services take them, so numbers
    handed out later by the application do not collide."""
    from opscenter.core.models import TicketSequence

    wanted: dict[int, int] = {}
    for year in years:
        wanted[year] = wanted.get(year, 0) + 1
    taken = {year: iter(TicketSequence.take("INC", year, n)) for year, n in wanted.items()}
    for year in years:
        yield f"INC-{year}-{next(taken[year]):06d}"


def generate(target: int, *, batch: int = 2000, seed: int = 1, out=sys.stdout) -> int:  # noqa: ANN001
    """Top the incident table up to `target` rows; returns how many were added."""
    from django.db import transaction
    from django.utils import timezone

    from incidents.demo import CATEGORY_TEAMS
    from incidents.models import Category, Incident
    from opscenter.core.demo import seed_organisation
    from opscenter.core.models import Team, TransitionLog, User

    if not User.objects.filter(username="duty").exists():
        seed_organisation(os.environ.get("BENCH_PASSWORD", "opscenter-demo"))
    for code, team in CATEGORY_TEAMS.items():
        Category.objects.filter(code=code, default_team__isnull=True).update(
            default_team=Team.objects.filter(code=team).first())
    existing = Incident.objects.count()
    missing = max(0, target - existing)
    out.write(f"incidents: {existing} present, {missing} to add\n")
    if not missing:
        vacuum()  # the previous runs' reports: each run starts from the state autovacuum keeps a server in
        return 0
    now = timezone.now()
    generator = Generator(random.Random(seed + existing), now)
    began, added = time.monotonic(), 0
    while added < missing:
        size = min(batch, missing - added)
        built = [generator.one("") for _ in range(size)]
        with transaction.atomic():
            years = [timezone.localdate(incident.created_at).year for incident, _logs in built]
            for (incident, _logs), number in zip(built, numbers(size, years), strict=True):
                incident.number = number
            with updated_at_as_given():
                incidents = Incident.objects.bulk_create([incident for incident, _logs in built])
            logs = []
            for incident, (_built, entries) in zip(incidents, built, strict=True):
                for entry in entries:
                    entry.object_id = incident.pk
                logs.extend(entries)
            TransitionLog.objects.bulk_create(logs, batch_size=5000)
        added += size
        rate = added / (time.monotonic() - began)
        out.write(f"  {existing + added:>8} incidents ({rate:,.0f}/s)\n")
        out.flush()
    vacuum()
    out.write(f"added {added} incidents with their timelines in {time.monotonic() - began:.0f} s\n")
    return added


def vacuum() -> None:
    """VACUUM as well as ANALYZE: the visibility map it writes lets counts read an index alone (on 100,000 fresh
    rows, counting the open incidents took 24 ms before, 2 ms after). A benchmark's reports are new rows too: 30,000
    of them, left unvacuumed, took the list API from 45 % to 38 % of the floor."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


@contextlib.contextmanager
def updated_at_as_given() -> Iterator[None]:
    """bulk_create would stamp the auto_now `updated_at` with the present; keep the last event's time."""
    from incidents.models import Incident

    updated_at = Incident._meta.get_field("updated_at")
    updated_at.auto_now = False
    try:
        yield
    finally:
        updated_at.auto_now = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=10_000, help="how many incidents the table should hold")
    parser.add_argument("--batch", type=int, default=2000, help="incidents written per transaction")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args()
    setup_django()
    generate(args.incidents, batch=args.batch, seed=args.seed)


if __name__ == "__main__":
    main()
