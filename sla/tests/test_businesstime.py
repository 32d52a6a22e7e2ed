"""Business-time arithmetic: the properties every calendar keeps (monotonic, additive, add and seconds_between
inverse), checked by hypothesis over a year of instants; and the days that differ: weekends, public holidays
of the `holidays` package, make-up workdays (調休) and extra days off, several intervals a day, the changes to
and from daylight saving time, and 7×24."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.businesstime import Schedule
from sla.choices import ExceptionKind
from sla.models import BusinessCalendar, CalendarException
from sla.tests.factories import at, office_calendar

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600

# A year of instants, whole seconds (the arithmetic floors to seconds), from the end of 2025 into 2027 so
# that both changes of daylight saving time and the Chinese New Year holidays lie inside.
YEAR_START = datetime(2025, 12, 20, tzinfo=ZoneInfo("UTC"))
instants = st.integers(0, 380 * 86400).map(lambda s: YEAR_START + timedelta(seconds=s))
durations = st.integers(0, 120 * HOUR)  # up to about three working weeks of an office calendar
FAST = settings(max_examples=150, deadline=None)


def split_cn_calendar() -> BusinessCalendar:
    """Mon–Fri 08:30–12:00 and 13:30–17:30, Saturday morning; China's public holidays; the 2026 Spring
    Festival's make-up Saturdays (14 Feb with the Monday pattern, 28 Feb 09:00–12:00) and one extra day off."""
    calendar = BusinessCalendar.objects.create(name="Split CN", holiday_country="CN")
    for weekday in range(5):
        calendar.intervals.create(weekday=weekday, start=time(8, 30), end=time(12))
        calendar.intervals.create(weekday=weekday, start=time(13, 30), end=time(17, 30))
    calendar.intervals.create(weekday=5, start=time(9), end=time(12))
    CalendarException.objects.create(calendar=calendar, date=date(2026, 2, 14), kind=ExceptionKind.WORKDAY)
    CalendarException.objects.create(calendar=calendar, date=date(2026, 2, 28), kind=ExceptionKind.WORKDAY,
                                     start=time(9), end=time(12))
    CalendarException.objects.create(calendar=calendar, date=date(2026, 6, 12), kind=ExceptionKind.DAY_OFF,
                                     note="Company anniversary")
    calendar.refresh_from_db()
    return calendar


def night_calendar(zone: str) -> BusinessCalendar:
    """Every night 00:30–03:30 in a zone observing daylight saving time: the changes fall inside it."""
    calendar = BusinessCalendar.objects.create(name=f"Night {zone}", time_zone=zone)
    for weekday in range(7):
        calendar.intervals.create(weekday=weekday, start=time(0, 30), end=time(3, 30))
    calendar.refresh_from_db()
    return calendar


def round_the_clock(zone: str) -> BusinessCalendar:
    return BusinessCalendar.objects.create(name=f"7×24 {zone}", time_zone=zone, is_24x7=True)


def calendars() -> dict[str, Schedule]:
    """One schedule of each shape the properties are checked on."""
    return {
        "office": Schedule(office_calendar()),
        "split CN": Schedule(split_cn_calendar()),
        "London office": Schedule(office_calendar("London", zone="Europe/London", country="GB")),
        "New York nights": Schedule(night_calendar("America/New_York")),
        "7×24 London": Schedule(round_the_clock("Europe/London")),
    }


# --- Properties --------------------------------------------------------------------------------------------


def test_seconds_between_grows_with_the_end_and_adds_up() -> None:
    """Monotonic: a later end never counts less; additive: [a, b) and [b, c) make [a, c)."""
    schedules = calendars()

    @FAST
    @given(name=st.sampled_from(sorted(schedules)), points=st.lists(instants, min_size=3, max_size=3))
    def check(name: str, points: list[datetime]) -> None:
        schedule = schedules[name]
        a, b, c = sorted(points)
        ab, bc, ac = schedule.seconds_between(a, b), schedule.seconds_between(b, c), schedule.seconds_between(a, c)
        assert 0 <= ab <= ac and 0 <= bc <= ac
        assert ab + bc == ac
        assert ab <= int((b - a).total_seconds())
        assert schedule.seconds_between(c, a) == 0  # an end before the start counts nothing

    check()


def test_add_is_the_inverse_of_seconds_between_and_gives_the_earliest_instant() -> None:
    """seconds_between(s, add(s, n)) == n, and one second earlier it is n − 1: the deadline is the very
    second the n-th working second is completed."""
    schedules = calendars()

    @FAST
    @given(name=st.sampled_from(sorted(schedules)), start=instants, seconds=durations)
    def check(name: str, start: datetime, seconds: int) -> None:
        schedule = schedules[name]
        due = schedule.add(start, seconds)
        assert due is not None and due >= start
        assert schedule.seconds_between(start, due) == seconds
        if seconds:
            assert schedule.seconds_between(start, due - timedelta(seconds=1)) == seconds - 1
        else:
            assert due == start

    check()


def test_add_composes() -> None:
    """Adding m then n is adding m + n (a clock paused at zero business seconds loses nothing)."""
    schedules = calendars()

    @FAST
    @given(name=st.sampled_from(sorted(schedules)), start=instants, first=durations, second=durations)
    def check(name: str, start: datetime, first: int, second: int) -> None:
        schedule = schedules[name]
        middle = schedule.add(start, first)
        assert schedule.seconds_between(start, schedule.add(middle, second)) == first + second

    check()


def test_round_the_clock_counts_real_seconds_across_daylight_saving_changes() -> None:
    schedule = Schedule(round_the_clock("America/New_York"))

    @FAST
    @given(points=st.lists(instants, min_size=2, max_size=2))
    def check(points: list[datetime]) -> None:
        a, b = sorted(points)
        assert schedule.seconds_between(a, b) == int((b - a).total_seconds())
        assert schedule.add(a, int((b - a).total_seconds())) == b

    check()


# --- The policy example ------------------------------------------------------------------------------------


def test_a_one_hour_response_reported_friday_1630_is_due_monday_0830() -> None:
    """五、運維服務質量保障: 1-hour response, working hours 08:00–17:00 Monday to Friday."""
    schedule = Schedule(office_calendar())
    friday = at("2026-11-27 16:30")
    assert friday.weekday() == 4
    assert schedule.add(friday, HOUR) == at("2026-11-30 08:30")
    assert schedule.seconds_between(friday, at("2026-11-30 08:30")) == HOUR
    assert schedule.seconds_between(friday, at("2026-11-30 08:29")) == HOUR - 60


# --- Weekends and days ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "seconds"), [
    ("2026-11-27 17:00", "2026-11-30 08:00", 0),             # Friday close to Monday opening
    ("2026-11-28 00:00", "2026-11-30 00:00", 0),             # the whole weekend
    ("2026-11-27 16:00", "2026-11-30 09:00", 2 * HOUR),
    ("2026-11-30 08:00", "2026-12-05 08:00", 5 * 9 * HOUR),   # a working week
    ("2026-11-30 07:00", "2026-11-30 08:00", 0),             # before opening
    ("2026-11-30 17:00", "2026-11-30 23:59", 0),             # after closing
])
def test_weekend_and_closing_boundaries(start: str, end: str, seconds: int) -> None:
    assert Schedule(office_calendar()).seconds_between(at(start), at(end)) == seconds


def test_the_second_before_and_after_the_weekend() -> None:
    schedule = Schedule(office_calendar())
    last_second = at("2026-11-27 17:00") - timedelta(seconds=1)
    assert schedule.seconds_between(last_second, at("2026-11-30 08:00") + timedelta(seconds=1)) == 2
    assert schedule.add(at("2026-11-27 17:00"), 1) == at("2026-11-30 08:00") + timedelta(seconds=1)
    assert schedule.add(at("2026-11-28 12:00"), 0) == at("2026-11-28 12:00")


def test_several_intervals_a_day_skip_the_lunch_break() -> None:
    schedule = Schedule(split_cn_calendar())
    monday = "2026-03-02"
    assert schedule.seconds_between(at(f"{monday} 00:00"), at(f"{monday} 23:59")) == 7.5 * HOUR
    assert schedule.seconds_between(at(f"{monday} 11:30"), at(f"{monday} 14:00")) == HOUR
    assert schedule.add(at(f"{monday} 11:30"), HOUR) == at(f"{monday} 14:00")
    assert schedule.add(at(f"{monday} 12:15"), 1) == at(f"{monday} 13:30") + timedelta(seconds=1)
    # Saturday mornings are worked too, Sundays not.
    assert schedule.seconds_between(at("2026-03-07 00:00"), at("2026-03-09 00:00")) == 3 * HOUR


# --- Holidays, make-up workdays, extra days off ---------------------------------------------------------------


@pytest.mark.parametrize("country", ["CN", "TW"])
def test_public_holidays_of_the_country_are_not_worked(country: str) -> None:
    schedule = Schedule(office_calendar(f"Office {country}", country=country))
    weekday_holidays = [d for d in holidays.country_holidays(country, years=2026) if d.weekday() < 5]
    assert weekday_holidays
    for day in weekday_holidays:
        start = datetime.combine(day, time(0), tzinfo=schedule.zone)
        assert schedule.seconds_between(start, start + timedelta(days=1)) == 0, day
    # The working day after a holiday is a normal one.
    after = next(d for d in (weekday_holidays[0] + timedelta(days=n) for n in range(1, 10))
                 if d.weekday() < 5 and d not in weekday_holidays)
    start = datetime.combine(after, time(0), tzinfo=schedule.zone)
    assert schedule.seconds_between(start, start + timedelta(days=1)) == 9 * HOUR


def test_national_day_week_is_skipped() -> None:
    """Reported the evening before China's National Day week: the hour is due when work resumes."""
    schedule = Schedule(office_calendar("Office CN", country="CN"))
    first_workday = next(date(2026, 10, 1) + timedelta(days=n) for n in range(20)
                         if (date(2026, 10, 1) + timedelta(days=n)).weekday() < 5
                         and date(2026, 10, 1) + timedelta(days=n) not in holidays.CN(years=2026))
    assert first_workday > date(2026, 10, 5)
    assert schedule.add(at("2026-09-30 16:30"), HOUR) == at(f"{first_workday} 08:30")


def test_make_up_workdays_and_extra_days_off() -> None:
    """The Spring Festival 2026: 16–20 and 23 February off, Saturdays 14 and 28 February worked (調休)."""
    schedule = Schedule(split_cn_calendar())
    plain = Schedule(office_calendar("Office CN", country="CN"))
    friday = at("2026-02-13 17:30")
    # Without make-up days the hour waits until Tuesday 24 February; with them it is done on the Saturday.
    assert plain.add(at("2026-02-13 16:30"), HOUR) == at("2026-02-24 08:30")
    assert schedule.add(friday, HOUR) == at("2026-02-14 09:30")
    # 14 February works the Monday pattern (7.5 h), 28 February its own hours (3 h), not its Saturday ones.
    assert schedule.seconds_between(at("2026-02-14 00:00"), at("2026-02-15 00:00")) == 7.5 * HOUR
    assert schedule.seconds_between(at("2026-02-28 00:00"), at("2026-03-01 00:00")) == 3 * HOUR
    assert schedule.seconds_between(at("2026-02-15 00:00"), at("2026-02-24 00:00")) == 3 * HOUR  # Sat 21st
    # The extra day off (a Friday) counts nothing.
    assert schedule.seconds_between(at("2026-06-12 00:00"), at("2026-06-13 00:00")) == 0
    assert schedule.add(at("2026-06-11 17:30"), HOUR) == at("2026-06-13 10:00")


# --- Daylight saving time -------------------------------------------------------------------------------------


def test_a_night_shift_across_both_daylight_saving_changes() -> None:
    """New York changes on 8 March (02:00 → 03:00) and 1 November 2026 (02:00 → 01:00): the 00:30–03:30
    shift lasts 2 hours and 4 hours those nights, 3 hours on others."""
    schedule = Schedule(night_calendar("America/New_York"))

    def night(day: str) -> int:
        start = datetime.fromisoformat(f"{day}T00:00").replace(tzinfo=NEW_YORK)
        return schedule.seconds_between(start, datetime.fromisoformat(f"{day}T12:00").replace(tzinfo=NEW_YORK))

    assert night("2026-03-07") == 3 * HOUR
    assert night("2026-03-08") == 2 * HOUR
    assert night("2026-11-01") == 4 * HOUR
    assert night("2026-11-02") == 3 * HOUR
    start = datetime(2026, 3, 8, 0, 30, tzinfo=NEW_YORK)
    assert schedule.add(start, 2 * HOUR) == datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK)
    assert schedule.add(start, 2 * HOUR + 1) == datetime(2026, 3, 9, 0, 30, 1, tzinfo=NEW_YORK)


def test_london_office_hours_are_local_hours_on_both_sides_of_the_change() -> None:
    """Office hours follow the wall clock: 08:00 London is 08:00 UTC in winter and 07:00 UTC in summer."""
    schedule = Schedule(office_calendar("London", zone="Europe/London"))
    before = datetime(2026, 3, 27, 16, 30, tzinfo=LONDON)  # Friday before the change of 29 March
    assert schedule.add(before, HOUR) == datetime(2026, 3, 30, 8, 30, tzinfo=LONDON)
    assert schedule.add(before, HOUR).astimezone(ZoneInfo("UTC")).hour == 7
    autumn = datetime(2026, 10, 23, 16, 30, tzinfo=LONDON)  # Friday before the change of 25 October
    assert schedule.add(autumn, HOUR).astimezone(ZoneInfo("UTC")) == datetime(2026, 10, 26, 8, 30,
                                                                                  tzinfo=ZoneInfo("UTC"))
    assert schedule.seconds_between(datetime(2026, 3, 23, tzinfo=LONDON), datetime(2026, 4, 6, tzinfo=LONDON)) \
        == 10 * 9 * HOUR


def test_round_the_clock_days_last_23_and_25_hours_on_the_change_days() -> None:
    schedule = Schedule(round_the_clock("Europe/London"))
    assert schedule.seconds_between(datetime(2026, 3, 29, tzinfo=LONDON), datetime(2026, 3, 30, tzinfo=LONDON)) \
        == 23 * HOUR
    assert schedule.seconds_between(datetime(2026, 10, 25, tzinfo=LONDON),
                                    datetime(2026, 10, 26, tzinfo=LONDON)) == 25 * HOUR
    assert schedule.add(at("2026-11-27 16:30"), HOUR) == at("2026-11-27 17:30")


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Schedule(office_calendar()).seconds_between(datetime(2026, 1, 1), datetime(2026, 1, 2))


@pytest.mark.django_db
def test_the_shipped_calendars_are_named_in_the_readers_language() -> None:
    from django.utils import translation

    from sla.models import BusinessCalendar

    office = BusinessCalendar.objects.get(name="Office hours Mon–Fri 08:00–17:00")
    own = BusinessCalendar.objects.create(name="機房值班 7×24", is_24x7=True)
    with translation.override("zh-hant"):
        assert str(office) == "辦公時間（週一至週五 08:00–17:00）" and str(own) == "機房值班 7×24"
    with translation.override("en"):
        assert str(office) == "Office hours Mon–Fri 08:00–17:00"
