"""Factories of service levels: calendars, agreements with targets, and incidents under an agreement."""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from incidents.tests.factories import make_crew
from opscenter.core.models import Department
from sla.models import Agreement, BusinessCalendar, PriorityTarget, Threshold, WorkingInterval

ZONE = ZoneInfo("Asia/Shanghai")


def at(text: str, zone: ZoneInfo = ZONE) -> datetime:
    """An aware instant from 'YYYY-MM-DD HH:MM' in the calendar's zone."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone)


def office_calendar(name: str = "Office 08–17", *, zone: str = "Asia/Shanghai", country: str = "",
                    hours: list[tuple[int, int]] | None = None, weekdays: range = range(5)) -> BusinessCalendar:
    """Monday–Friday 08:00–17:00 (or the given hours) in a time zone, without public holidays by default."""
    calendar = BusinessCalendar.objects.create(name=name, time_zone=zone, holiday_country=country)
    for weekday in weekdays:
        for start, end in hours or [(8, 17)]:
            WorkingInterval.objects.create(calendar=calendar, weekday=weekday, start=time(start), end=time(end % 24))
    return calendar


def agreement(department: Department, calendar: BusinessCalendar, *,
              targets: dict[str, tuple[int, int]] | None = None, thresholds: tuple[int, ...] = (50, 75, 90),
              **fields: Any) -> Agreement:
    """An agreement valid from 2020 with response/resolution minutes per priority and warning thresholds."""
    agreement = Agreement.objects.create(department=department, name=fields.pop("name", "IT services"),
                                         valid_from=fields.pop("valid_from", date(2020, 1, 1)), calendar=calendar,
                                         **fields)
    for priority, (response, resolution) in (targets or {"P1": (15, 240), "P2": (30, 480), "P3": (60, 960),
                                                          "P4": (120, 2400)}).items():
        PriorityTarget.objects.create(agreement=agreement, priority=priority, response_minutes=response,
                                      resolution_minutes=resolution)
    for percent in (*thresholds, 100):
        Threshold.objects.create(agreement=agreement, percent=percent, notify_supervisors=percent == 100)
    return agreement


__all__ = ["agreement", "at", "make_crew", "office_calendar"]
