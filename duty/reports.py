"""Duty figures per person and month, for fairness and pay: hours on duty split into day, night, weekend and
holiday hours, lateness and absences, swaps approved.

Hours are real elapsed hours of the shifts of published rosters (a night across the change to summer time counts
one hour less), split by the wall clock of the policy's time zone: hours on a public holiday of the policy's region
are holiday hours; other hours on a Saturday or Sunday (not a make-up workday, 調休) are weekend hours; the rest are
night hours between the policy's night bounds (20:00–08:00 by default) or day hours. A shift across midnight at the
end of a month counts in each month for its hours there. A shift the person was absent from counts no hours; it is
counted as an absence in the month it started, as lateness is.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q

from duty.choices import Attendance, SwapState
from duty.models import DutyPolicy, Shift, SwapRequest
from opscenter.core.models import Team, User
from opscenter.core.public_holidays import make_up_workdays, public_holidays

DAY, NIGHT, WEEKEND, HOLIDAY = "day", "night", "weekend", "holiday"
CATEGORIES = (DAY, NIGHT, WEEKEND, HOLIDAY)


@dataclass
class HourRules:
    """How an instant's hour is classified: the policy's zone, night bounds and region of public holidays."""

    zone: Any
    night_starts: time = time(20, 0)
    night_ends: time = time(8, 0)
    country: str = ""
    subdivision: str = ""

    @classmethod
    def of(cls, policy: DutyPolicy) -> "HourRules":
        return cls(policy.zone, policy.night_starts_at, policy.night_ends_at, policy.holiday_country,
                   policy.holiday_subdivision)

    def day_kind(self, day: date) -> str | None:
        """HOLIDAY or WEEKEND for a whole local date, None for a workday."""
        if day in public_holidays(self.country, self.subdivision, day.year):
            return HOLIDAY
        if day.weekday() >= 5 and day not in make_up_workdays(self.country, self.subdivision, day.year):
            return WEEKEND
        return None

    def is_night(self, moment: time) -> bool:
        if self.night_starts > self.night_ends:  # across midnight (20:00–08:00)
            return moment >= self.night_starts or moment < self.night_ends
        return self.night_starts <= moment < self.night_ends

    def _local(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.zone).astimezone(UTC)

    def split(self, start: datetime, end: datetime) -> dict[str, float]:
        """Seconds of [start, end) by category, cut at local midnights and at the night bounds."""
        seconds = dict.fromkeys(CATEGORIES, 0.0)
        cursor, end = start.astimezone(UTC), end.astimezone(UTC)
        while cursor < end:
            local = cursor.astimezone(self.zone)
            day = local.date()
            cuts = [self._local(day + timedelta(days=1), time(0)), self._local(day, self.night_ends),
                    self._local(day, self.night_starts), end]
            following = min(cut for cut in cuts if cut > cursor)
            kind = self.day_kind(day) or (NIGHT if self.is_night(local.time()) else DAY)
            seconds[kind] += (following - cursor).total_seconds()
            cursor = following
        return seconds


@dataclass
class PersonMonth:
    """One person's figures of a month."""

    user: User
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))
    shifts: int = 0
    late: int = 0
    late_minutes: int = 0
    absences: int = 0
    swaps_given: int = 0
    swaps_taken: int = 0

    def hours(self, kind: str) -> float:
        return round(self.seconds[kind] / 3600, 2)

    @property
    def day(self) -> float:
        return self.hours(DAY)

    @property
    def night(self) -> float:
        return self.hours(NIGHT)

    @property
    def weekend(self) -> float:
        return self.hours(WEEKEND)

    @property
    def holiday(self) -> float:
        return self.hours(HOLIDAY)

    @property
    def total(self) -> float:
        return round(sum(self.seconds.values()) / 3600, 2)


def month_bounds(month: date, zone: Any) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one, in the zone."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(following, time(0), tzinfo=zone)


def duty_report(month: date, *, team: Team | None = None, policy: DutyPolicy | None = None) -> list[PersonMonth]:
    """Every person with a shift of a published roster or an approved swap in the month (of one team or all),
    by name: three queries whatever the number of people and shifts."""
    policy = policy or DutyPolicy.current()
    rules = HourRules.of(policy)
    start, end = month_bounds(month, policy.zone)
    people: dict[int, PersonMonth] = {}

    def person(user: User) -> PersonMonth:
        return people.setdefault(user.pk, PersonMonth(user))

    shifts = Shift.objects.published().filter(start__lt=end, end__gt=start).select_related("user").only(
        "start", "end", "attendance", "late_minutes", "user__username", "user__display_name", "user__first_name",
        "user__last_name", "user__is_active")
    if team is not None:
        shifts = shifts.filter(team=team)
    for shift in shifts:
        figures = person(shift.user)
        began_here = start <= shift.start < end
        if shift.attendance == Attendance.ABSENT:
            figures.absences += began_here
            continue
        for kind, seconds in rules.split(max(shift.start, start), min(shift.end, end)).items():
            figures.seconds[kind] += seconds
        if began_here:
            figures.shifts += 1
            if shift.late_minutes:
                figures.late += 1
                figures.late_minutes += shift.late_minutes
    _count_swaps(people, start, end, team, person)
    return sorted(people.values(), key=lambda p: str(p.user).lower())


def _count_swaps(people: dict[int, PersonMonth], start: datetime, end: datetime, team: Team | None,
                 person: Callable[[User], PersonMonth]) -> None:
    swaps = SwapRequest.objects.filter(state=SwapState.APPROVED, decided_at__gte=start, decided_at__lt=end)
    if team is not None:
        swaps = swaps.filter(Q(shift__team=team))
    pairs = list(swaps.values_list("requester_id", "colleague_id"))
    missing = {pk for pair in pairs for pk in pair} - set(people)
    names = ("username", "display_name", "first_name", "last_name")
    for user in User.objects.filter(pk__in=missing).only(*names) if missing else []:
        person(user)
    for requester, colleague in pairs:
        people[requester].swaps_given += 1
        people[colleague].swaps_taken += 1


CSV_HEADER = ["person", "username", "shifts", "hours_total", "hours_day", "hours_night", "hours_weekend",
              "hours_holiday", "late_shifts", "late_minutes", "absences", "swaps_given", "swaps_taken"]


def csv_rows(rows: list[PersonMonth]) -> list[list[Any]]:
    """The report as CSV rows, the header first."""
    return [CSV_HEADER] + [[str(r.user), r.user.username, r.shifts, r.total, r.day,
                            r.night, r.weekend, r.holiday, r.late, r.late_minutes, r.absences, r.swaps_given,
                            r.swaps_taken] for r in rows]
