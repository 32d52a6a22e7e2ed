"""Clocks on incidents: started at report, paused while on hold, stopped at first response and at
resolution, re-targeted when the priority or the department changes, with one event per change; and the
sweep that announces warnings and breaches once each, from deadlines stored in the database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Incident
from incidents.notifications import incident_params
from opscenter.core import roles
from opscenter.core.caching import cached_by, renew
from opscenter.core.models import User
from opscenter.core.notification_kinds import timestamp
from opscenter.core.outbox import active_endpoints, build_notifications, write_notifications
from opscenter.core.selectors import read_frozen, role_members
from sla import businesstime, notifications
from sla.businesstime import Schedule
from sla.choices import ClockEventKind, ClockKind, ClockState
from sla.models import (
    Agreement,
    Breach,
    BusinessCalendar,
    Clock,
    ClockEvent,
    ClockThreshold,
    PriorityTarget,
    TeamTarget,
    Threshold,
)

ROUND_THE_CLOCK = "7×24"


def default_calendar() -> BusinessCalendar | None:
    """The 7×24 calendar clocks count in while no agreement applies (created by the data migration). None when
    the supervisors have unticked or deleted every 7×24 calendar: such clocks have no calendar and count round
    the clock (Schedule.of(None)); nothing is written on the way."""
    found = read_frozen(BusinessCalendar, round_the_clock_calendars)
    return found[0] if found else None


def round_the_clock_calendars() -> QuerySet[BusinessCalendar]:
    """The first 7×24 calendar (read through read_frozen: every report starts its clocks in it when no agreement
    applies)."""
    return BusinessCalendar.objects.filter(is_24x7=True).order_by("pk")[:1]


def _agreements_valid_on(day: date) -> list[Agreement]:
    return list(Agreement.objects.filter(is_active=True, valid_from__lte=day)
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
                .select_related("calendar").order_by("-valid_from", "-pk"))


def valid_agreements(on: datetime) -> list[Agreement]:
    """Active agreements valid on that day, the latest first, with their calendars.

    Kept in Django's cache for the day until an agreement or a calendar is saved or deleted (a calendar's edit of
    its hours or exceptions renews it too: `calendar_edited`). What it saves: every report looked up its
    department's agreement, and the default one when none applies, one query each (about 1 ms of a report's 11,
    the benchmark's database, December 2026); the supervisors change agreements a few times a year."""
    day = timezone.localdate(on)
    return cached_by(f"sla-agreements:{day.isoformat()}", (Agreement, BusinessCalendar),
                     lambda: _agreements_valid_on(day))


def agreement_for(department_id: int | None, on: datetime) -> Agreement | None:
    """The department's active agreement valid on that day."""
    if not department_id:
        return None
    return next((a for a in valid_agreements(on) if a.department_id == department_id), None)


def _service_owner(incident: Incident) -> int | None:
    """The owner department of the incident's service."""
    if not incident.service_id:
        return None
    return incident.service.owner_department_id


def incident_agreement(incident: Incident) -> Agreement | None:
    """The agreement an incident's response and resolution clocks count against, valid on its report day: its
    department's; else that of the owner department of its service; else the default agreement the supervisors
    set (None when none applies: the clocks have no target)."""
    on = incident.created_at
    owner = _service_owner(incident)
    agreement = agreement_for(incident.department_id, on)
    if agreement is None and owner and owner != incident.department_id:
        agreement = agreement_for(owner, on)
    return agreement or next((a for a in valid_agreements(on) if a.is_default), None)


def agreement_source(incident: Incident, agreement: Agreement | None) -> str:
    """Why the agreement applies to the incident: "department", "service_owner", "default" ("" for none)."""
    if agreement is None:
        return ""
    if agreement.department_id == incident.department_id:
        return "department"
    if agreement.department_id == _service_owner(incident):
        return "service_owner"
    return "default"


def _agreement_terms(incident: Incident) -> tuple[Agreement | None, PriorityTarget | None,
                                                  BusinessCalendar | None]:
    """The incident's agreement (incident_agreement), its target for the incident's priority, and the calendar the
    response and resolution clocks count in."""
    agreement = incident_agreement(incident)
    target = (PriorityTarget.objects.filter(agreement=agreement, priority=incident.priority)
              .select_related("calendar").first() if agreement and incident.priority else None)
    calendar = (target.calendar if target and target.calendar_id else None) or (
        agreement.calendar if agreement else default_calendar())
    return agreement, target, calendar


def _kind_terms(kind: str, incident: Incident, agreement: Agreement | None, target: PriorityTarget | None,
                calendar: BusinessCalendar | None) -> dict[str, Any]:
    minutes = None
    if target:
        minutes = target.response_minutes if kind == ClockKind.RESPONSE else target.resolution_minutes
    # Counted for the incident's department; without one, for the service's owner when its agreement applies.
    department_id = incident.department_id or (
        agreement.department_id if agreement_source(incident, agreement) == "service_owner" else None)
    return {"agreement": agreement, "department_id": department_id, "priority": incident.priority,
            "calendar": calendar, "target_seconds": minutes * 60 if minutes else None}


def _terms(clock: Clock, incident: Incident) -> dict[str, Any]:
    """Agreement, calendar and target a clock counts against now."""
    if clock.kind == ClockKind.OLA:
        target = TeamTarget.objects.filter(team_id=clock.team_id, priority=incident.priority).select_related(
            "calendar").first() if incident.priority else None
        return {"agreement": None, "department_id": incident.department_id, "priority": incident.priority,
                "calendar": target.calendar if target else default_calendar(),
                "target_seconds": target.resolution_minutes * 60 if target else None}
    return _kind_terms(clock.kind, incident, *_agreement_terms(incident))


def _apply_terms(clock: Clock, terms: dict[str, Any]) -> None:
    clock.agreement = terms["agreement"]
    clock.department_id = terms["department_id"]
    clock.priority = terms["priority"] or ""
    clock.calendar = terms["calendar"]
    clock.calendar_version = terms["calendar"].version if terms["calendar"] else 0
    clock.target_seconds = terms["target_seconds"]


def _event_row(clock: Clock, kind: str, at: datetime, actor: Any, reason: str, segment: int = 0) -> ClockEvent:
    return ClockEvent(clock=clock, kind=kind, at=at, actor=actor if getattr(actor, "pk", None) else None,
                      reason=reason[:255], segment_seconds=segment, target_seconds=clock.target_seconds)


def _event(clock: Clock, kind: str, at: datetime, actor: Any, reason: str, segment: int = 0) -> None:
    _event_row(clock, kind, at, actor, reason, segment).save()


def _close_segment(clock: Clock, at: datetime) -> int:
    """Count the open segment into the elapsed time; returns its business seconds."""
    if clock.state != ClockState.RUNNING or clock.segment_started_at is None:
        return 0
    seconds = Schedule.of(clock.calendar).seconds_between(clock.segment_started_at, at)
    clock.elapsed_seconds += seconds
    clock.segment_started_at = at
    return seconds


def elapsed_now(clock: Clock, now: datetime | None = None) -> int:
    """Business seconds elapsed, the open segment included."""
    if clock.state != ClockState.RUNNING or clock.segment_started_at is None:
        return clock.elapsed_seconds
    return clock.elapsed_seconds + Schedule.of(clock.calendar).seconds_between(
        clock.segment_started_at, now or timezone.now())


def remaining_now(clock: Clock, now: datetime | None = None) -> int | None:
    """Business seconds left before the target (negative once missed); None without a target."""
    if clock.target_seconds is None:
        return None
    return clock.target_seconds - elapsed_now(clock, now)


def _agreement_percents(agreement_id: int | None) -> set[int]:
    """The percents of their target at which an agreement's clocks are announced."""
    if not agreement_id:
        return set()
    return set(Threshold.objects.filter(agreement_id=agreement_id).values_list("percent", flat=True))


def _threshold_percents(clock: Clock, agreement_percents: set[int] | None = None) -> list[int]:
    """The agreement's thresholds, and 100 % (the breach) when the clock has a target."""
    percents = _agreement_percents(clock.agreement_id) if agreement_percents is None else set(agreement_percents)
    if clock.target_seconds:
        percents.add(100)
    return sorted(percents)


def _schedule_deadlines(clock: Clock, at: datetime) -> None:
    """Store when the running clock reaches its target and each threshold (cleared while not running)."""
    running = clock.state == ClockState.RUNNING and clock.target_seconds
    schedule = Schedule.of(clock.calendar) if running else None
    clock.due_at = schedule.add(at, clock.target_seconds - clock.elapsed_seconds) if running else None
    wanted = _threshold_percents(clock)
    existing = {t.percent: t for t in clock.thresholds.all()}
    for percent, row in existing.items():
        if percent not in wanted and row.fired_at is None:
            row.delete()
    for percent in wanted:
        row = existing.get(percent) or ClockThreshold(clock=clock, percent=percent)
        if row.fired_at is not None:
            continue
        row.due_at = (schedule.add(at, max(0, clock.target_seconds * percent // 100 - clock.elapsed_seconds))
                      if running else None)
        row.save()


def start_clocks(incident: Incident, *, actor: Any = None) -> list[Clock]:
    """Response and resolution clocks start when the incident is reported. Both count against the same
    agreement and calendar, so their terms are looked up once and the clocks, their start events and their
    thresholds are written together, one bulk insert for each."""
    at = incident.created_at
    agreement, target, calendar = _agreement_terms(incident)
    schedule = Schedule.of(calendar)
    agreement_percents = _agreement_percents(agreement.pk if agreement else None)
    clocks, thresholds = [], []
    for kind in (ClockKind.RESPONSE, ClockKind.RESOLUTION):
        clock = Clock(incident=incident, kind=kind, started_at=at, segment_started_at=at, state=ClockState.RUNNING)
        _apply_terms(clock, _kind_terms(kind, incident, agreement, target, calendar))
        seconds = clock.target_seconds
        clock.due_at = schedule.add(at, seconds) if seconds else None
        for percent in _threshold_percents(clock, agreement_percents):
            thresholds.append(ClockThreshold(clock=clock, percent=percent,
                                             due_at=schedule.add(at, seconds * percent // 100) if seconds else None))
        clocks.append(clock)
    started = [_event_row(clock, ClockEventKind.START, at, actor, _("Reported")) for clock in clocks]
    Clock.objects.bulk_create(clocks)
    ClockEvent.objects.bulk_create(started)  # each row takes its clock's new key (the ORM fills clock_id in)
    ClockThreshold.objects.bulk_create(thresholds)
    for clock, event in zip(clocks, started, strict=True):
        clock._prefetched_objects_cache = {"events": [event]}
    _store_next_target(incident, next_target(clocks))  # a report without a priority has none: nothing written
    # Whoever reported the incident is answered with its clocks as they were just written (see incident_clocks).
    incident._started_clocks = (incident.updated_at, clocks)
    return clocks


def _open_clocks(incident: Incident, *kinds: str) -> list[Clock]:
    qs = Clock.objects.select_for_update(of=("self",)).filter(incident=incident).exclude(state=ClockState.STOPPED)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return list(qs.select_related("calendar").order_by("pk"))


def pause(incident: Incident, *, actor: Any, reason: str, at: datetime | None = None) -> None:
    at = at or timezone.now()
    for clock in _open_clocks(incident):
        if clock.state != ClockState.RUNNING:
            continue
        segment = _close_segment(clock, at)
        clock.state, clock.segment_started_at = ClockState.PAUSED, None
        _schedule_deadlines(clock, at)
        clock.save()
        _event(clock, ClockEventKind.PAUSE, at, actor, reason, segment)
    follow_clocks(incident)


def resume(incident: Incident, *, actor: Any, reason: str, kinds: tuple[str, ...] = (),
           at: datetime | None = None) -> None:
    at = at or timezone.now()
    for clock in Clock.objects.select_for_update(of=("self",)).filter(incident=incident).exclude(
            state=ClockState.RUNNING).filter(**({"kind__in": kinds} if kinds else {})).select_related("calendar"):
        if clock.state == ClockState.STOPPED and clock.kind == ClockKind.RESPONSE:
            continue  # a first response is given once
        if clock.kind == ClockKind.OLA and clock.team_id != incident.team_id:
            continue
        clock.state, clock.segment_started_at, clock.stopped_at = ClockState.RUNNING, at, None
        _schedule_deadlines(clock, at)
        clock.save()
        _event(clock, ClockEventKind.RESUME, at, actor, reason)
    follow_clocks(incident)


def stop(incident: Incident, *kinds: str, actor: Any, reason: str, at: datetime | None = None) -> None:
    at = at or timezone.now()
    for clock in _open_clocks(incident, *kinds):
        segment = _close_segment(clock, at)
        clock.state, clock.segment_started_at, clock.stopped_at = ClockState.STOPPED, None, at
        _breach_at_stop(clock, at)
        _schedule_deadlines(clock, at)
        clock.save()
        _event(clock, ClockEventKind.STOP, at, actor, reason, segment)
    follow_clocks(incident)


def retarget(incident: Incident, *, actor: Any, reason: str, at: datetime | None = None) -> None:
    """The priority or the department changed: later time counts against the new terms; time already
    counted (and paused) is kept."""
    at = at or timezone.now()
    for clock in Clock.objects.select_for_update(of=("self",)).filter(incident=incident).exclude(
            state=ClockState.STOPPED).select_related("calendar"):
        terms = _terms(clock, incident)
        calendar_id = terms["calendar"].pk if terms["calendar"] else None
        if all(getattr(clock, k if k != "department_id" else "department_id") == v
               for k, v in terms.items() if k != "calendar") and clock.calendar_id == calendar_id:
            continue
        segment = _close_segment(clock, at)
        _apply_terms(clock, terms)
        _schedule_deadlines(clock, at)
        clock.save()
        _event(clock, ClockEventKind.RETARGET, at, actor, reason, segment)
    follow_clocks(incident)


def switch_team(incident: Incident, *, actor: Any, at: datetime | None = None) -> None:
    """Assignment to a team stops the previous team's OLA clock and starts (or resumes) the new one's."""
    at = at or timezone.now()
    for clock in _open_clocks(incident, ClockKind.OLA):
        if clock.team_id != incident.team_id:
            segment = _close_segment(clock, at)
            clock.state, clock.segment_started_at, clock.stopped_at = ClockState.STOPPED, None, at
            _breach_at_stop(clock, at)
            _schedule_deadlines(clock, at)
            clock.save()
            _event(clock, ClockEventKind.STOP, at, actor, _("Reassigned to another team"), segment)
    if not incident.team_id:
        return
    clock = Clock.objects.select_for_update(of=("self",)).filter(incident=incident, kind=ClockKind.OLA,
                                                     team_id=incident.team_id).first()
    if clock is None:
        clock = Clock(incident=incident, kind=ClockKind.OLA, team_id=incident.team_id, started_at=at,
                      segment_started_at=at, state=ClockState.RUNNING)
        _apply_terms(clock, _terms(clock, incident))
        clock.save()
        _event(clock, ClockEventKind.START, at, actor, _("Assigned to the team"))
        _schedule_deadlines(clock, at)
        clock.save()
    elif clock.state == ClockState.STOPPED:
        clock.state, clock.segment_started_at, clock.stopped_at = ClockState.RUNNING, at, None
        _schedule_deadlines(clock, at)
        clock.save()
        _event(clock, ClockEventKind.RESUME, at, actor, _("Assigned back to the team"))


def calendar_edited(calendar: BusinessCalendar | None) -> None:
    """A calendar's hours, exceptions or settings changed (sla.receivers): raise its version (so every process
    loads it afresh) and recompute the deadlines of the open clocks on it; stopped clocks keep their figures."""
    if calendar is None or calendar.pk is None:
        return
    businesstime.clear_cache()
    renew(BusinessCalendar)
    if not BusinessCalendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1):
        return  # being deleted
    calendar.refresh_from_db(fields=["version"])
    recompute_calendar(calendar)


def recompute_calendar(calendar: BusinessCalendar) -> int:
    """A calendar was edited: open clocks on it get new deadlines, and their incidents their next SLA target;
    stopped clocks keep their figures. The incidents are locked before their clocks, in the order a transition
    locks them, so that an edit and a transition of one incident never wait for each other."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        open_clocks = Clock.objects.filter(calendar=calendar).exclude(state=ClockState.STOPPED)
        incident_ids = list(Incident.objects.select_for_update().filter(
            pk__in=open_clocks.values("incident_id")).order_by("pk").values_list("pk", flat=True))
        for clock in open_clocks.select_for_update(of=("self",)).select_related("calendar"):
            clock.calendar = calendar
            clock.calendar_version = calendar.version
            # The open segment is counted in the edited calendar, from where it began.
            _schedule_deadlines(clock, clock.segment_started_at or now)
            clock.save()
            count += 1
        store_next_targets(Incident.objects.filter(pk__in=incident_ids))
    return count


# --- What the incident row keeps of its clocks -----------------------------------------------------------------

# The clocks whose targets an incident's queue row shows (the teams' own OLA clocks are the IT center's business).
TARGET_KINDS = (ClockKind.RESPONSE, ClockKind.RESOLUTION)


def running_targets(incident: Any) -> QuerySet[Clock]:
    """The incident's (an Incident, a key, or `OuterRef("pk")`) response and resolution clocks that run towards a
    target, the nearest first (the clocks' incident index finds them: two at most)."""
    return Clock.objects.filter(incident=incident, kind__in=TARGET_KINDS, state=ClockState.RUNNING,
                                due_at__isnull=False).order_by("due_at", "pk")


def next_target(clocks: Iterable[Clock]) -> tuple[datetime | None, str]:
    """The nearest target of the running response and resolution clocks in hand and its clock's kind: (None, "")
    when none runs towards one (paused, stopped, or without a target)."""
    running = [c for c in clocks if c.kind in TARGET_KINDS and c.state == ClockState.RUNNING and c.due_at]
    nearest = min(running, key=lambda c: c.due_at, default=None)
    return (nearest.due_at, nearest.kind) if nearest else (None, "")


def _store_next_target(incident: Incident, target: tuple[datetime | None, str]) -> None:
    """Keep `target` as the incident's next SLA target, on its row and on the copy in hand, unless it holds it."""
    if (incident.sla_due_at, incident.sla_due_kind) == target:
        return
    Incident.objects.filter(pk=incident.pk).update(sla_due_at=target[0], sla_due_kind=target[1])
    incident.sla_due_at, incident.sla_due_kind = target


def follow_clocks(incident: Incident) -> None:
    """After the incident's clocks started, paused, resumed, stopped (the target met or missed) or were re-targeted:
    their nearest running target read back and written on the incident row, where the queues sort and show it
    (Incident.sla_due_at, and the next_due_at the database works out from it), and on the copy in hand. Runs in the
    transaction that moved the clocks, with the incident locked."""
    target = running_targets(incident.pk).values_list("due_at", "kind").first() or (None, "")
    Incident.objects.filter(pk=incident.pk).update(sla_due_at=target[0], sla_due_kind=target[1])
    incident.sla_due_at, incident.sla_due_kind = target


def store_next_targets(incidents: QuerySet[Incident]) -> int:
    """The next SLA target of many incidents at once, each read from its clocks inside one UPDATE (a calendar
    edit; the migration that filled the column did the same). The caller holds the incidents' locks."""
    nearest = running_targets(OuterRef("pk"))
    return incidents.update(sla_due_at=Subquery(nearest.values("due_at")[:1]),
                            sla_due_kind=Coalesce(Subquery(nearest.values("kind")[:1]), Value("")))


# --- Warnings and breaches -----------------------------------------------------------------------------

SWEEP_BATCH = 500


def _record_breach(clock: Clock, *, at: datetime, now: datetime) -> bool:
    """Record the clock's breach (once: one row per clock); True when this call claimed its announcement,
    i.e. the sweep had not announced it yet."""
    clock.breached = True
    Breach.objects.get_or_create(clock=clock, defaults={
        "incident_id": clock.incident_id, "department_id": clock.department_id, "kind": clock.kind,
        "breached_at": at})
    # The breach threshold is announced with the breach, never again by the sweep.
    return bool(ClockThreshold.objects.filter(clock=clock, percent=100, fired_at__isnull=True).update(fired_at=now))


def _breach_at_stop(clock: Clock, at: datetime) -> None:
    """A clock stopped past its target is breached; announced now unless the sweep already did (it ran late,
    or not since the target was reached)."""
    if not (clock.target_seconds and clock.elapsed_seconds > clock.target_seconds):
        return
    reached = clock.due_at if clock.due_at and clock.due_at <= at else at
    if _record_breach(clock, at=reached, now=at):
        incident = Incident.objects.select_related("assignee", "team", "department", "service").get(
            pk=clock.incident_id)
        _notify(clock, incident, 100, reached)


class _Audience:
    """Who hears of thresholds, looked up once per sweep batch (rules, team members, supervisors, contacts)."""

    def __init__(self) -> None:
        self.rules: dict[tuple[int, int], Threshold | None] = {}
        self.teams: dict[int, list[User]] = {}
        self.contacts: dict[int, list[User]] = {}
        self._supervisors: list[User] | None = None
        self.endpoints = active_endpoints()

    def rule(self, clock: Clock, percent: int) -> Threshold | None:
        if not clock.agreement_id:
            return None
        key = (clock.agreement_id, percent)
        if key not in self.rules:
            self.rules[key] = Threshold.objects.filter(agreement_id=clock.agreement_id, percent=percent) \
                .prefetch_related("users").first()
        return self.rules[key]

    def supervisors(self) -> list[User]:
        if self._supervisors is None:
            self._supervisors = role_members(roles.SUPERVISOR)
        return self._supervisors

    def team(self, team_id: int) -> list[User]:
        if team_id not in self.teams:
            self.teams[team_id] = list(User.objects.filter(teams=team_id, is_active=True))
        return self.teams[team_id]

    def contact(self, incident: Incident) -> list[User]:
        department = incident.department
        if department.pk not in self.contacts:
            self.contacts[department.pk] = list(User.objects.filter(
                department=department, groups__name=roles.DEPARTMENT_USER, is_active=True,
                email__iexact=department.contact_email)) if department.contact_email else []
        return self.contacts[department.pk]

    def recipients(self, clock: Clock, incident: Incident, rule: Threshold | None) -> list[User]:
        people: dict[int, User] = {}
        wants = rule or Threshold(notify_assignee=True, notify_team=True, notify_supervisors=True)
        if wants.notify_assignee and incident.assignee_id:
            people[incident.assignee_id] = incident.assignee
        if wants.notify_team and incident.team_id:
            people.update({u.pk: u for u in self.team(incident.team_id)})
        if wants.notify_supervisors:
            people.update({u.pk: u for u in self.supervisors()})
        if wants.notify_department and incident.department_id:
            people.update({u.pk: u for u in self.contact(incident)})
        if rule is not None and rule.pk:
            people.update({u.pk: u for u in rule.users.all() if u.is_active})
        return list(people.values())

    def messages(self, clock: Clock, incident: Incident, percent: int, due_at: datetime) -> list:
        """The outbox rows telling who the agreement's threshold names that the clock used `percent` of its
        target (100: breached)."""
        kind = notifications.BREACH if percent >= 100 else notifications.WARNING
        return build_notifications(
            kind=kind, recipients=self.recipients(clock, incident, self.rule(clock, percent)),
            params=incident_params(incident, kind=clock.kind, clock=clock.kind, percent=percent,
                                   due_at=timestamp(due_at)),
            link=reverse("incidents:incident-detail", args=[incident.pk]), endpoints=self.endpoints)


def _notify(clock: Clock, incident: Incident, percent: int, due_at: datetime) -> None:
    """Tell who the agreement's threshold names that the clock used `percent` of its target (100: breached)."""
    write_notifications(_Audience().messages(clock, incident, percent, due_at))


def _announce_batch(rows: list[ClockThreshold], now: datetime) -> None:
    """Record the breaches of a claimed batch at once (one row per clock, unique) and write every message of
    the batch in one outbox insert."""
    breached = [row for row in rows if row.percent >= 100]
    if breached:
        Breach.objects.bulk_create([
            Breach(clock_id=row.clock_id, incident_id=row.clock.incident_id, department_id=row.clock.department_id,
                   kind=row.clock.kind, breached_at=row.due_at) for row in breached], ignore_conflicts=True)
        Clock.objects.filter(pk__in=[row.clock_id for row in breached]).update(breached=True)
    audience = _Audience()
    messages = []
    for row in rows:
        messages += audience.messages(row.clock, row.clock.incident, row.percent, row.due_at)
    write_notifications(messages)


def sweep(*, now: datetime | None = None) -> int:
    """Announce every threshold that has come due on a running clock, once: each batch is claimed with a
    conditional UPDATE on rows locked in the transaction that writes the breaches and the outbox rows, so a
    sweep that runs twice, late, or beside another announces each threshold exactly once.

    A breach changes no deadline: the missed target stays the incident's next SLA target on its row (the queues
    show it overdue and keep the incident first among its priority) until its clock stops or is re-targeted. So the
    sweep writes nothing on incidents, and takes no incident's lock, which a transition holds before its clocks'."""
    now = now or timezone.now()
    announced = 0
    while True:
        with transaction.atomic():
            ids = list(ClockThreshold.objects.filter(fired_at__isnull=True, due_at__lte=now,
                                                     clock__state=ClockState.RUNNING)
                       .select_for_update(skip_locked=True, of=("self",))
                       .order_by("due_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
            if not ids:
                return announced
            claimed = ClockThreshold.objects.filter(pk__in=ids, fired_at__isnull=True).update(fired_at=now)
            if claimed != len(ids):
                transaction.set_rollback(True)
                continue
            rows = list(ClockThreshold.objects.filter(pk__in=ids)
                        .select_related("clock__incident__assignee", "clock__incident__department",
                                        "clock__incident__service")
                        .order_by("due_at", "pk"))
            _announce_batch(rows, now)
            announced += len(ids)


# --- Reading clocks ------------------------------------------------------------------------------------------

KIND_ORDER = {ClockKind.RESPONSE: 0, ClockKind.RESOLUTION: 1, ClockKind.OLA: 2}


@dataclass(frozen=True)
class ClockStatus:
    """A clock's figures at an instant: business seconds elapsed and left, and when it is due while running."""

    clock: Clock
    elapsed_seconds: int
    remaining_seconds: int | None
    due_at: datetime | None

    @property
    def overdue(self) -> bool:
        """Past its target: breached, or about to be recorded so by the next sweep."""
        return self.clock.breached or (self.remaining_seconds is not None and self.remaining_seconds < 0)


def _just_started(incident: Incident | int) -> list[Clock] | None:
    """Just reported and unchanged since (any change saves the incident): the clocks start_clocks wrote, with
    their calendar, agreement and start event, without reading them back; None otherwise."""
    started = getattr(incident, "_started_clocks", None)
    if started is not None and started[0] == incident.updated_at:
        return list(started[1])
    return None


def incident_clocks(incident: Incident | int, *, events: bool = False) -> list[Clock]:
    """An incident's clocks (response, resolution, then the teams'), with their calendars: one query (two with
    the events). A calendar's hours and exceptions are not read with them: each process reads them once per
    version of the calendar (`Schedule.of`), which an edit raises."""
    started = _just_started(incident)
    if started is not None:
        return started
    qs = Clock.objects.filter(incident=incident).select_related("calendar", "team", "agreement")
    if events:
        qs = qs.prefetch_related(Prefetch("events", queryset=ClockEvent.objects.select_related("actor")
                                          .order_by("at", "pk")))
    return sorted(qs, key=lambda c: (KIND_ORDER.get(c.kind, 9), c.started_at, c.pk))


def clocks_agreement(clocks: list[Clock]) -> Agreement | None:
    """The agreement an incident's response and resolution clocks count against (None when none applies)."""
    return next((c.agreement for c in clocks if c.kind != ClockKind.OLA and c.agreement_id), None)


def incident_agreement_data(incident: Incident, clocks: list[Clock] | None = None) -> dict[str, Any] | None:
    """The incident's agreement as the API and the page tell it: which one, of which department, and why it
    applies (its department's, its service owner's, or the default); None when none applies. Read from `clocks`
    when they are loaded, else with one query (none right after reporting)."""
    if clocks is None:
        clocks = _just_started(incident)
    if clocks is None:
        clocks = list(Clock.objects.filter(incident=incident).exclude(kind=ClockKind.OLA).select_related("agreement"))
    agreement = clocks_agreement(clocks)
    if agreement is None:
        return None
    return {"id": agreement.pk, "name": agreement.name, "department_id": agreement.department_id,
            "source": agreement_source(incident, agreement)}


def clock_status(clock: Clock, now: datetime | None = None) -> ClockStatus:
    now = now or timezone.now()
    remaining = remaining_now(clock, now)
    due_at = clock.due_at if clock.state == ClockState.RUNNING else None
    return ClockStatus(clock, elapsed_now(clock, now), remaining, due_at)
