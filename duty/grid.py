"""The roster as a month grid: one row per person, one column per day of the month within the roster's period,
each cell the shifts the person starts that day (by the wall calendar of the duty policy's zone), coloured by
when they start."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import pgettext_lazy

from duty.models import Shift
from duty.periods import local_day
from duty.selectors import ROLE_ORDER
from opscenter.core.roles import ROLE_LABELS

# A day of the week in one or two letters, for a column a few characters wide (Monday first).
WEEKDAYS = [pgettext_lazy("weekday, one or two letters", "Mo"), pgettext_lazy("weekday, one or two letters", "Tu"),
            pgettext_lazy("weekday, one or two letters", "We"), pgettext_lazy("weekday, one or two letters", "Th"),
            pgettext_lazy("weekday, one or two letters", "Fr"), pgettext_lazy("weekday, one or two letters", "Sa"),
            pgettext_lazy("weekday, one or two letters", "Su")]


@dataclass(frozen=True)
class Day:
    date: date
    today: bool
    weekend: bool
    gap: bool = False  # a coverage gap touches the day

    @property
    def weekday(self) -> str:
        return str(WEEKDAYS[self.date.weekday()])


@dataclass
class Chip:
    """A shift in a cell: its shift type's code (or its start hour when it has none) and its colour band."""

    shift: Shift
    label: str
    band: str

    @property
    def long(self) -> bool:
        """A code of more than three characters is drawn smaller, to fit a day's column at 1366 pixels."""
        return len(self.label) > 3


@dataclass
class Cell:
    day: Day
    chips: list[Chip] = field(default_factory=list)


@dataclass
class Row:
    person: Any
    role: str
    cells: list[Cell] = field(default_factory=list)
    shifts: int = 0
    hours: float = 0.0

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))


def band(hour: int) -> str:
    """The colour of a shift starting at this local hour: day (05–11), afternoon (12–17) or night."""
    if 5 <= hour < 12:
        return "day"
    if 12 <= hour < 18:
        return "afternoon"
    return "night"


def months(first_day: date, last_day: date) -> list[date]:
    """The first day of each month the period touches."""
    found, month = [], first_day.replace(day=1)
    while month <= last_day:
        found.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return found


def month_days(first_day: date, last_day: date, month: date, today: date,
               gaps: set[date] | frozenset[date] = frozenset()) -> list[Day]:
    """The days of `month` within the period (`gaps`: the days a coverage gap touches)."""
    start = max(first_day, month)
    end = min(last_day, (month + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    return [Day(d, d == today, d.weekday() >= 5, d in gaps) for d in (start + timedelta(days=n)
                                                                       for n in range((end - start).days + 1))]


def gap_days(findings: list[Any], zone: ZoneInfo) -> set[date]:
    """The local days that the coverage gaps among `findings` touch."""
    found = set()
    for finding in findings:
        if finding.kind != "gap":
            continue
        day, last = local_day(finding.start, zone), local_day(finding.end - timedelta(seconds=1), zone)
        while day <= last:
            found.add(day)
            day += timedelta(days=1)
    return found


def month_grid(shifts: list[Shift], days: list[Day], zone: ZoneInfo) -> list[Row]:
    """A row for everyone on the roster (also those with no shift this month, so that the rows stay put from month
    to month), in the order of their roles, then their names; the month's shifts in their cells."""
    index = {day.date: n for n, day in enumerate(days)}
    rows: dict[int, Row] = {}
    for shift in shifts:
        row = rows.get(shift.user_id)
        if row is None:
            row = rows[shift.user_id] = Row(shift.user, shift.role, [Cell(day) for day in days])
        local_start = shift.start.astimezone(zone)
        column = index.get(local_day(shift.start, zone))
        if column is None:
            continue
        label = shift.shift_type.code if shift.shift_type_id else f"{local_start:%H}"
        row.cells[column].chips.append(Chip(shift, label, band(local_start.hour)))
        row.shifts += 1
        row.hours += (shift.end - shift.start).total_seconds() / 3600
    return sorted(rows.values(), key=lambda r: (ROLE_ORDER.get(r.role, 99), str(r.person)))
