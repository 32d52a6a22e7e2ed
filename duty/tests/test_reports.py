"""The duty report: hours on duty per person and month split into day, night, weekend and holiday hours by the
policy's wall clock and public holidays, lateness, absences and approved swaps; the page and CSV for supervisors and
auditors."""

import csv
import io
import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from duty.choices import SwapState
from duty.models import SwapRequest
from duty.reports import HourRules, duty_report
from duty.tests.factories import DutyCrew, RosterFactory, ShiftFactory, duty_crew, policy
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PAGE = "/duty/reports/"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
PAGE_QUERIES = 6


def at(day: date, hour: int, zone: Any = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


class October:
    """October 2026 in Asia/Shanghai with China's public holidays (National Day 1–7 October, Saturday 10 October a
    make-up workday). The first engineer works a holiday, a Friday day (late 15 minutes) and night into the make-up
    Saturday, a Saturday, and the last night of the month; the second is absent one day, works another, and gave
    the first a shift by an approved swap (a rejected one does not count)."""

    def __init__(self) -> None:
        policy(time_zone="Asia/Shanghai", holiday_country="CN", reminder_leads_minutes=[])
        self.crew: DutyCrew = duty_crew()
        self.first, self.second = self.crew.engineers[0], self.crew.engineers[1]
        roster = self.crew.published_roster(date(2026, 10, 1), date(2026, 10, 31))
        draft = RosterFactory(team=self.crew.team, first_day=date(2026, 11, 1), last_day=date(2026, 11, 30),
                              created_by=self.crew.supervisor)

        def shift(user: User, day: date, hour: int, **fields: Any) -> Any:
            return self.crew.shift(roster if day.month == 10 else draft, user, at(day, hour), **fields)

        shift(self.first, date(2026, 10, 1), 8)  # 國慶日: 12 holiday hours
        shift(self.first, date(2026, 10, 9), 8, late_minutes=15)  # Friday: 12 day hours
        shift(self.first, date(2026, 10, 9), 20)  # Friday night into the make-up Saturday: 12 night hours
        shift(self.first, date(2026, 10, 17), 8)  # Saturday: 12 weekend hours
        shift(self.first, date(2026, 10, 31), 20)  # Saturday night: 4 weekend hours in October, 8 in November
        self.absent = shift(self.second, date(2026, 10, 12), 8, attendance="absent")
        shift(self.second, date(2026, 10, 13), 8)
        shift(self.first, date(2026, 11, 2), 8)  # a draft roster's shift: not counted
        decided = at(date(2026, 10, 11), 9)
        for state in (SwapState.APPROVED, SwapState.REJECTED):
            SwapRequest.objects.create(requester=self.second, colleague=self.first, shift=self.absent,
                                       reason="家中有事", state=state, created_by=self.second,
                                       expires_at=self.absent.start, decided_by=self.crew.supervisor,
                                       decided_at=decided)


@pytest.fixture
def october() -> October:
    return October()


def test_a_known_month_with_holidays_and_a_make_up_workday(october: October) -> None:
    rows = {row.user: row for row in duty_report(date(2026, 10, 1))}
    assert set(rows) == {october.first, october.second}
    first, second = rows[october.first], rows[october.second]
    assert (first.day, first.night, first.weekend, first.holiday, first.total) == (12, 12, 16, 12, 52)
    assert (first.shifts, first.late, first.late_minutes, first.absences) == (5, 1, 15, 0)
    assert (first.swaps_given, first.swaps_taken) == (0, 1)
    assert (second.day, second.total, second.shifts, second.absences) == (12, 12, 1, 1)
    assert (second.swaps_given, second.swaps_taken) == (1, 0)
    [november] = duty_report(date(2026, 11, 1))
    assert (november.user, november.weekend, november.total, november.shifts) == (october.first, 8, 8, 0)


def test_a_month_with_the_change_to_summer_time(db: Any) -> None:
    """Europe/Berlin, March 2026: clocks go from 02:00 to 03:00 on Sunday 29 March; a night from Saturday 20:00 to
    Sunday 08:00 is 11 hours."""
    policy(time_zone="Europe/Berlin", holiday_country="")
    crew = duty_crew()
    roster = crew.published_roster(date(2026, 3, 1), date(2026, 3, 31))
    engineer = crew.engineers[0]
    for day, start, end in ((date(2026, 3, 26), 20, 8), (date(2026, 3, 28), 20, 8), (date(2026, 3, 30), 8, 20)):
        ShiftFactory(roster=roster, team=crew.team, user=engineer, start=at(day, start, BERLIN),
                     end=at(day + timedelta(days=1 if end < start else 0), end, BERLIN))
    [row] = duty_report(date(2026, 3, 1))
    assert (row.night, row.weekend, row.day, row.total) == (12, 11, 12, 35)


def test_night_bounds_come_from_the_policy() -> None:
    rules = HourRules(SHANGHAI, night_starts=time(22, 0), night_ends=time(6, 0))
    seconds = rules.split(at(date(2026, 11, 4), 18), at(date(2026, 11, 5), 8))  # Wednesday to Thursday
    assert {kind: value / 3600 for kind, value in seconds.items()} == {"day": 6, "night": 8, "weekend": 0,
                                                                        "holiday": 0}
    daytime = HourRules(SHANGHAI, night_starts=time(1, 0), night_ends=time(5, 0))  # a night not across midnight
    assert daytime.split(at(date(2026, 11, 4), 0), at(date(2026, 11, 4), 6))["night"] == 4 * 3600


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_supervisors_and_auditors_read_the_page_and_its_csv(october: October) -> None:
    october.first.display_name = "林系統"
    october.first.save()
    auditor = UserFactory(roles=[roles.AUDITOR])
    for reader in (october.crew.supervisor, auditor):
        response = signed_in(reader).get(PAGE, {"month": "2026-10", "team": october.crew.team.pk})
        body = response.content.decode()
        assert response.status_code == 200 and "<td>林系統</td>" in body and "52.0" in body  # named as elsewhere
    response = signed_in(auditor).get(PAGE, {"month": "2026-10", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    first = next(row for row in rows if row["username"] == october.first.username)
    assert first["person"] == "林系統"
    assert (first["hours_total"], first["hours_weekend"], first["late_minutes"], first["swaps_taken"]) == (
        "52.0", "16.0", "15", "1")
    for other in (october.first, UserFactory(roles=[roles.DEPARTMENT_USER])):
        assert signed_in(other).get(PAGE).status_code == 403


@pytest.mark.parametrize("query", [{"month": "2026-13"}, {"month": "October"}, {"month": "1999-01"},
                                   {"team": "999999"}, {"team": "x"}])
def test_a_bad_month_or_team_is_refused_with_a_reason(october: October, query: dict[str, str]) -> None:
    response = signed_in(october.crew.supervisor).get(PAGE, query)
    assert response.status_code == 400 and "invalid-feedback" in response.content.decode()
    assert signed_in(october.crew.supervisor).get(PAGE, {**query, "format": "csv"}).status_code == 400


def test_the_page_reads_in_queries_that_do_not_grow_with_people(october: October) -> None:
    client = signed_in(october.crew.supervisor)
    params = {"month": "2026-10"}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE, params).status_code == 200
        return len(queries)

    count()  # warm the cache (the duty policy, the session)
    before = count()
    roster = october.absent.roster
    for n in range(4):
        person = UserFactory(roles=[roles.SYSTEM_ENGINEER])
        october.crew.shift(roster, person, at(date(2026, 10, 20 + n), 8))
        SwapRequest.objects.create(requester=person, colleague=october.first, shift=october.absent, reason="—",
                                   state=SwapState.APPROVED, created_by=person, expires_at=october.absent.start,
                                   decided_at=at(date(2026, 10, 15), 9))
    assert count() == before == PAGE_QUERIES
