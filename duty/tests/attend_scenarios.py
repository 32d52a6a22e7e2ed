"""A day of duty for the attendance, log and handover tests: one team's published roster with three engineers
taking turns on twelve-hour shifts (night before, day, night), at fixed instants of the policy's zone."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from duty.models import Roster, Shift
from duty.tests.factories import DutyCrew, duty_crew
from opscenter.core.models import Notification, User

ZONE = ZoneInfo("Asia/Shanghai")  # the policy's zone in the tests (the site's, as the migration makes it)
DAY_START = datetime(2026, 3, 10, 8, 0, tzinfo=ZONE)


@dataclass
class DutyDay:
    """The night before (engineer 3), the day shift (engineer 1) and the night after (engineer 2)."""

    crew: DutyCrew
    roster: Roster
    night_before: Shift
    day: Shift
    night: Shift

    @property
    def before(self) -> User:
        return self.night_before.user

    @property
    def outgoing(self) -> User:
        return self.day.user

    @property
    def incoming(self) -> User:
        return self.night.user


def duty_day(code: str = "sys", *, night: bool = True) -> DutyDay:
    """The day's shifts (without the night after when `night` is False: the day shift is then the roster's last)."""
    crew = duty_crew(code)
    roster = crew.published_roster(date(2026, 3, 1), date(2026, 3, 31))
    one, two, three = crew.engineers
    night_before = crew.shift(roster, three, DAY_START - timedelta(hours=12), shift_type=crew.night)
    day = crew.shift(roster, one, DAY_START, shift_type=crew.day)
    after = crew.shift(roster, two, DAY_START + timedelta(hours=12), shift_type=crew.night) if night else None
    return DutyDay(crew, roster, night_before, day, after)


def at(moment: datetime) -> time_machine.travel:
    """The clock stopped at `moment` (a context manager)."""
    return time_machine.travel(moment, tick=False)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def notified(event: str) -> list[tuple[str, str]]:
    """(recipient username, channel) of the outbox rows of one kind, in order."""
    return [(n.recipient.username, n.channel) for n in Notification.objects.filter(event=event)
            .select_related("recipient").order_by("pk") if n.recipient_id]


def recipients(event: str) -> set[str]:
    return {username for username, _channel in notified(event)}
