"""The change calendar: month and week views of changes and freeze windows, the service filter, conflicts
marked, the personal iCal feed (wrong key 404, regenerating revokes the old key) and pinned query counts."""

from datetime import timedelta

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from changes.choices import State
from changes.models import FreezeWindow
from changes.tests.factories import change_in_state, draft_change, local_hour_in, make_crew
from opscenter.core import roles
from opscenter.core.models import FeedToken, User
from opscenter.core.testing.pages import html, signed_in
from opscenter.core.tests.factories import DepartmentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

CALENDAR = "/changes/calendar/"


def feed_url(key: str) -> str:
    return f"/changes/calendar/feed/{key}.ics"


@pytest.fixture
def crew():  # noqa: ANN201
    return make_crew()


def _day(change) -> str:  # noqa: ANN001
    return timezone.localtime(change.planned_start).date().isoformat()


def test_month_and_week_show_changes_freezes_and_conflicts(crew) -> None:  # noqa: ANN001
    first = change_in_state(State.SCHEDULED, crew, start_in=local_hour_in(5))
    second = change_in_state(State.APPROVED, crew, title="Also on the same service", start_in=local_hour_in(5))
    draft = draft_change(crew, title="Only a draft", start_in=local_hour_in(5))
    start = first.planned_start - timedelta(hours=1)
    freeze = FreezeWindow.objects.create(name="Quarter close <b>freeze</b>", starts_at=start,
                                         ends_at=start + timedelta(hours=3))
    client = signed_in(crew.engineer)
    for view in ("month", "week"):
        response = client.get(CALENDAR, {"view": view, "date": _day(first)})
        body = html(response)
        assert response.status_code == 200
        assert first.number in body and second.number in body and draft.number not in body
        assert "Quarter close &lt;b&gt;freeze&lt;/b&gt;" in body and "<b>freeze</b>" not in body
        assert body.count("cal-item cal-conflict") == 2 and "2 changes in conflict" in body
        rows = response.context["rows"]
        assert {r.change.pk: [o.pk for o, _r in r.conflicts] for r in rows} == {
            first.pk: [second.pk], second.pk: [first.pk]}
    week = signed_in(crew.engineer).get(CALENDAR, {"view": "week", "date": _day(first)})
    assert len(week.context["weeks"]) == 1 and len(week.context["weeks"][0]) == 7
    month = signed_in(crew.engineer).get(CALENDAR, {"view": "month", "date": _day(first)})
    assert len(month.context["weeks"]) >= 4 and freeze in month.context["freezes"]


def test_service_filter(crew) -> None:  # noqa: ANN001
    mine = change_in_state(State.SCHEDULED, crew, start_in=timedelta(days=5))
    other_service = ServiceFactory()
    other = change_in_state(State.APPROVED, crew, services=[other_service], implementer=crew.engineer,
                            start_in=timedelta(days=5))
    start = mine.planned_start - timedelta(days=1)
    FreezeWindow.objects.create(name="Global freeze", starts_at=start, ends_at=start + timedelta(hours=2))
    elsewhere = FreezeWindow.objects.create(name="Other service freeze", starts_at=start,
                                            ends_at=start + timedelta(hours=2))
    elsewhere.services.add(other_service)
    body = html(signed_in(crew.engineer).get(CALENDAR, {"date": _day(mine), "service": crew.service.pk}))
    assert mine.number in body and other.number not in body
    assert "Global freeze" in body and "Other service freeze" not in body
    body = html(signed_in(crew.engineer).get(CALENDAR, {"date": _day(mine), "service": other_service.pk}))
    assert other.number in body and mine.number not in body and "Other service freeze" in body
    body = html(signed_in(crew.engineer).get(CALENDAR, {"date": "not-a-date", "service": "x", "view": "y"}))
    assert "Change calendar" in body


def test_calendar_in_traditional_chinese(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.SCHEDULED, crew, start_in=timedelta(days=5))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hant")
    client.force_login(crew.engineer)
    response = client.get(CALENDAR, {"date": _day(change)})
    assert response.status_code == 200 and change.number in html(response)
    assert 'lang="zh-Hant"' in html(response)


def test_department_user_sees_only_their_changes_on_the_calendar(crew) -> None:  # noqa: ANN001
    finance = DepartmentFactory()
    theirs = change_in_state(State.SCHEDULED, crew, services=[ServiceFactory(owner_department=finance)],
                             start_in=timedelta(days=5))
    hidden = change_in_state(State.APPROVED, crew, implementer=crew.engineer, start_in=timedelta(days=5))
    user = UserFactory(roles=[roles.DEPARTMENT_USER], department=finance)
    body = html(signed_in(user).get(CALENDAR, {"date": _day(theirs)}))
    assert theirs.number in body and hidden.number not in body
    ics = Client().get(feed_url(FeedToken.for_user(user).key)).content.decode()
    assert theirs.number in ics and hidden.number not in ics


def test_ical_feed(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.SCHEDULED, crew, start_in=timedelta(days=5))
    other = change_in_state(State.APPROVED, crew, title="Clashing", start_in=timedelta(days=5))
    freeze = FreezeWindow.objects.create(name="Year-end freeze", starts_at=change.planned_start + timedelta(days=2),
                                         ends_at=change.planned_start + timedelta(days=4))
    page = html(signed_in(crew.engineer).get(CALENDAR))
    key = FeedToken.objects.get(user=crew.engineer).key
    assert feed_url(key) in page
    response = Client().get(feed_url(key))  # a calendar client has no session
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert f"{change.number} {change.title}" in events and f"{other.number} Clashing" in events
    event = events[f"{change.number} {change.title}"]
    assert abs(event.decoded("dtstart") - change.planned_start) < timedelta(seconds=1)
    assert other.number in str(event["description"])  # the conflict is named
    assert "Freeze: Year-end freeze" in events
    assert abs(events["Freeze: Year-end freeze"].decoded("dtend") - freeze.ends_at) < timedelta(seconds=1)
    assert Client().get(feed_url("wrong-key")).status_code == 404


def test_regenerating_the_feed_revokes_the_old_key(crew) -> None:  # noqa: ANN001
    client = signed_in(crew.engineer)
    client.get(CALENDAR)
    old = FeedToken.objects.get(user=crew.engineer).key
    response = client.post("/changes/calendar/feed/regenerate/", follow=True)
    new = FeedToken.objects.get(user=crew.engineer).key
    assert new != old and feed_url(new) in html(response)
    assert Client().get(feed_url(old)).status_code == 404
    assert Client().get(feed_url(new)).status_code == 200
    assert client.get("/changes/calendar/feed/regenerate/").status_code == 405


def test_inactive_users_feed_is_gone(crew) -> None:  # noqa: ANN001
    key = FeedToken.for_user(crew.engineer).key
    User.objects.filter(pk=crew.engineer.pk).update(is_active=False)
    assert Client().get(feed_url(key)).status_code == 404


def _count(client: Client, url: str, params: dict) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_calendar_and_feed_query_counts_do_not_grow(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    first = change_in_state(State.SCHEDULED, crew, start_in=timedelta(days=5))
    FreezeWindow.objects.create(name="First freeze", starts_at=first.planned_start - timedelta(days=1),
                                ends_at=first.planned_start - timedelta(hours=20))
    client = signed_in(crew.engineer)
    params = {"date": _day(first)}
    client.get(CALENDAR, params)
    key = FeedToken.objects.get(user=crew.engineer).key
    few, few_feed = _count(client, CALENDAR, params), _count(Client(), feed_url(key), {})
    for n in range(4):
        change_in_state(State.APPROVED, crew, title=f"More {n}", start_in=timedelta(days=5, hours=n))
        FreezeWindow.objects.create(name=f"Freeze {n}", starts_at=first.planned_start + timedelta(days=n),
                                    ends_at=first.planned_start + timedelta(days=n, hours=2))
    assert _count(client, CALENDAR, params) == few
    assert _count(Client(), feed_url(key), {}) == few_feed
    with django_assert_num_queries(CALENDAR_QUERIES):
        client.get(CALENDAR, params)
    with django_assert_num_queries(FEED_QUERIES):
        Client().get(feed_url(key))


# the user (the session comes from the cache), roles, changes, their services, their CIs, freezes, their services,
# the feed token, the unread count, the service choices (the CIs' services when a change names CIs)
CALENDAR_QUERIES = 10
# the token with its user, roles, changes, services, CIs, freezes, their services
FEED_QUERIES = 7
