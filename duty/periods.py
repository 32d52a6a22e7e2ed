"""Wall-clock days and shift times of the duty policy's time zone, as the UTC instants they are stored in.

A shift type starts at a wall-clock time and lasts its minutes by the wall clock: a night from 20:00 to 08:00
across the spring change is 11 real hours and across the autumn change 13, and the next shift still starts
where it ends. A start inside the spring gap (02:30 where the clock jumps from 02:00 to 03:00) is read with
the offset before the change, as Python reads it (fold 0)."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# No shift is longer: a shift type lasts at most 24 hours by the wall clock, 25 real hours over the autumn
# change. Who-is-on-duty reads only the shifts that started within this much before the moment it asks about.
LONGEST_SHIFT = timedelta(hours=25)
# The longest roster a supervisor generates at once (a quarter).
LONGEST_PERIOD_DAYS = 92


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the wall clock of `zone` shows `at` on `day`."""
    return datetime.combine(day, at).replace(tzinfo=zone).astimezone(UTC)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight at the start of `day`, in UTC."""
    return wall_clock(day, time.min, zone)


def period_bounds(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From local midnight of the first day to local midnight after the last, in UTC."""
    return day_start(first_day, zone), day_start(last_day + timedelta(days=1), zone)


def shift_times(shift_type: Any, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of a shift of `shift_type` starting on `day`: its start time on the wall clock, and
    its length added to the wall clock (so a 12-hour night over a daylight-saving change lasts 11 or 13 hours)."""
    wall = datetime.combine(day, shift_type.start_time)
    start = wall.replace(tzinfo=zone).astimezone(UTC)
    end = (wall + timedelta(minutes=shift_type.duration_minutes)).replace(tzinfo=zone).astimezone(UTC)
    if end <= start:  # only a shorter shift inside the spring gap could: it keeps its real length
        end = start + timedelta(minutes=shift_type.duration_minutes)
    return start, end


def days(first_day: date, last_day: date) -> Iterator[date]:
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day of the wall calendar of `zone` that `moment` falls on."""
    return moment.astimezone(zone).date()
