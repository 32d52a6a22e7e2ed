"""A day of duty for the attendance, log and handover tests: one team's published roster with three engineers
taking turns on twelve-hour shifts (night before, day, night), at fixed instants of the policy's zone."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duty.choices import LogKind
from duty.log import log_entry_record
from duty.models import Roster, Shift
from duty.tests.factories import DutyCrew, duty_crew
from incidents.choices import State as IncidentState
from incidents.tests.factories import incident_row
from incidents.tests.factories import make_crew as incident_crew
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


def duty_day(code: str = "sys", *, night: bool = True, start: datetime = DAY_START) -> DutyDay:
    """The day's shifts, the day shift from `start` (without the night after when `night` is False: the day shift
    is then the roster's last)."""
    crew = duty_crew(code)
    first = start.date().replace(day=1)
    roster = crew.published_roster(first - timedelta(days=1), first + timedelta(days=40))
    one, two, three = crew.engineers
    night_before = crew.shift(roster, three, start - timedelta(hours=12), shift_type=crew.night)
    day = crew.shift(roster, one, start, shift_type=crew.day)
    after = crew.shift(roster, two, start + timedelta(hours=12), shift_type=crew.night) if night else None
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


def more_log(d: DutyDay, n: int, start: int = 0) -> None:
    """`n` more entries in the day shift's log, each linking an incident of the team."""
    people = incident_crew(team=d.crew.team)
    for k in range(start, start + n):
        incident = incident_row(IncidentState.HANDLING, crew=people)
        with at(DAY_START + timedelta(minutes=60 + k)):
            log_entry_record(user=d.outgoing, kind=LogKind.CALL, text=f"call {k}", incidents=[incident])


def count(client: Any, url: str, params: dict | None = None) -> int:
    """How many queries a page or an endpoint took (it answered 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries)
