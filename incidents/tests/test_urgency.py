"""Urgent work first: the home panels and the queues put unclassified reports and P1s before older, less urgent
work and show by when each is to be assigned (or responded to, or resolved) and the time left; the report form
sets the priority at intake and finds the caller by search; the auditor is offered no report; the summary's
counts open the incidents they count."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.choices import Priority, State
from incidents.models import Category, Incident
from incidents.panels import PANEL_ROWS
from incidents.services import incident_transition
from incidents.tests.test_pages import LIST, REPORT, SUMMARY, html, report, signed_in
from opscenter.core import roles
from opscenter.core.models import ConfigurationItem, Service, User

HOME = "/"


def classified(recorder: User, title: str, impact: int = 2, urgency: int = 2, **fields) -> Incident:  # noqa: ANN003
    """A report the duty officer has classified (impact 2 × urgency 2: a P3)."""
    incident = report(recorder, title=title, **fields)
    return incident_transition(incident, "classify", user=recorder, data={
        "category": Category.objects.get(code="software"), "impact": impact, "urgency": urgency})


def panel(page: str, key: str) -> str:
    start = page.index(f'id="panel-{key}"')
    return page[start:page.index('class="card-footer"', start)]


def numbers(fragment: str) -> list[str]:
    return re.findall(r"INC-\d{4}-\d{6}", fragment)


def queue_table(page: str) -> str:
    return page[page.index('id="incident-table"'):]


# --- Urgent work first ---------------------------------------------------------------------------------------


def test_a_new_p1_comes_first_on_the_duty_officers_panel_however_many_older_p3s_wait(demo) -> None:  # noqa: ANN001
    older = [classified(demo["duty"], f"Printer {n} jams") for n in range(PANEL_ROWS + 2)]
    assert {i.priority for i in older} == {Priority.P3}
    p1 = report(demo["duty"], title="Core switch down", impact=1, urgency=1)
    assert p1.priority == Priority.P1 and p1.state == State.REPORTED

    page = html(signed_in(demo["duty"]).get(HOME))
    rows = numbers(panel(page, "incidents-dispatch"))
    assert rows[0] == p1.number and len(rows) == PANEL_ROWS
    # Among the P3s, the one due first (assigned by the earliest time) comes first.
    assert rows[1:] == [i.number for i in older[:PANEL_ROWS - 1]]

    # The queue opens in the same order (most urgent first is its default).
    queue = numbers(queue_table(html(signed_in(demo["duty"]).get(LIST, {"queue": "unassigned"}))))
    assert queue[0] == p1.number and queue[1:3] == [older[0].number, older[1].number]


def test_unclassified_reports_come_before_p1s_and_no_p1_is_cut_from_a_panel(demo) -> None:  # noqa: ANN001
    for n in range(3):
        classified(demo["duty"], f"Old P3 {n}")
    p1s = [report(demo["duty"], title=f"Outage {n}", impact=1, urgency=1) for n in range(PANEL_ROWS + 1)]
    unclassified = report(demo["duty"], title="Something is odd")
    rows = numbers(panel(html(signed_in(demo["duty"]).get(HOME)), "incidents-dispatch"))
    assert rows[0] == unclassified.number
    assert set(rows[1:]) == {i.number for i in p1s}  # ten rows: every P1 stays, the P3s wait in the queue
    assert "More in the queue" in html(signed_in(demo["duty"]).get(HOME))


def test_a_p2_overdue_for_assignment_stays_on_the_panel_behind_unclassified_reports(demo) -> None:  # noqa: ANN001
    """Eight fresh unclassified reports fill the panel's rows: a P2 past its time to assign is shown below them
    anyway; a P3 not yet due waits in the queue."""
    overdue = classified(demo["duty"], "ERP down for the sales team", impact=1, urgency=2)
    assert overdue.priority == Priority.P2
    Incident.objects.filter(pk=overdue.pk).update(assign_due_at=timezone.now() - timedelta(hours=4), sla_due_at=None)
    waiting = classified(demo["duty"], "Printer jams")
    fresh = [report(demo["duty"], title=f"Something odd {n}") for n in range(PANEL_ROWS)]
    rows = numbers(panel(html(signed_in(demo["duty"]).get(HOME)), "incidents-dispatch"))
    assert set(rows[:PANEL_ROWS]) == {i.number for i in fresh}
    assert overdue.number in rows and waiting.number not in rows


def test_my_incidents_are_ordered_by_priority_then_the_nearest_deadline(demo) -> None:  # noqa: ANN001
    from opscenter.core.models import Team

    system = Team.objects.get(code="system")

    def mine(title: str, impact: int, urgency: int) -> Incident:
        incident = classified(demo["duty"], title, impact, urgency)
        return incident_transition(incident, "assign", user=demo["duty"],
                                   data={"team": system, "assignee": demo["sysadmin"]})

    p3 = mine("Old P3", 2, 2)
    p2 = mine("A P2", 1, 2)
    p1 = mine("A P1", 1, 1)
    rows = numbers(panel(html(signed_in(demo["sysadmin"]).get(HOME)), "incidents-mine"))
    assert rows == [p1.number, p2.number, p3.number]


def worked(demo: dict[str, User], title: str, impact: int, urgency: int, *, due_in: timedelta | None = None,
           then: tuple[str, ...] = ()) -> Incident:
    """A classified incident assigned to the system engineer (and moved on by `then`), its next SLA target
    `due_in` from now as the clocks keep it on the row (sla.clocks.follow_clocks; the demo has no agreement)."""
    from opscenter.core.models import Team

    incident = incident_transition(classified(demo["duty"], title, impact, urgency), "assign", user=demo["duty"],
                                   data={"team": Team.objects.get(code="system"), "assignee": demo["sysadmin"]})
    if due_in is not None:
        Incident.objects.filter(pk=incident.pk).update(sla_due_at=timezone.now() + due_in, sla_due_kind="resolution")
    for name in then:
        incident = incident_transition(incident, name, user=demo["sysadmin"],
                                       data={"reason": "vendor"} if name == "hold" else {})
    return incident


def mixed(demo: dict[str, User]) -> list[Incident]:
    """Incidents of every priority, with and without deadlines, open and finished, reported in a jumbled order;
    returned most urgent first."""
    p2_late = worked(demo, "Printer queue stuck", 1, 2, due_in=timedelta(hours=3))
    done = incident_transition(classified(demo["duty"], "False alarm", 1, 1), "cancel", user=demo["duty"],
                               data={"reason": "false_alarm"})
    p3 = worked(demo, "Wiki slow", 2, 2)
    p1_paused = worked(demo, "Storage array degraded", 1, 1, due_in=timedelta(minutes=10),
                       then=("start_diagnosis", "hold"))
    p2_soon = worked(demo, "Mail slow", 1, 2, due_in=timedelta(hours=1))
    p1_due = worked(demo, "Core switch down", 1, 1, due_in=timedelta(minutes=30))
    p2_unassigned = classified(demo["duty"], "VPN drops", 1, 2)  # to be assigned within 15 minutes
    unclassified = report(demo["duty"], title="Something is odd")
    assert done.state == State.CANCELLED
    return [unclassified, p1_due, p1_paused, p2_unassigned, p2_soon, p2_late, p3, done]


def test_every_queue_and_the_api_open_with_the_most_urgent_first(demo, api_as) -> None:  # noqa: ANN001
    """Unclassified reports, then by priority, the nearest deadline first (the time to assign or the next SLA
    target, none last), open incidents before finished ones: on the queue's tabs, "my incidents" and the API."""
    urgent = mixed(demo)
    expected = [i.number for i in urgent]
    supervisor = signed_in(demo["supervisor"])
    assert numbers(queue_table(html(supervisor.get(LIST, {"queue": "all"})))) == expected
    assert numbers(queue_table(html(supervisor.get(LIST)))) == expected[:-1]  # the supervisor's open queue
    assert numbers(queue_table(html(signed_in(demo["duty"]).get(LIST)))) == [expected[0], expected[3]]
    mine = numbers(queue_table(html(signed_in(demo["sysadmin"]).get(LIST))))
    assert mine == [expected[1], expected[2], expected[4], expected[5], expected[6]]
    assert numbers(panel(html(signed_in(demo["sysadmin"]).get(HOME)), "incidents-mine")) == mine

    api = api_as(demo["supervisor"])
    assert [row["number"] for row in api.get("/api/v1/incidents/").json()["results"]] == expected
    # The other orders are still asked for by name, on the page and in the API.
    newest = [i.number for i in sorted(urgent, key=lambda i: i.pk, reverse=True)]
    assert numbers(queue_table(html(supervisor.get(LIST, {"queue": "all", "sort": "-created"})))) == newest
    assert [row["number"] for row in api.get("/api/v1/incidents/", {"ordering": "-created_at"}).json()["results"]] \
        == newest
    by_priority = [row["priority"] for row in api.get("/api/v1/incidents/", {"ordering": "priority"}).json()["results"]]
    assert by_priority == sorted(by_priority)
    due_first = numbers(queue_table(html(supervisor.get(LIST, {"queue": "all", "sort": "due"}))))
    assert due_first[:4] == [expected[3], expected[1], expected[4], expected[5]]  # 15 min, 30 min, 1 h, 3 h


@pytest.mark.postgres
def test_the_most_urgent_first_is_read_in_index_order_on_postgresql(demo) -> None:  # noqa: ANN001
    """The queue's and the API's default order is the incident_urgent index's: PostgreSQL reads a page of it from
    the index without sorting the rows (with sorting forbidden, a plan that needed one would still show it)."""
    from django.db import connection

    from incidents import selectors
    from incidents.forms import IncidentFilterForm
    from opscenter.core.tests.real_services import require_postgres

    require_postgres()
    mixed(demo)
    supervisor = demo["supervisor"]
    form = IncidentFilterForm(None, user=supervisor)
    pages = {
        "open queue": selectors.queue_rows(form.order(selectors.incident_queue(user=supervisor, queue="open"))),
        "every incident": selectors.queue_rows(form.order(selectors.incident_queue(user=supervisor, queue="all"))),
        "API": selectors.list_rows(selectors.incident_list_detailed(user=supervisor)).order_by(
            *selectors.URGENT_FIRST),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET enable_sort = off")
        try:
            for name, qs in pages.items():
                plan = qs[:25].explain()
                assert "incident_urgent" in plan and "Sort" not in plan, (name, plan)
        finally:
            cursor.execute("RESET enable_sort")


# --- Due and overdue -------------------------------------------------------------------------------------------


def test_the_time_to_assign_shows_with_the_time_left_and_then_overdue(demo) -> None:  # noqa: ANN001
    p1 = report(demo["duty"], title="Core switch down", impact=1, urgency=1)
    assert p1.assign_due_at == p1.created_at + timedelta(minutes=5)  # the P1 five-minute rule
    due = timezone.localtime(p1.assign_due_at).strftime("%Y-%m-%d %H:%M")
    client = signed_in(demo["duty"])

    row = panel(html(client.get(HOME)), "incidents-dispatch")
    assert "Assign by" in row and due in row and re.search(r"[45] min left", row)
    table = queue_table(html(client.get(LIST, {"queue": "unassigned"})))
    assert ">Due / time left</a></th>" in table
    assert "Assign by" in table and due in table and re.search(r"[45] min left", table)

    Incident.objects.filter(pk=p1.pk).update(assign_due_at=timezone.now() - timedelta(minutes=12))
    row = panel(html(client.get(HOME)), "incidents-dispatch")
    assert "overdue by 12 min" in row and "time-left overdue" in row
    assert "overdue by 12 min" in queue_table(html(client.get(LIST, {"queue": "unassigned"})))


def test_an_assigned_incident_shows_no_time_to_assign_and_an_on_hold_one_reads_paused(demo) -> None:  # noqa: ANN001
    from opscenter.core.models import Team

    incident = classified(demo["duty"], "Mail slow")
    incident = incident_transition(incident, "assign", user=demo["duty"],
                                   data={"team": Team.objects.get(code="system"), "assignee": demo["sysadmin"]})
    incident = incident_transition(incident, "start_diagnosis", user=demo["sysadmin"], data={})
    incident_transition(incident, "hold", user=demo["sysadmin"], data={"reason": "vendor"})
    row = panel(html(signed_in(demo["sysadmin"]).get(HOME)), "incidents-mine")
    assert incident.number in row and "Assign by" not in row and "Paused" in row


def test_panels_and_queue_cost_the_same_queries_with_more_rows(demo, django_assert_num_queries) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    for n in range(2):
        classified(demo["duty"], f"Fault {n}")
    client.get(HOME)
    client.get(LIST, {"queue": "unassigned"})  # the filter bar's lists are cached from here on

    def count(path: str, **params: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path, params).status_code == 200
        return len(queries)

    few_home, few_queue = count(HOME), count(LIST, queue="unassigned")
    for n in range(12):
        report(demo["duty"], title=f"More {n}", impact=1, urgency=n % 3 + 1)
    assert count(HOME) == few_home and count(LIST, queue="unassigned") == few_queue


# --- Report a fault ---------------------------------------------------------------------------------------------


def report_form(**fields: str) -> dict[str, str]:
    return {"channel": "phone", "caller_name": "Mr Wang", "title": "ERP down", "description": "Nobody signs in",
            "impact_scope": "Everyone", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), **fields}


def test_impact_and_urgency_at_intake_give_the_priority_from_the_matrix(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    page = html(client.get(REPORT))
    assert 'name="impact"' in page and 'name="urgency"' in page
    response = client.post(REPORT, report_form(impact="1", urgency="2"))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.priority, incident.impact, incident.urgency, incident.state) == ("P2", 1, 2, State.REPORTED)
    assert incident.assign_due_at == incident.created_at + timedelta(minutes=15)

    # Classifying later takes the category and works the priority out again.
    incident = incident_transition(incident, "classify", user=demo["duty"], data={
        "category": Category.objects.get(code="network"), "impact": 1, "urgency": 1})
    assert incident.priority == "P1"


def test_one_of_impact_and_urgency_alone_is_refused_and_neither_leaves_the_priority_to_classification(demo) -> None:  # noqa: ANN001, E501
    client = signed_in(demo["duty"])
    response = client.post(REPORT, report_form(impact="1"))
    assert response.status_code == 400 and "Give both impact and urgency, or neither." in html(response)
    assert not Incident.objects.exists()
    assert client.post(REPORT, report_form()).status_code == 302
    incident = Incident.objects.get()
    assert incident.priority == "" and incident.assign_due_at is None


def test_the_caller_is_found_by_search(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    page = html(client.get(REPORT))
    assert 'list="caller-options"' in page and '<datalist id="caller-options">' in page
    assert "<select name=\"caller\"" not in page
    finance = demo["finance"]
    options = html(client.get("/incidents/report/callers/", {"caller": finance.username[:4]}))
    assert f'<option value="{finance.username}">' in options
    assert html(client.get("/incidents/report/callers/", {"caller": "f"})).strip() == ""  # two letters at least
    response = client.post(REPORT, report_form(caller=finance.username, caller_name=""))
    assert response.status_code == 302 and Incident.objects.get().caller == finance
    response = client.post(REPORT, report_form(caller="nobody-like-this"))
    assert response.status_code == 400 and "No user is called nobody-like-this" in html(response)
    # A department user reports for themselves and is not shown who else uses OpsCenter.
    assert signed_in(finance).get("/incidents/report/callers/", {"caller": "dut"}).status_code == 403


def test_the_caller_search_costs_the_same_queries_however_many_match(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    client.get("/incidents/report/callers/", {"caller": "zz"})  # the session and content types read once

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/incidents/report/callers/", {"caller": "searchable"}).status_code == 200
        return len(queries)

    department = demo["finance"].department  # each suggestion names the caller's department
    User.objects.create(username="searchable-0", display_name="Searchable 0", department=department)
    few = count()
    User.objects.bulk_create([User(username=f"searchable-{n}", display_name=f"Searchable {n}", department=department)
                              for n in range(1, 30)])
    assert count() == few


def test_the_auditor_is_offered_no_report_and_is_refused_the_report_page(demo) -> None:  # noqa: ANN001
    auditor = next(u for u in demo.values() if roles.has_role(u, roles.AUDITOR)
                   and not roles.has_role(u, *roles.IT_STAFF, roles.DEPARTMENT_USER))
    client = signed_in(auditor)
    for path in (HOME, LIST):
        page = html(client.get(path))
        assert 'href="/incidents/report/"' not in page and "Report a fault" not in page, path
    assert client.get(REPORT).status_code == 403
    assert client.post(REPORT, report_form()).status_code == 403 and not Incident.objects.exists()
    assert client.get("/incidents/report/callers/", {"caller": "fin"}).status_code == 403
    # Everyone else still finds it.
    for username in ("duty", "finance", "sysadmin"):
        assert 'href="/incidents/report/"' in html(signed_in(demo[username]).get(HOME)), username


# --- The summary links through --------------------------------------------------------------------------------


def test_every_count_of_the_summary_opens_the_list_of_exactly_those_incidents(demo) -> None:  # noqa: ANN001
    from opscenter.core.models import Department

    finance = Department.objects.get(code="finance")
    email = Service.objects.get(code="email")
    item = ConfigurationItem.objects.filter(services=email).first()
    classified(demo["duty"], "Mail slow", service=email, configuration_item=item, department=finance)
    classified(demo["duty"], "Mail down", 1, 1, service=email)
    report(demo["duty"], title="Printer", service=None)
    report(demo["duty"], title="ERP odd", impact=2, urgency=3)
    old = report(demo["duty"], title="Last year")
    Incident.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))

    client = signed_in(demo["supervisor"])
    page = html(client.get(SUMMARY))
    links = re.findall(r'<a href="([^"]+)" class="summary-count"[^>]*>(\d+)</a>', page)
    assert len(links) >= 10
    for href, count in links:
        listed = client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200
        rows = numbers(queue_table(html(listed)))
        assert len(rows) == int(count), href
        assert old.number not in rows
    total = re.search(r'id="summary-total"><a href="([^"]+)"', page).group(1).replace("&amp;", "&")
    rows = numbers(queue_table(html(client.get(total))))
    assert len(rows) == 4 and "Also narrowed to:" in html(client.get(total))
    # The counts of what has none (no category yet, no service, not classified) resolve too.
    assert "category=none" in page and "service=none" in page and "priority=none" in page


@pytest.mark.parametrize("params", [{"priority": "none"}, {"category": "none"}, {"service": "none"}])
def test_the_api_filters_what_has_no_priority_category_or_service(demo, params) -> None:  # noqa: ANN001
    report(demo["duty"], title="Unclassified", service=None)
    classified(demo["duty"], "Classified")
    rows = signed_in(demo["supervisor"]).get("/api/v1/incidents/", params).json()["results"]
    assert [row["title"] for row in rows] == ["Unclassified"]
