"""Calendar feeds of duty: a person's shifts and a team's, as published, read by a calendar program with the
person's secret key; a revoked key or a team the person is not in reads nothing."""

from datetime import date, timedelta
from typing import Any

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from duty.tests.factories import DutyCrew, RosterFactory, duty_crew
from opscenter.core import roles
from opscenter.core.models import FeedToken, User
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PAGE = "/duty/calendar/"
PAGE_QUERIES = 6
FEED_QUERIES = 2
TEAM_FEED_QUERIES = 5


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def mine(key: str) -> str:
    return f"/duty/calendar/{key}.ics"


def of_team(key: str, team_id: int) -> str:
    return f"/duty/calendar/{key}/teams/{team_id}.ics"


def events(response: Any) -> dict[str, icalendar.Event]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def crew() -> DutyCrew:
    return duty_crew()


@pytest.fixture
def shifts(crew: DutyCrew) -> dict[str, Any]:
    """A published roster of the coming month with two shifts of the first engineer and one of the second, and a
    draft roster's shift of the first engineer."""
    today = date.today()
    published = crew.published_roster(today, today + timedelta(days=30))
    draft = RosterFactory(team=crew.team, first_day=today + timedelta(days=31), last_day=today + timedelta(days=60),
                          created_by=crew.supervisor)
    start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    first, second = crew.engineers[0], crew.engineers[1]
    return {
        "day": crew.shift(published, first, start, shift_type=crew.day),
        "night": crew.shift(published, first, start + timedelta(hours=36), shift_type=crew.night),
        "colleague": crew.shift(published, second, start + timedelta(hours=12), shift_type=crew.night),
        "draft": crew.shift(draft, first, start + timedelta(days=32), shift_type=crew.day),
    }


def test_my_feed_holds_my_published_shifts_in_utc_with_stable_uids(crew: DutyCrew, shifts: dict[str, Any]) -> None:
    engineer = crew.engineers[0]
    key = FeedToken.for_user(engineer).key
    found = events(Client().get(mine(key)))  # a calendar program has no session
    assert set(found) == {f"duty-shift-{shifts[name].pk}@testserver" for name in ("day", "night")}
    for name in ("day", "night"):
        shift, event = shifts[name], found[f"duty-shift-{shifts[name].pk}@testserver"]
        assert event.decoded("dtstart") == shift.start and event.decoded("dtend") == shift.end
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert event["dtstart"].to_ical().endswith(b"Z")  # written in UTC
        assert str(event["summary"]) == f"Duty: {crew.team} · {shift.shift_type.name}"
    assert set(events(Client().get(mine(key)))) == set(found)  # the same UIDs on the next reading


def test_a_team_feed_names_who_is_on_each_shift(crew: DutyCrew, shifts: dict[str, Any]) -> None:
    member = crew.engineers[2]  # a member with no shift of their own reads the team's
    found = events(Client().get(of_team(FeedToken.for_user(member).key, crew.team.pk)))
    assert set(found) == {f"duty-shift-{shifts[name].pk}@testserver" for name in ("day", "night", "colleague")}
    colleague = found[f"duty-shift-{shifts['colleague'].pk}@testserver"]
    assert str(colleague["summary"]) == f"{crew.engineers[1]} · System engineer (Night)"
    assert colleague.decoded("dtend") == shifts["colleague"].end
    supervisor = UserFactory(roles=[roles.SUPERVISOR])  # in no team: reads every team's
    assert len(events(Client().get(of_team(FeedToken.for_user(supervisor).key, crew.team.pk)))) == 3


def test_a_team_feed_is_not_found_for_outsiders_and_unknown_teams(crew: DutyCrew, shifts: dict[str, Any]) -> None:
    outsider = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    assert Client().get(of_team(FeedToken.for_user(outsider).key, crew.team.pk)).status_code == 404
    key = FeedToken.for_user(crew.engineers[0]).key
    assert Client().get(of_team(key, 999_999)).status_code == 404
    assert Client().get(of_team("wrong-key", crew.team.pk)).status_code == 404


def test_a_revoked_key_reads_nothing(crew: DutyCrew, shifts: dict[str, Any]) -> None:
    engineer = crew.engineers[0]
    client = signed_in(engineer)
    client.get(PAGE)
    old = FeedToken.objects.get(user=engineer).key
    response = client.post("/feeds/regenerate/", {"next": PAGE + "#feed"}, follow=True)
    new = FeedToken.objects.get(user=engineer).key
    assert new != old and mine(new) in response.content.decode()
    assert "Your calendar feeds have a new address" in response.content.decode()
    assert Client().get(mine(old)).status_code == 404
    assert Client().get(of_team(old, crew.team.pk)).status_code == 404
    assert Client().get(mine(new)).status_code == 200
    assert client.post("/feeds/regenerate/", {"next": "https://elsewhere.example/"})["Location"] == "/#feed"
    User.objects.filter(pk=engineer.pk).update(is_active=False)
    assert Client().get(mine(FeedToken.objects.get(user=engineer).key)).status_code == 404


def test_the_page_lists_my_coming_shifts_and_my_feeds(crew: DutyCrew, shifts: dict[str, Any]) -> None:
    engineer = crew.engineers[0]
    body = signed_in(engineer).get(PAGE).content.decode()
    key = FeedToken.objects.get(user=engineer).key
    assert f"http://testserver{mine(key)}" in body and f"http://testserver{of_team(key, crew.team.pk)}" in body
    assert timezone.localtime(shifts["day"].start).strftime("%Y-%m-%d %H:%M") in body
    assert body.count("<tr>") == 1 + 2  # the heading and my two published shifts
    assert signed_in(UserFactory(roles=[roles.DEPARTMENT_USER])).get(PAGE).status_code == 403
    assert Client().get(PAGE).status_code == 302


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_shifts(crew: DutyCrew, shifts: dict[str, Any]) -> None:
    engineer = crew.engineers[0]
    client = signed_in(engineer)
    client.get(PAGE)
    key = FeedToken.objects.get(user=engineer).key
    counts = (_count(client, PAGE), _count(Client(), mine(key)), _count(Client(), of_team(key, crew.team.pk)))
    roster = shifts["day"].roster
    for n in range(5):
        crew.shift(roster, engineer, shifts["night"].end + timedelta(days=n + 1), shift_type=crew.day)
    assert (_count(client, PAGE), _count(Client(), mine(key)), _count(Client(), of_team(key, crew.team.pk))) == counts
    assert counts == (PAGE_QUERIES, FEED_QUERIES, TEAM_FEED_QUERIES)
