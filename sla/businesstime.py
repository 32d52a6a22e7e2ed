"""Business-time arithmetic on a calendar: how many working seconds lie between two instants, and which
instant comes a number of working seconds after another.

A day's working periods come, in this order, from: a make-up workday (調休, its own hours or the Monday
pattern), an extra day off or a public holiday (none), or the weekday's intervals; a 7×24 calendar works
every second. Periods are built in the calendar's time zone, so days that change to or from daylight saving
time count their real length. Instants are floored to whole seconds: counts are integers and additive."""

import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from opscenter.core.public_holidays import public_holidays
from sla.choices import ExceptionKind

# How far add() looks ahead for working time before it gives up (a calendar with no working time at all).
MAX_DAYS = 3 * 366


def _floor(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return instant.astimezone(UTC).replace(microsecond=0)


class Schedule:
    """A calendar loaded once (intervals, exceptions, holidays) for any number of computations."""

    def __init__(self, calendar) -> None:  # noqa: ANN001
        self.zone = calendar.zone
        self.is_24x7 = calendar.is_24x7
        self.week: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
        for interval in calendar.intervals.all():
            self.week[interval.weekday].append((interval.start, interval.end))
        for periods in self.week.values():
            periods.sort()
        self.exceptions = {e.date: e for e in calendar.exceptions.all()}
        self.country = calendar.holiday_country
        self.subdivision = calendar.holiday_subdivision or None

    @classmethod
    def of(cls, calendar) -> "Schedule":  # noqa: ANN001
        """The calendar's schedule; round the clock for None (a clock with no calendar counts every second)."""
        if calendar is None:
            return _round_the_clock()
        return _cached_schedule(calendar.pk, calendar.version, calendar) if calendar.pk else cls(calendar)

    # --- days ---

    def _holidays(self, year: int) -> frozenset[date]:
        return public_holidays(self.country, self.subdivision or "", year)

    def day_hours(self, day: date) -> list[tuple[time, time | None]]:
        """Local working periods of a date; an end of None means midnight at the end of the day."""
        if self.is_24x7:
            return [(time(0), None)]
        exception = self.exceptions.get(day)
        if exception is not None:
            if exception.kind == ExceptionKind.DAY_OFF:
                return []
            if exception.start is not None:
                return [(exception.start, exception.end)]
            return list(self.week[0])
        if day in self._holidays(day.year):
            return []
        return list(self.week[day.weekday()])

    def day_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of a local date as UTC instants, in order."""
        periods = []
        for start, end in self.day_hours(day):
            begin = datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC)
            if end is None:
                finish = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)
            else:
                finish = datetime.combine(day, end, tzinfo=self.zone).astimezone(UTC)
            if finish > begin:
                periods.append((begin, finish))
        return periods

    def periods(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods clipped to [start, end)."""
        start, end = _floor(start), _floor(end)
        if end <= start:
            return
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for begin, finish in self.day_periods(day):
                begin, finish = max(begin, start), min(finish, end)
                if finish > begin:
                    yield begin, finish
            day += timedelta(days=1)

    # --- arithmetic ---

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Working seconds in [start, end); 0 when end is not after start."""
        return sum(int((finish - begin).total_seconds()) for begin, finish in self.periods(start, end))

    def resumes_at(self, instant: datetime) -> datetime | None:
        """When working time next runs from `instant`: the instant itself inside a working period, else the start
        of the next one (None when the calendar has none within MAX_DAYS)."""
        start = _floor(instant)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _i in range(MAX_DAYS):
            for begin, finish in self.day_periods(day):
                if finish > start:
                    return max(begin, start)
            day += timedelta(days=1)
        return None

    def add(self, start: datetime, seconds: int) -> datetime | None:
        """The earliest instant with `seconds` working seconds after `start` (None when the calendar has no
        working time within MAX_DAYS)."""
        start = _floor(start)
        if seconds <= 0:
            return start
        remaining = seconds
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _i in range(MAX_DAYS):
            for begin, finish in self.day_periods(day):
                begin = max(begin, start)
                if finish <= begin:
                    continue
                available = int((finish - begin).total_seconds())
                if remaining <= available:
                    return begin + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)
        return None


@functools.cache
def _round_the_clock() -> Schedule:
    """Every second counts (the zone does not matter: a 7×24 day has no local periods)."""
    schedule = Schedule.__new__(Schedule)
    schedule.zone, schedule.is_24x7 = UTC, True
    schedule.week, schedule.exceptions = {d: [] for d in range(7)}, {}
    schedule.country, schedule.subdivision = "", None
    return schedule


@functools.lru_cache(maxsize=64)
def _cached_schedule(pk: int, version: int, calendar) -> Schedule:  # noqa: ANN001, ARG001
    return Schedule(calendar)


def clear_cache() -> None:
    """Forget loaded calendars (tests that edit a calendar without raising its version)."""
    _cached_schedule.cache_clear()


def seconds_between(calendar, start: datetime, end: datetime) -> int:  # noqa: ANN001
    return Schedule.of(calendar).seconds_between(start, end)


def add_seconds(calendar, start: datetime, seconds: int) -> datetime | None:  # noqa: ANN001
    return Schedule.of(calendar).add(start, seconds)
