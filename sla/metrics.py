"""Service level figures of departments and services per month (定期評估), read with aggregate queries.

Months run from the first day 00:00 to the next month's first day 00:00 in the project's time zone.

- **Compliance** per priority and clock kind: response and resolution clocks *stopped* in the month, met when
  their business time stayed within the target and no breach was recorded; clocks without a target (no
  agreement applied) are left out.
- **MTTA** is the mean of report → first response over incidents first responded to in the month; **MTTR**
  the mean of report → resolved over incidents resolved in the month (wall-clock time, as the incident summary).
- **Breaches** are those recorded in the month (breached_at), with how many are not yet explained.
- **Availability** of a service within its service hours (the target's calendar, else the agreement's):
  business seconds of the month (up to now for the running month) minus business seconds of its outages
  overlapping the month. A partial outage (degraded service) counts half its business time; overlapping
  outages are merged first so no second counts twice, and a full outage covers a partial one.
Only outages go through business-time arithmetic in Python (few rows); everything over incidents and clocks
is one grouped query per figure, for one department or all of them, one month or twelve.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from incidents.models import Incident
from sla.businesstime import Schedule
from sla.choices import ClockKind, ClockState, OutageKind
from sla.models import Agreement, Breach, Clock, Outage, PriorityTarget, ServiceTarget

TREND_MONTHS = 12
THOUSANDTH = Decimal("0.001")
TENTH = Decimal("0.1")
SLA_KINDS = (ClockKind.RESPONSE, ClockKind.RESOLUTION)


# --- Months ----------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) the given month."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of a month as aware instants in the project's time zone."""
    zone = timezone.get_default_timezone()
    first = month_start(month)
    return (datetime.combine(first, time.min, tzinfo=zone),
            datetime.combine(add_months(first, 1), time.min, tzinfo=zone))


def current_month() -> date:
    return month_start(timezone.localdate())


def trend_months(last: date, count: int = TREND_MONTHS) -> list[date]:
    """The `count` months ending with `last`, oldest first."""
    return [add_months(month_start(last), offset) for offset in range(1 - count, 1)]


def _month_key(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return f"{value:%Y-%m}"


def _percent(part: int, whole: int, quantum: Decimal = TENTH) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(quantum, rounding=ROUND_HALF_UP))


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


# --- Availability ------------------------------------------------------------------------------------------


def _merge(periods: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of periods, as disjoint sorted periods."""
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in sorted(periods):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _subtract(periods: list[tuple[datetime, datetime]],
              holes: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Disjoint `periods` without the disjoint `holes`."""
    remaining = []
    for begin, end in periods:
        for hole_begin, hole_end in holes:
            if hole_end <= begin or hole_begin >= end:
                continue
            if hole_begin > begin:
                remaining.append((begin, hole_begin))
            begin = max(begin, hole_end)
            if begin >= end:
                break
        if begin < end:
            remaining.append((begin, end))
    return remaining


def outage_seconds(schedule: Schedule, outages: list[tuple[datetime, datetime, str]]) -> Decimal:
    """Business seconds lost to outages already clipped to the period: full outages count whole, partial
    ones half, and a second covered by several outages counts once (the worst of them)."""
    full = _merge([(b, e) for b, e, kind in outages if kind == OutageKind.FULL])
    partial = _subtract(_merge([(b, e) for b, e, kind in outages if kind != OutageKind.FULL]), full)
    lost = sum(schedule.seconds_between(b, e) for b, e in full)
    half = sum(schedule.seconds_between(b, e) for b, e in partial)
    return Decimal(lost) + Decimal(half) / 2


@dataclass(frozen=True)
class Availability:
    """A service's availability over one period within its service hours, against its target."""

    service_seconds: int
    downtime_seconds: Decimal
    target: Decimal | None

    @property
    def percent(self) -> Decimal | None:
        if not self.service_seconds:
            return None
        ratio = (Decimal(self.service_seconds) - self.downtime_seconds) * 100 / Decimal(self.service_seconds)
        return ratio.quantize(THOUSANDTH, rounding=ROUND_HALF_UP)

    @property
    def breached(self) -> bool:
        """Below target, judged on the exact ratio (not the rounded percentage)."""
        if self.target is None or not self.service_seconds:
            return False
        exact = (Decimal(self.service_seconds) - self.downtime_seconds) * 100 / Decimal(self.service_seconds)
        return exact < self.target


def availability_between(*, calendar: Any, outages: list[tuple[datetime, datetime, str]], start: datetime,
                         end: datetime, target: Decimal | None) -> Availability:
    """Availability within [start, end) on the calendar, from outages (begin, end or None, kind) of the service."""
    schedule = Schedule.of(calendar)
    clipped = [(max(b, start), min(e or end, end), kind) for b, e, kind in outages]
    clipped = [(b, e, kind) for b, e, kind in clipped if e > b]
    return Availability(service_seconds=schedule.seconds_between(start, end),
                        downtime_seconds=outage_seconds(schedule, clipped), target=target)


def budget_spent_at(*, calendar: Any, outages: list[tuple[datetime, datetime | None, str]], start: datetime,
                    end: datetime, target: Decimal) -> datetime | None:
    """The instant within [start, end) the downtime passed what the availability target allows over the whole
    period (None when it never did): the moment a month's availability miss became certain."""
    schedule = Schedule.of(calendar)
    allowed = Decimal(schedule.seconds_between(start, end)) * (Decimal(100) - target) / 100
    clipped = [(max(b, start), min(e or end, end), kind) for b, e, kind in outages]
    clipped = [(b, e, kind) for b, e, kind in clipped if e > b]
    full = _merge([(b, e) for b, e, kind in clipped if kind == OutageKind.FULL])
    partial = _subtract(_merge([(b, e) for b, e, kind in clipped if kind != OutageKind.FULL]), full)
    periods = sorted([(b, e, Decimal(1)) for b, e in full] + [(b, e, Decimal("0.5")) for b, e in partial])
    spent = Decimal(0)
    for begin, finish, weight in periods:
        lost = Decimal(schedule.seconds_between(begin, finish)) * weight
        if spent + lost > allowed:
            return schedule.add(begin, int((allowed - spent) / weight) + 1) or finish
        spent += lost
    return None


def _outages_by_service(service_ids: set[int], start: datetime, end: datetime) -> dict[int, list[tuple]]:
    """Outages of the services overlapping [start, end), one query."""
    rows = (Outage.objects.filter(service_id__in=service_ids, started_at__lt=end)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
            .values_list("service_id", "started_at", "ended_at", "kind"))
    by_service: dict[int, list[tuple]] = {}
    for service_id, began, ended, kind in rows:
        by_service.setdefault(service_id, []).append((began, ended, kind))
    return by_service


def agreements_in(department_ids: list[int] | None, first: date, last: date) -> dict[int, Agreement]:
    """Per department, its active agreement valid at some point of [first, last] (the latest starting one),
    with its calendar and targets loaded (four queries)."""
    qs = (Agreement.objects.filter(is_active=True, valid_from__lte=last)
          .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
          .select_related("calendar", "department")
          .prefetch_related("calendar__intervals", "calendar__exceptions")
          .order_by("department_id", "valid_from", "pk"))
    if department_ids is not None:
        qs = qs.filter(department_id__in=department_ids)
    chosen: dict[int, Agreement] = {}
    for agreement in qs:
        chosen[agreement.department_id] = agreement  # the latest one wins
    return chosen


def _service_targets(agreement_ids: list[int]) -> list[ServiceTarget]:
    return list(ServiceTarget.objects.filter(agreement_id__in=agreement_ids)
                .select_related("service", "calendar")
                .prefetch_related("calendar__intervals", "calendar__exceptions")
                .order_by("agreement_id", "service__name", "pk"))


def availability_rows(*, agreements: dict[int, Agreement], months: list[date],
                      now: datetime | None = None) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Per department and month ('YYYY-MM'), the availability of each service of its agreement."""
    now = now or timezone.now()
    targets = _service_targets([a.pk for a in agreements.values()])
    period_start, period_end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
    outages = _outages_by_service({t.service_id for t in targets}, period_start, period_end)
    by_agreement = {a.pk: a for a in agreements.values()}
    result: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for target in targets:
        agreement = by_agreement[target.agreement_id]
        calendar = target.calendar or agreement.calendar
        for month in months:
            start, end = month_bounds(month)
            end = min(end, now)
            if end <= start:
                continue
            figure = availability_between(calendar=calendar, outages=outages.get(target.service_id, []),
                                          start=start, end=end, target=target.availability)
            result.setdefault(agreement.department_id, {}).setdefault(_month_key(month), []).append({
                "service": target.service_id, "code": target.service.code, "name": target.service.name,
                "calendar": calendar.name, "target": float(target.availability),
                "availability": None if figure.percent is None else float(figure.percent),
                "service_seconds": figure.service_seconds,
                "downtime_seconds": float(figure.downtime_seconds), "breached": figure.breached,
            })
    return result


def availability_misses(*, department_ids: list[int] | None, month: date) -> list[dict[str, Any]]:
    """The services of the departments' agreements that came in below their availability target over a month,
    with the instant the month's downtime passed what the target allows (a fixed number of queries)."""
    month = month_start(month)
    start, end = month_bounds(month)
    agreements = agreements_in(department_ids, month, add_months(month, 1) - timedelta(days=1))
    by_agreement = {a.pk: a for a in agreements.values()}
    targets = _service_targets(list(by_agreement))
    outages = _outages_by_service({t.service_id for t in targets}, start, end)
    misses = []
    for target in targets:
        agreement = by_agreement[target.agreement_id]
        calendar = target.calendar or agreement.calendar
        periods = outages.get(target.service_id, [])
        figure = availability_between(calendar=calendar, outages=periods, start=start, end=end,
                                      target=target.availability)
        if figure.breached:
            misses.append({"department_id": agreement.department_id, "service_id": target.service_id,
                           "availability": figure.percent, "target": target.availability,
                           "breached_at": min(budget_spent_at(calendar=calendar, outages=periods, start=start,
                                                              end=end, target=target.availability) or end,
                                              end - timedelta(seconds=1))})
    return misses


# --- Clocks, incidents, breaches -------------------------------------------------------------------------


def _departments(qs, department_ids: list[int] | None, field: str = "department_id"):  # noqa: ANN001, ANN202
    return qs if department_ids is None else qs.filter(**{f"{field}__in": department_ids})


def compliance_rows(*, department_ids: list[int] | None, start: datetime, end: datetime) -> list[dict]:
    """Stopped response and resolution clocks per department, month, priority and kind: how many stopped and
    how many within their target (one grouped query)."""
    zone = timezone.get_default_timezone()
    qs = _departments(Clock.objects.filter(
        kind__in=SLA_KINDS, state=ClockState.STOPPED, stopped_at__gte=start, stopped_at__lt=end,
        target_seconds__isnull=False), department_ids)
    met = Q(breached=False, elapsed_seconds__lte=F("target_seconds"))
    return list(qs.annotate(month=TruncMonth("stopped_at", tzinfo=zone))
                .values("department_id", "month", "priority", "kind")
                .annotate(total=Count("pk"), met=Count("pk", filter=met))
                .order_by("department_id", "month", "priority", "kind"))


def incident_time_rows(*, department_ids: list[int] | None, start: datetime, end: datetime) -> dict:
    """MTTA and MTTR per department and month: two grouped queries (first responses, resolutions)."""
    zone = timezone.get_default_timezone()
    base = _departments(Incident.objects.all(), department_ids)
    acknowledged = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    resolved = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for field, expression, name in (("first_response_at", acknowledged, "mtta"), ("resolved_at", resolved, "mttr")):
        grouped = (base.filter(**{f"{field}__gte": start, f"{field}__lt": end})
                   .annotate(month=TruncMonth(field, tzinfo=zone)).values("department_id", "month")
                   .annotate(mean=Avg(expression), count=Count("pk")).order_by())
        for row in grouped:
            entry = rows.setdefault((row["department_id"], _month_key(row["month"])), {})
            entry[f"{name}_seconds"] = _seconds(row["mean"])
            entry[f"{name}_incidents"] = row["count"]
    return rows


def breach_rows(*, department_ids: list[int] | None, start: datetime, end: datetime) -> dict:
    """Breaches recorded per department and month, and how many still lack an explanation (one query)."""
    zone = timezone.get_default_timezone()
    unexplained = (Q(explanation="") | Q(corrective_action="") | Q(action_owner__isnull=True)
                   | Q(action_due__isnull=True))
    grouped = (_departments(Breach.objects.filter(breached_at__gte=start, breached_at__lt=end), department_ids)
               .annotate(breach_month=TruncMonth("breached_at", tzinfo=zone)).values("department_id", "breach_month")
               .annotate(total=Count("pk"), unexplained=Count("pk", filter=unexplained)).order_by())
    return {(r["department_id"], _month_key(r["breach_month"])): r for r in grouped}


def working_day_minutes(calendar: Any) -> int | None:
    """Minutes of the calendar's longest working weekday (what "a business day" means to its readers); None
    for 7×24 or a calendar without hours."""
    if calendar.is_24x7:
        return None
    per_day: dict[int, int] = {}
    for interval in calendar.intervals.all():
        minutes = (interval.end.hour * 60 + interval.end.minute) - (interval.start.hour * 60 + interval.start.minute)
        per_day[interval.weekday] = per_day.get(interval.weekday, 0) + max(minutes, 0)
    return max(per_day.values(), default=None) or None


def _target_minutes(agreements: dict[int, Agreement]) -> dict[tuple[int, str], dict[str, Any]]:
    """Per agreement and priority: the response and resolution minutes, whether they count round the clock,
    and the length of a business day of their calendar (when it is the agreement's, whose hours are loaded)."""
    by_id = {a.pk: a for a in agreements.values()}
    targets = {}
    for agreement_id, priority, response, resolution, calendar_id, round_the_clock in (
            PriorityTarget.objects.filter(agreement_id__in=list(by_id)).values_list(
                "agreement_id", "priority", "response_minutes", "resolution_minutes", "calendar_id",
                "calendar__is_24x7")):
        calendar = by_id[agreement_id].calendar
        own = calendar_id is None or calendar_id == calendar.pk
        targets[(agreement_id, priority)] = {
            "minutes": (response, resolution),
            "round_the_clock": calendar.is_24x7 if own else bool(round_the_clock),
            "day_minutes": working_day_minutes(calendar) if own else None}
    return targets


# --- Department figures ----------------------------------------------------------------------------------


def _compliance_entries(rows: list[dict], targets: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one department and month, one per priority and kind, with the target they were judged by (its
    minutes, whether they count round the clock, and the business day of its calendar)."""
    entries = []
    for row in rows:
        target = targets.get(row["priority"])
        entries.append({
            "priority": row["priority"], "kind": row["kind"], "total": row["total"], "met": row["met"],
            "percent": _percent(row["met"], row["total"]),
            "target_minutes": None if target is None
            else target["minutes"][0 if row["kind"] == ClockKind.RESPONSE else 1],
            "target_round_the_clock": None if target is None else target["round_the_clock"],
            "target_day_minutes": None if target is None else target["day_minutes"],
        })
    return entries


def _figures(*, department_id: int, month: date, compliance: list[dict], times: dict, breaches: dict | None,
             availability: list[dict], agreement: Agreement | None, targets: dict) -> dict[str, Any]:
    """One department's month as plain JSON values (what an evaluation freezes at publication)."""
    total = sum(r["total"] for r in compliance)
    met = sum(r["met"] for r in compliance)
    by_kind = {kind: [r for r in compliance if r["kind"] == kind] for kind in SLA_KINDS}
    return {
        "department": department_id,
        "month": f"{month:%Y-%m}",
        "agreement": None if agreement is None else {"id": agreement.pk, "name": agreement.name},
        "compliance": _compliance_entries(compliance, targets),
        "compliance_percent": _percent(met, total),
        "response_percent": _percent(sum(r["met"] for r in by_kind[ClockKind.RESPONSE]),
                                     sum(r["total"] for r in by_kind[ClockKind.RESPONSE])),
        "resolution_percent": _percent(sum(r["met"] for r in by_kind[ClockKind.RESOLUTION]),
                                       sum(r["total"] for r in by_kind[ClockKind.RESOLUTION])),
        "clocks_stopped": total,
        "clocks_met": met,
        "mtta_seconds": times.get("mtta_seconds"),
        "mttr_seconds": times.get("mttr_seconds"),
        "incidents_responded": times.get("mtta_incidents", 0),
        "incidents_resolved": times.get("mttr_incidents", 0),
        "breaches": breaches["total"] if breaches else 0,
        "unexplained_breaches": breaches["unexplained"] if breaches else 0,
        "availability": availability,
        "services_breached": sum(1 for a in availability if a["breached"]),
    }


def department_months(*, department_ids: list[int] | None, months: list[date],
                      now: datetime | None = None) -> dict[int, dict[str, dict[str, Any]]]:
    """Figures per department and month over consecutive months, in a fixed number of queries whatever the
    number of incidents, clocks, departments or months. `department_ids` None means every department with an
    agreement or figures in the period."""
    first, last = months[0], months[-1]
    start, end = month_bounds(first)[0], month_bounds(last)[1]
    agreements = agreements_in(department_ids, first, add_months(last, 1) - timedelta(days=1))
    targets = _target_minutes(agreements)
    compliance = compliance_rows(department_ids=department_ids, start=start, end=end)
    times = incident_time_rows(department_ids=department_ids, start=start, end=end)
    breaches = breach_rows(department_ids=department_ids, start=start, end=end)
    availability = availability_rows(agreements=agreements, months=months, now=now)
    ids = set(department_ids) if department_ids is not None else (
        set(agreements) | {r["department_id"] for r in compliance} | {k[0] for k in times} | {k[0] for k in breaches})
    ids.discard(None)
    result: dict[int, dict[str, dict[str, Any]]] = {}
    for department_id in sorted(ids):
        agreement = agreements.get(department_id)
        minutes = {p: v for (a, p), v in targets.items() if agreement and a == agreement.pk}
        for month in months:
            key = _month_key(month)
            result.setdefault(department_id, {})[key] = _figures(
                department_id=department_id, month=month, agreement=agreement, targets=minutes,
                compliance=[r for r in compliance
                            if r["department_id"] == department_id and _month_key(r["month"]) == key],
                times=times.get((department_id, key), {}), breaches=breaches.get((department_id, key)),
                availability=availability.get(department_id, {}).get(key, []))
    return result


def department_month(department_id: int, month: date, *, now: datetime | None = None) -> dict[str, Any]:
    """One department's figures of one month."""
    return department_months(department_ids=[department_id], months=[month_start(month)],
                             now=now)[department_id][f"{month:%Y-%m}"]


def published_figures(department_id: int, months: list[date]) -> dict[str, dict[str, Any]]:
    """The frozen figures of the months already published for the department (the monthly rollup: a published
    month keeps its figures, so they are read back, never recomputed)."""
    from sla.choices import EvaluationState
    from sla.models import Evaluation

    rows = Evaluation.objects.filter(department_id=department_id, state=EvaluationState.PUBLISHED,
                                     month__in=months).values_list("month", "figures")
    return {_month_key(month): figures for month, figures in rows if figures}


def department_trend(department_id: int, last: date, *, count: int = TREND_MONTHS,
                     now: datetime | None = None) -> list[dict[str, Any]]:
    """One department's figures for each of the `count` months ending with `last`, oldest first: published
    months from their evaluation, the others (usually the running month and the last one) computed over the
    span they cover."""
    months = trend_months(last, count)
    figures = published_figures(department_id, months)
    live = [m for m in months if _month_key(m) not in figures]
    if live:
        span = months[months.index(live[0]):months.index(live[-1]) + 1]
        computed = department_months(department_ids=[department_id], months=span, now=now)[department_id]
        figures.update({key: value for key, value in computed.items() if key not in figures})
    return [figures[_month_key(m)] for m in months]


def departments_side_by_side(month: date, *, department_ids: list[int] | None = None,
                             now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Every department's figures of one month (supervisors compare them)."""
    key = f"{month:%Y-%m}"
    return {d: months[key] for d, months in department_months(
        department_ids=department_ids, months=[month_start(month)], now=now).items()}
