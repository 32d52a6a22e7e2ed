"""The roster pages as people use them: the list with who is on duty, generating, the month grid with its
findings and actions, single edits and their refusals, the CSV, and the home panel — per role, with pinned
query counts that do not grow with rows."""

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from duty import rosters
from duty.choices import RosterState
from duty.models import Roster, Shift
from duty.tests.factories import duty_crew, four_engineers, policy, rotation_of
from opscenter.core import roles
from opscenter.core.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

TAIPEI = ZoneInfo("Asia/Taipei")
LIST = "/duty/rosters/"
NEW = "/duty/rosters/new/"
LIST_QUERIES = 13
GRID_QUERIES = 13  # the timeline among them: one query (the core_timeline view)


def signed_in(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def page_messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def crew():  # noqa: ANN201
    """A crew in Taipei with a rotation of four engineers; `today` in Taipei."""
    policy(time_zone="Asia/Taipei")
    crew = duty_crew()
    crew.today = timezone.localdate(timezone=TAIPEI)
    crew.rotation = rotation_of(crew, four_engineers(crew), starts_on=crew.today)
    return crew


def generate(crew: Any, first: Any, days: int = 4) -> Roster:
    return rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=first,
                                   last_day=first + timedelta(days=days - 1))


def grid_url(roster: Roster, month: str = "") -> str:
    return f"/duty/rosters/{roster.pk}/" + (f"?month={month}" if month else "")


# --- Who reads what -----------------------------------------------------------------------------------------


def test_department_users_are_refused_every_roster_page_but_see_who_is_on_duty(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today)
    shift = roster.shifts.first()
    client = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory()))
    for path in (LIST, NEW, grid_url(roster), f"/duty/rosters/{roster.pk}/roster.csv",
                 f"/duty/shifts/{shift.pk}/edit/"):
        assert client.get(path).status_code == 403, path
    home = client.get("/")
    assert home.status_code == 200 and 'id="panel-on-duty"' in html(home)  # whom to call: everyone's home page
    assert crew.team.name in html(home)
    assert "/duty/rosters/" not in html(home)  # no link to the rosters, no navigation entry
    assert Client().get(LIST).status_code == 302  # signed out: to the sign-in page


def test_engineers_read_rosters_without_editing_them(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today)
    client = signed_in(crew.engineers[0])
    page = client.get(grid_url(roster))
    assert page.status_code == 200
    assert 'id="shift-add"' not in html(page) and "/duty/shifts/" not in html(page)
    assert 'id="roster-generate"' not in html(client.get(LIST))
    assert client.get(NEW).status_code == 403
    assert client.get(f"/duty/shifts/{roster.shifts.first().pk}/edit/").status_code == 403
    response = client.post(f"/duty/rosters/{roster.pk}/transitions/publish/", {"publish-confirm": "on"})
    assert response.status_code == 403
    assert Roster.objects.get(pk=roster.pk).state == RosterState.DRAFT


# --- The month grid -----------------------------------------------------------------------------------------


def test_the_grid_shows_people_by_day_with_shift_codes_and_today_marked(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today - timedelta(days=1), days=3)
    response = signed_in(crew.supervisor).get(grid_url(roster))
    assert response.status_code == 200
    page = html(response)
    assert page.count('aria-current="date"') == 1
    assert f'data-date="{crew.today:%Y-%m-%d}"' in page
    rows = response.context["rows"]
    assert [str(r.person) for r in rows] == sorted(str(e) for e in [*crew.engineers, rows[-1].person])
    first = rows[[str(r.person) for r in rows].index(str(crew.engineers[0]))]
    # The first engineer (offset 0) starts the pattern today: off yesterday, the day today, the night tomorrow.
    assert [[c.label for c in cell.chips] for cell in first.cells] == [[], ["day"], ["night"]]
    assert 'class="rg-chip shift-band-night rg-chip-long"' in page and 'class="rg-chip shift-band-day"' in page
    assert f'href="/duty/shifts/{first.cells[1].chips[0].shift.pk}/edit/"' in page
    assert 'id="no-findings"' in page  # the pattern runs back before its first day too


def test_a_roster_over_two_months_is_shown_a_month_at_a_time(crew) -> None:  # noqa: ANN001
    first = (crew.today.replace(day=1) + timedelta(days=40)).replace(day=25)
    roster = generate(crew, first, days=14)
    client = signed_in(crew.engineers[0])
    default = client.get(grid_url(roster))
    assert default.context["month"] == first.replace(day=1)
    assert default.context["days"][0].date == first and default.context["days"][-1].date.month == first.month
    following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    later = client.get(grid_url(roster, f"{following:%Y-%m}"))
    assert later.context["days"][0].date == following
    assert later.context["days"][-1].date == roster.last_day


def test_findings_block_publishing_until_accepted_with_a_note(crew) -> None:  # noqa: ANN001
    crew.rotation.members.filter(position=3).delete()
    roster = generate(crew, crew.today + timedelta(days=5))
    client = signed_in(crew.supervisor)
    page = client.get(grid_url(roster))
    assert page.content.decode().count('class="list-group-item py-2 finding finding-gap"') == 2
    actions = {a.transition.name: a for a in page.context["actions"]}
    assert actions["publish"].form is None and "resolve them or accept them" in actions["publish"].transition.reason
    refused = client.post(f"/duty/rosters/{roster.pk}/transitions/publish/", {"publish-confirm": "on"})
    assert refused.status_code == 409 and Roster.objects.get(pk=roster.pk).state == RosterState.DRAFT
    empty = client.post(f"/duty/rosters/{roster.pk}/transitions/accept_findings/", {"accept_findings-note": ""})
    assert empty.status_code == 400
    accepted = client.post(f"/duty/rosters/{roster.pk}/transitions/accept_findings/",
                           {"accept_findings-note": "Overtime agreed."}, follow=True)
    assert 'id="findings-accepted"' in html(accepted) and "Overtime agreed." in html(accepted)
    client.post(f"/duty/rosters/{roster.pk}/transitions/publish/", {"publish-confirm": "on"})
    assert Roster.objects.get(pk=roster.pk).state == RosterState.PUBLISHED
    timeline = html(client.get(grid_url(roster)))
    assert "Accept the findings" in timeline and "Publish the roster" in timeline


# --- Generating and editing ---------------------------------------------------------------------------------


def test_a_supervisor_generates_a_roster_from_the_page(crew) -> None:  # noqa: ANN001
    client = signed_in(crew.supervisor)
    assert client.get(NEW).status_code == 200
    first = crew.today + timedelta(days=3)
    response = client.post(NEW, {"team": crew.team.pk, "first_day": first, "last_day": first + timedelta(days=6)})
    roster = Roster.objects.get()
    assert response.status_code == 302 and response["Location"] == grid_url(roster)
    assert roster.shifts.count() == 14
    too_long = client.post(NEW, {"team": crew.team.pk, "first_day": first + timedelta(days=10),
                                 "last_day": first + timedelta(days=110)})
    assert too_long.status_code == 400 and "at most 92 days" in html(too_long)
    taken = client.post(NEW, {"team": crew.team.pk, "first_day": first, "last_day": first})
    assert taken.status_code == 400 and "already has a roster" in html(taken)
    assert Roster.objects.count() == 1


def test_adding_a_shift_from_the_grid_and_refusing_an_overlap(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today + timedelta(days=5))
    client = signed_in(crew.supervisor)
    helper = UserFactory(username="helper", display_name="Helper", roles=[roles.SYSTEM_ENGINEER])
    url = f"/duty/rosters/{roster.pk}/shifts/"
    day = roster.first_day
    added = client.post(url, {"user": helper.pk, "role": roles.SYSTEM_ENGINEER, "shift_type": crew.day.pk,
                              "day": day})
    assert added.status_code == 302
    shift = Shift.objects.get(user=helper)
    assert shift.start == datetime(day.year, day.month, day.day, 8, tzinfo=TAIPEI)
    before = Shift.objects.count()
    overlap = client.post(url, {"user": helper.pk, "role": roles.SYSTEM_ENGINEER, "start": f"{day}T10:00",
                                "end": f"{day}T14:00"})
    assert overlap.status_code == 400 and "two shifts at once" in html(overlap)
    nothing = client.post(url, {"user": helper.pk, "role": roles.SYSTEM_ENGINEER})
    assert nothing.status_code == 400 and "Give a shift type and a day" in html(nothing)
    assert Shift.objects.count() == before


def test_changing_and_removing_a_shift(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today + timedelta(days=5))
    shift = roster.shifts.order_by("start").first()
    client = signed_in(crew.supervisor)
    url = f"/duty/shifts/{shift.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{shift.start.astimezone(TAIPEI):%Y-%m-%dT%H:%M}"' in html(page)
    data = {"user": crew.engineers[3 - 1].pk, "role": shift.role, "shift_type": crew.day.pk,
            "start": f"{shift.start.astimezone(TAIPEI):%Y-%m-%dT%H:%M}",
            "end": f"{shift.start.astimezone(TAIPEI):%Y-%m-%d}T12:00"}
    backwards = client.post(url, {**data, "end": f"{shift.start.astimezone(TAIPEI):%Y-%m-%d}T07:00"})
    assert backwards.status_code == 400 and "ends after it starts" in html(backwards)
    saved = client.post(url, data)
    assert saved.status_code == 302, html(saved)[:2000]
    changed = Shift.objects.get(pk=shift.pk)
    assert (changed.user, changed.end - changed.start) == (crew.engineers[2], timedelta(hours=4))
    assert client.post(f"/duty/shifts/{shift.pk}/delete/").status_code == 302
    assert not Shift.objects.filter(pk=shift.pk).exists()


def test_a_published_rosters_shift_is_not_changed_from_the_page(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today + timedelta(days=5))
    rosters.roster_transition(roster, "publish", user=crew.supervisor)
    shift = roster.shifts.first()
    client = signed_in(crew.supervisor)
    response = client.post(f"/duty/shifts/{shift.pk}/delete/", follow=True)
    assert "withdraw it for editing first" in " ".join(page_messages(response))
    assert Shift.objects.filter(pk=shift.pk).exists()
    assert 'id="shift-add"' not in html(client.get(grid_url(roster)))


def test_the_csv_lists_each_shift_in_local_time(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today + timedelta(days=5), days=2)
    response = signed_in(crew.engineers[0]).get(f"/duty/rosters/{roster.pk}/roster.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Day", "Starts", "Ends", "Hours"]
    assert len(rows) == 1 + 4
    assert rows[1][1] == f"{roster.first_day} 08:00" and rows[1][3] == "12" and rows[1][4] == "day"


# --- Who is on duty: the list and the home panel --------------------------------------------------------------


def _someone_on_duty(crew: Any) -> Shift:
    today = timezone.localdate(timezone=TAIPEI)
    roster = crew.published_roster(today - timedelta(days=1), today + timedelta(days=1))
    return crew.shift(roster, crew.engineers[0], timezone.now() - timedelta(hours=1))


@pytest.mark.parametrize("role", [roles.SYSTEM_ENGINEER, roles.DUTY_OFFICER, roles.AUDITOR, roles.SUPERVISOR])
def test_the_home_panel_shows_who_is_on_duty_to_everyone_who_reads_duty(crew, role) -> None:  # noqa: ANN001
    shift = _someone_on_duty(crew)
    home = html(signed_in(UserFactory(roles=[role])).get("/"))
    assert 'id="panel-on-duty"' in home
    panel = home.split('id="panel-on-duty"')[1].split('id="panel-')[0]
    assert str(shift.user) in panel and crew.team.name in panel
    assert timezone.localtime(shift.end, TAIPEI).strftime("%Y-%m-%d %H:%M") in panel


def test_the_home_panel_lists_the_readers_own_team_first(crew) -> None:  # noqa: ANN001
    _someone_on_duty(crew)
    other = duty_crew("aaa")  # sorts before the crew's team by name
    board = signed_in(crew.engineers[1]).get("/").context["panels"]
    data = dict((panel.key, context) for panel, context in board)["on-duty"]
    assert [row.team for row in data["board"]][:2] == [crew.team, other.team]


def test_the_list_shows_who_is_on_duty_and_the_rosters(crew) -> None:  # noqa: ANN001
    shift = _someone_on_duty(crew)
    generate(crew, crew.today + timedelta(days=5))
    response = signed_in(crew.supervisor).get(LIST)
    page = html(response)
    assert str(shift.user) in page.split('id="on-duty"')[1].split('id="rosters"')[0]
    assert 'id="roster-generate"' in page
    assert [r.state for r in response.context["page"]] == [RosterState.DRAFT, RosterState.PUBLISHED]
    assert "Covered" in page


def test_pages_render_in_traditional_chinese(crew) -> None:  # noqa: ANN001
    roster = generate(crew, crew.today)
    client = signed_in(crew.supervisor, "zh-hant")
    for path in (LIST, grid_url(roster), NEW, f"/duty/shifts/{roster.shifts.first().pk}/edit/", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'lang="zh-Hant"' in html(response)


# --- Query counts -------------------------------------------------------------------------------------------


def _count(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries.captured_queries)


def test_the_list_costs_the_same_whatever_its_rows(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    client = signed_in(crew.supervisor)
    generate(crew, crew.today + timedelta(days=5))
    _count(client, LIST)
    few = _count(client, LIST)
    for n in range(1, 4):
        roster = generate(crew, crew.today + timedelta(days=5 + 4 * n))
        if n % 2:
            rosters.roster_transition(roster, "publish", user=crew.supervisor)
        _someone_on_duty(duty_crew(f"t{n}"))
    assert _count(client, LIST) == few
    with django_assert_num_queries(LIST_QUERIES):
        client.get(LIST)


def test_the_grid_costs_the_same_whatever_its_people_and_shifts(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    client = signed_in(crew.supervisor)
    short = generate(crew, crew.today, days=2)
    _count(client, grid_url(short))
    few = _count(client, grid_url(short))
    extra = [UserFactory(roles=[roles.SYSTEM_ENGINEER]) for _n in range(4)]
    rotation_of(crew, extra, name="Second", starts_on=crew.today)
    long = generate(crew, crew.today + timedelta(days=2), days=28)
    assert _count(client, grid_url(long)) == few
    with django_assert_num_queries(GRID_QUERIES):
        client.get(grid_url(long))


# The teams, who is on duty now and who next (the reader's teams come with their roles; the policy: cached).
PANEL_QUERIES = 3


def test_the_home_panel_costs_the_same_whatever_the_teams_and_shifts(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    from django.test import RequestFactory

    from duty.models import DutyPolicy
    from opscenter.core import navigation
    from opscenter.core.roles import user_roles, user_team_ids

    panel = next(p for p in navigation._panels if p.key == "on-duty")
    request = RequestFactory().get("/")
    request.user = crew.engineers[0]
    user_team_ids(request.user)  # read with the reader's roles, once per request, before any panel
    user_roles(request.user)  # likewise (the navigation reads them first)
    DutyPolicy.current()  # kept in the cache until it is saved
    _someone_on_duty(crew)
    with django_assert_num_queries(PANEL_QUERIES):
        few = panel.context(request)
    for code in ("t1", "t2", "t3"):
        _someone_on_duty(duty_crew(code))
    with django_assert_num_queries(PANEL_QUERIES):
        many = panel.context(request)
    assert len(many["board"]) == len(few["board"]) + 3


def _tabs(page: Any) -> list[tuple[str, bool]]:
    import re

    body = html(page)
    nav = body.split('id="section-tabs"', 1)[1].split("</ul>", 1)[0]
    return [(href, "active" in classes) for classes, href in re.findall(r'class="nav-link([^"]*)" href="([^"]+)"', nav)]


def test_every_duty_page_shows_the_duty_tabs_the_reader_may_open(crew) -> None:  # noqa: ANN001
    """The pages the navigation bar does not name (swaps, the log, handovers, my shifts, the report) are a tab away
    on every duty page, the current one marked; the report only for supervisors and auditors."""
    roster = generate(crew, crew.today)
    supervisor = signed_in(crew.supervisor)
    tabs = _tabs(supervisor.get(grid_url(roster)))
    assert [href for href, _active in tabs] == ["/duty/rosters/", "/duty/swaps/", "/duty/my/", "/duty/log/",
                                                "/duty/handovers/", "/duty/calendar/", "/duty/reports/"]
    assert [href for href, active in tabs if active] == ["/duty/rosters/"]  # a roster is under the rosters
    assert [href for href, active in _tabs(supervisor.get("/duty/reports/")) if active] == ["/duty/reports/"]
    engineer = signed_in(crew.engineers[0])
    tabs = _tabs(engineer.get("/duty/swaps/"))
    assert "/duty/reports/" not in dict(tabs) and dict(tabs)["/duty/swaps/"] is True
    auditor = signed_in(UserFactory(roles=[roles.AUDITOR]))
    assert [href for href, _active in _tabs(auditor.get("/duty/log/"))] == [
        "/duty/rosters/", "/duty/swaps/", "/duty/log/", "/duty/handovers/", "/duty/reports/"]
    assert 'id="section-tabs"' not in html(supervisor.get("/incidents/"))  # a section of its own only


def test_the_navigation_marks_one_entry_the_closest_to_the_page(crew) -> None:  # noqa: ANN001
    """"Duty" holds every duty page and "My duty" its own: on My duty only the latter is marked, elsewhere the
    former."""
    import re

    client = signed_in(crew.engineers[0])

    def marked(path: str) -> list[str]:
        bar = html(client.get(path)).split('id="navbar-menu"', 1)[1].split("</ul>", 1)[0]
        return re.findall(r'<li class="nav-item active">\s*<a class="nav-link" href="([^"]+)"', bar)

    assert marked("/duty/my/") == ["/duty/my/"]
    assert marked("/duty/swaps/") == ["/duty/rosters/"]
    assert marked("/") == ["/"]
