"""The incident pages as people use them: the queue, the detail page and its transition forms,
report-a-fault and the summary — per role, with refusals, escaping, visibility and pinned query counts."""

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from incidents.choices import Channel, State
from incidents.models import Category, Incident, MajorIncidentReview
from incidents.services import incident_link, incident_report, incident_transition
from opscenter.core.models import Comment, Department, Service, Team, TransitionLog, User
from opscenter.core.services import comment_add
from opscenter.core.testing.pages import html, page_messages, signed_in
from opscenter.core.workflow import get_transition

pytestmark = pytest.mark.django_db

LIST = "/incidents/"
REPORT = "/incidents/report/"
SUMMARY = "/incidents/summary/"


def detail_url(incident: Incident) -> str:
    return f"/incidents/{incident.pk}/"


def transition_url(incident: Incident, name: str) -> str:
    return f"/incidents/{incident.pk}/transitions/{name}/"


def report(recorder: User, **fields: Any) -> Incident:
    """An incident recorded through the service, as the duty officer does for a phone call."""
    data = {
        "title": "ERP login fails",
        "description": "Users see “ORA-12541: no listener” when they sign in.",
        "occurred_at": timezone.now() - timedelta(minutes=30),
        "impact_scope": "Finance department, about 20 users",
        "channel": Channel.PHONE,
        "caller_name": "Ms Tsai",
        "service": Service.objects.get(code="erp"),
    }
    data.update(fields)
    return incident_report(recorder=recorder, data=data)


def advance(incident: Incident, demo: dict[str, User], until: str) -> Incident:
    """Move an incident along the main path through the service until it reaches `until`."""
    steps = [
        ("classify", "duty", {"category": Category.objects.get(code="software"), "impact": 2, "urgency": 2}, ""),
        ("assign", "duty", {"team": Team.objects.get(code="system"), "assignee": demo["sysadmin"]}, ""),
        ("start_diagnosis", "sysadmin", {}, ""),
        ("start_handling", "sysadmin", {"cause": "Listener stopped", "scope": "ERP only"}, ""),
        ("restore", "sysadmin", {"measures": "Restarted the listener"}, ""),
        ("confirm_recovery", "sysadmin", {"function_ok": True, "function_note": "Sign-in works",
                                          "performance_ok": True, "performance_note": "Normal",
                                          "data_ok": True, "data_note": "No loss",
                                          "resolution": "Listener restarted and monitored"}, ""),
        ("submit_report", "sysadmin", {"cause": "c", "process": "p", "measures": "m", "result": "r"}, ""),
        ("approve_report", "supervisor", {}, ""),
    ]
    for name, who, data, comment in steps:
        if incident.state == until:
            break
        if get_transition(incident, name) is None:  # already past this step
            continue
        incident = incident_transition(incident, name, user=demo[who], comment=comment, data=data)
    assert incident.state == until
    return incident


# --- The queue ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "default_queue"), [
    ("supervisor", "open"), ("sysadmin", "mine"), ("duty", "unassigned"), ("finance", "all"), ("auditor", "open"),
])
def test_queue_renders_with_the_role_default_tab(demo, username, default_queue) -> None:  # noqa: ANN001
    report(demo["duty"], caller=demo["finance"])
    response = signed_in(demo[username]).get(LIST)
    assert response.status_code == 200
    assert response.context["queue"] == default_queue
    assert re.search(rf'class="nav-link active" href="[^"]*"\s+aria-current="page" data-queue="{default_queue}"',
                     html(response))


def test_department_user_has_only_open_and_all_tabs(demo) -> None:  # noqa: ANN001
    response = signed_in(demo["finance"]).get(LIST)
    assert [name for name, _label in response.context["queues"]] == ["open", "all"]
    assert 'data-queue="mine"' not in html(response)


def test_queue_tabs_select_the_incidents(demo) -> None:  # noqa: ANN001
    mine = advance(report(demo["duty"], title="Assigned to sysadmin"), demo, State.ASSIGNED)
    new = report(demo["duty"], title="Waiting for dispatch")
    engineer = signed_in(demo["sysadmin"])
    page = html(engineer.get(LIST))
    assert mine.number in page and new.number not in page
    page = html(engineer.get(LIST, {"queue": "unassigned"}))
    assert new.number in page and mine.number not in page
    page = html(engineer.get(LIST, {"queue": "all"}))
    assert new.number in page and mine.number in page
    # An unknown queue falls back to the role's default, never an error.
    assert engineer.get(LIST, {"queue": "nonsense"}).context["queue"] == "mine"


def test_queue_columns(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.ASSIGNED)
    page = html(signed_in(demo["supervisor"]).get(LIST))
    row = page[page.index(incident.number):]
    row = row[:row.index("</tr>")]
    for text in ("P3", "ERP login fails", "ERP 企業資源規劃系統", "Assigned", "林系統", "系統運維組",
                 timezone.localtime(incident.created_at).strftime("%Y-%m-%d %H:%M")):
        assert text in row, text


def test_queue_row_in_chinese_links_the_incident_and_marks_a_major_one(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.HANDLING)
    incident_transition(incident, "declare_major", user=demo["supervisor"], comment="ERP down for everyone")
    client = signed_in(demo["supervisor"])
    page = html(client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hant"))
    row = page[page.index(f'<a href="{detail_url(incident)}" class="incident-number">{incident.number}</a>'):]
    row = row[:row.index("</tr>")]
    for text in ("重大", "軟件", "處理中", f'href="{detail_url(incident)}" class="text-reset incident-title"',
                 f'title="{timezone.localtime(incident.created_at):%Y-%m-%d %H:%M:%S}"'):
        assert text in row, text
    assert "重大" not in html(client.get(LIST, {"queue": "all", "q": "nothing matches this"}))


def test_queue_filters_and_sort(demo) -> None:  # noqa: ANN001
    p3 = advance(report(demo["duty"], title="Slow ERP"), demo, State.CLASSIFIED)
    p1 = incident_transition(report(demo["duty"], title="Mail down", service=Service.objects.get(code="email")),
                             "classify", user=demo["duty"],
                             data={"category": Category.objects.get(code="hardware"), "impact": 1, "urgency": 1})
    reported = report(demo["duty"], title="Printer jam", service=Service.objects.get(code="desktop-support"))
    client = signed_in(demo["supervisor"])

    def numbers(**params: str) -> list[str]:
        response = client.get(LIST, {"queue": "all", **params})
        assert response.status_code == 200
        return [i.number for i in response.context["page"]]

    assert numbers(state="classified") == [p1.number, p3.number]
    assert numbers(priority="P1") == [p1.number]
    assert numbers(category="software") == [p3.number]
    assert numbers(service=str(Service.objects.get(code="desktop-support").pk)) == [reported.number]
    assert numbers(team=str(Team.objects.get(code="system").pk)) == []
    assert numbers(q="mail") == [p1.number]
    assert numbers(q=p3.number) == [p3.number]
    assert numbers(sort="priority") == [p1.number, p3.number, reported.number]
    assert numbers(sort="-priority") == [reported.number, p3.number, p1.number]
    assert numbers(sort="created") == [p3.number, p1.number, reported.number]
    assert numbers(sort="state") == [reported.number, p1.number, p3.number]
    # Bad values drop their own filter only; an unknown sort is the default, not an error.
    assert numbers(category="abc", priority="P1") == [p1.number]
    assert numbers(sort="title; DROP TABLE") == [reported.number, p1.number, p3.number]


def test_queue_paginates_and_keeps_the_query_string(demo) -> None:  # noqa: ANN001
    for n in range(30):
        report(demo["duty"], title=f"Fault {n}")
    client = signed_in(demo["supervisor"])
    first = client.get(LIST, {"queue": "all", "q": "Fault", "sort": "created"})
    assert len(first.context["page"].object_list) == 25
    page = html(first)
    assert "Page 1 of 2 · 30 items" in page
    assert 'href="?queue=all&amp;q=Fault&amp;sort=created&amp;page=2"' in page
    second = client.get(LIST, {"queue": "all", "q": "Fault", "sort": "created", "page": "2"})
    assert [i.title for i in second.context["page"]] == [f"Fault {n}" for n in range(25, 30)]
    assert client.get(LIST, {"page": "999"}).status_code == 200


def test_queue_counts_only_up_to_the_cap(demo, monkeypatch) -> None:  # noqa: ANN001
    from opscenter.core.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 25)
    for n in range(30):
        report(demo["duty"], title=f"Fault {n}")
    client = signed_in(demo["supervisor"])
    assert "Page 1 of 1+ · 25+ items" in html(client.get(LIST, {"queue": "all"}))
    second = client.get(LIST, {"queue": "all", "page": "2"})
    assert len(second.context["page"].object_list) == 5 and "Page 2 of 2 · 30 items" in html(second)


def _queue_queries(client: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"queue": "all"})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["supervisor", "sysadmin", "finance"])
def test_queue_query_count_does_not_grow_with_rows(demo, username, django_assert_num_queries) -> None:  # noqa: ANN001
    finance = Department.objects.get(code="finance")
    for n in range(3):
        advance(report(demo["duty"], title=f"Fault {n}", department=finance), demo, State.ASSIGNED)
    client = signed_in(demo[username])
    client.get(LIST)  # warm the session and content-type caches
    few = _queue_queries(client)
    for n in range(27):
        advance(report(demo["duty"], title=f"More {n}", department=finance), demo, State.ASSIGNED)
    many = _queue_queries(client)
    assert few == many
    with django_assert_num_queries(QUEUE_QUERIES[username]):
        client.get(LIST, {"queue": "all"})


# the user (the session comes from the cache), roles, teams (with their kinds: also the security-team check),
# the unread count, the rows' count, the rows (joined with what their columns show); the filter bar's category,
# service (and, for IT staff, team) lists come from the cache after the first page (ReferenceChoiceField); a
# department user's navigation counts the surveys waiting for them
QUEUE_QUERIES = {"supervisor": 6, "sysadmin": 6, "finance": 7}


def test_queue_tabs_filter_bar_and_sort_links_keep_the_query_and_speak_both_languages(demo) -> None:  # noqa: ANN001
    report(demo["duty"], title="Printer jam")
    client = signed_in(demo["supervisor"])
    page = html(client.get(LIST, {"queue": "all", "state": "reported", "sort": "priority"}))
    assert 'href="?queue=all&amp;state=reported&amp;sort=-priority"' in page and "Priority ↑</a>" in page
    assert 'href="?queue=open&amp;state=reported&amp;sort=priority" aria-current' not in page
    assert 'href="?queue=open&amp;state=reported&amp;sort=priority"' in page  # the Open tab keeps the filters
    assert '<input type="hidden" name="sort" value="priority">' in page
    assert '>Filter</button>' in page and 'href="?queue=all">Clear</a>' in page
    assert '<option value="reported" selected>' in page and "Printer jam" in page
    empty = html(client.get(LIST, {"queue": "all", "q": "nothing like this"}, HTTP_ACCEPT_LANGUAGE="zh-hant"))
    assert ">篩選</button>" in empty and ">清除</a>" in empty and "請嘗試其他分頁。" not in empty
    assert "Filter" not in empty.split('id="incident-queue"')[1]
    unfiltered = html(client.get(LIST, {"queue": "mine"}, HTTP_ACCEPT_LANGUAGE="zh-hant"))
    assert "請嘗試其他分頁。" in unfiltered and ">清除</a>" not in unfiltered


def test_queue_rows_show_category_service_and_team_beside_the_filter_lists(demo, django_assert_num_queries) -> None:  # noqa: ANN001
    """The rows show their category, service and team; a team no longer in the filter bar's list (made inactive)
    still shows its name on its rows, without a query more."""
    from opscenter.core.models import Team

    finance = Department.objects.get(code="finance")
    incidents = [advance(report(demo["duty"], title=f"Fault {n}", department=finance), demo, State.ASSIGNED)
                 for n in range(3)]
    incident = Incident.objects.select_related("category", "service", "team").get(pk=incidents[0].pk)
    assert incident.category and incident.team
    client = signed_in(demo["supervisor"])
    client.get(LIST)
    page = html(client.get(LIST, {"queue": "all", "category": incident.category.code}))
    row = page[page.index(incident.number):]
    row = row[:row.index("</tr>")]
    assert incident.team.name in row and str(incident.category) in row
    assert f'<option value="{incident.category.code}" selected>' in page
    team = Team.objects.get(pk=incident.team_id)
    team.is_active = False
    team.save()  # as the admin saves it: the filter bar's cached team list is renewed
    client.get(LIST, {"queue": "all"})
    with django_assert_num_queries(QUEUE_QUERIES["supervisor"]):
        page = html(client.get(LIST, {"queue": "all"}))
    row = page[page.index(incident.number):]
    assert incident.team.name in row[:row.index("</tr>")]
    team_list = page[page.index('<select name="team"'):]
    assert f'<option value="{incident.team_id}">' not in team_list[:team_list.index("</select>")]  # not offered


def test_queue_draws_every_declared_column_and_reads_only_what_they_show(demo, monkeypatch,  # noqa: ANN001
                                                                         django_assert_num_queries) -> None:  # noqa: ANN001
    """The queue's table is its column declarations: a header and a cell per column in their order, and the rows'
    query joins and reads what the columns name; a column added to the declarations shows on the page with no
    other change, in the same number of queries."""
    from incidents import columns
    from incidents.templatetags import incident_badges
    from opscenter.core.columns import Column

    finance = Department.objects.get(code="finance")
    incident = advance(report(demo["duty"], title="Core switch down", department=finance), demo, State.ASSIGNED)
    client = signed_in(demo["supervisor"])
    page = html(client.get(LIST, {"queue": "all"}))
    table = page[page.index('id="incident-table"'):]
    headers = re.findall(r"<th>(?:<a [^>]*>)?([^<↑↓]+)", table)
    assert [h.strip() for h in headers] == [str(c.label) for c in columns.QUEUE_COLUMNS]
    at = table.index(incident.number)
    row = table[table.rindex("<tr>", 0, at):table.index("</tr>", at)]
    assert row.count("<td") == len(columns.QUEUE_COLUMNS)
    added = Column("department", "Department", ("department__name",), "{{ row.department or '' }}")
    monkeypatch.setattr(columns, "QUEUE_COLUMNS", (*columns.QUEUE_COLUMNS, added))
    incident_badges._queue_rows.cache_clear()
    try:
        with django_assert_num_queries(QUEUE_QUERIES["supervisor"]) as captured:
            page = html(client.get(LIST, {"queue": "all"}))
    finally:
        incident_badges._queue_rows.cache_clear()
    rows_query = next(q["sql"] for q in captured.captured_queries
                      if "LIMIT" in q["sql"] and "incidents_incident" in q["sql"]
                      and "COUNT(" not in q["sql"])
    assert '"core_department"."name"' in rows_query and '"incidents_incident"."description"' not in rows_query
    assert ">Department</th>" in page and f"<td>{finance.name}</td>" in page


# --- Visibility and escaping -------------------------------------------------------------------------------


def test_department_user_never_sees_another_departments_incident(demo) -> None:  # noqa: ANN001
    hr = Department.objects.get(code="hr")
    theirs = report(demo["duty"], title="HR payroll export fails", department=hr,
                    service=Service.objects.get(code="hr-payroll"))
    ours = report(demo["duty"], title="Ledger slow", caller=demo["finance"])
    client = signed_in(demo["finance"])
    for queue in ("open", "all"):
        page = html(client.get(LIST, {"queue": queue}))
        assert ours.number in page
        assert theirs.number not in page and "HR payroll export fails" not in page
    searched = client.get(LIST, {"queue": "all", "q": theirs.number})
    assert list(searched.context["page"]) == []
    assert f">{theirs.number}</a>" not in html(searched)
    assert client.get(detail_url(theirs)).status_code == 404
    before = TransitionLog.objects.count()
    assert client.post(transition_url(theirs, "reopen"), {"reopen-comment": "x"}).status_code == 404
    assert client.post(f"/incidents/{theirs.pk}/comments/", {"body": "hello"}).status_code == 404
    assert TransitionLog.objects.count() == before and not Comment.objects.exists()
    assert client.get(detail_url(ours)).status_code == 200


def test_html_in_title_and_description_is_shown_escaped(demo) -> None:  # noqa: ANN001
    incident = report(demo["duty"], title="<script>alert('t')</script>",
                      description="<script>alert('d')</script><b>bold</b>", caller=demo["finance"])
    comment_add(incident, user=demo["duty"], body="<script>alert('c')</script>")
    for username in ("supervisor", "finance"):
        client = signed_in(demo[username])
        for url in (detail_url(incident), LIST + "?queue=all"):
            page = html(client.get(url))
            assert "&lt;script&gt;alert(" in page, url
            assert "<script>alert" not in page, url
            assert "<b>bold</b>" not in page
    home = html(signed_in(demo["duty"]).get("/"))
    assert "<script>alert" not in home


# --- The detail page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["supervisor", "sysadmin", "duty", "finance", "auditor"])
def test_detail_renders_for_each_role(demo, username) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"], caller=demo["finance"]), demo, State.HANDLING)
    response = signed_in(demo[username]).get(detail_url(incident))
    assert response.status_code == 200
    page = html(response)
    assert incident.number in page and "ERP login fails" in page
    for text in ("蔡財務", "李值班", "Phone", "財務部", "ERP 企業資源規劃系統", "Software",
                 "Medium / Medium", "系統運維組", "Listener stopped", "Timeline"):
        assert text in page, text


def test_detail_offers_one_form_per_available_transition(demo) -> None:  # noqa: ANN001
    incident = report(demo["duty"])
    page = html(signed_in(demo["duty"]).get(detail_url(incident)))
    assert 'id="transition-classify" open' in page  # the next step is unfolded
    assert 'id="transition-cancel"' in page and 'id="transition-hold"' not in page
    for field in ("classify-category", "classify-impact", "classify-urgency", "cancel-reason", "cancel-duplicate_of"):
        assert f'name="{field}"' in page, field
    assert 'id="transition-declare_major"' not in page  # a supervisor's
    supervisor = html(signed_in(demo["supervisor"]).get(detail_url(incident)))
    assert 'id="transition-declare_major"' in supervisor and 'name="declare_major-confirm"' in supervisor
    # The department user who called it has nothing to do at this stage.
    finance = html(signed_in(demo["finance"]).get(detail_url(report(demo["duty"], caller=demo["finance"]))))
    assert "Nothing for you to do" in finance


@pytest.mark.parametrize(("state", "username", "name", "fields"), [
    (State.CLASSIFIED, "duty", "assign", ["team", "assignee"]),
    (State.ASSIGNED, "duty", "reassign", ["team", "assignee"]),
    (State.ASSIGNED, "sysadmin", "start_diagnosis", ["confirm", "comment"]),
    (State.DIAGNOSING, "sysadmin", "start_handling", ["cause", "scope"]),
    (State.HANDLING, "sysadmin", "restore", ["measures"]),
    (State.HANDLING, "sysadmin", "hold", ["reason"]),
    (State.RECOVERING, "sysadmin", "confirm_recovery",
     ["function_ok", "function_note", "performance_ok", "performance_note", "data_ok", "data_note", "resolution"]),
    (State.RESOLVED, "sysadmin", "submit_report", ["cause", "process", "measures", "result"]),
    (State.RESOLVED, "sysadmin", "reopen", ["comment"]),
    (State.UNDER_REVIEW, "supervisor", "approve_report", ["confirm", "comment"]),
    (State.UNDER_REVIEW, "supervisor", "return_report", ["comment"]),
])
def test_each_transition_form_asks_what_it_requires(demo, state, username, name, fields) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, state)
    page = html(signed_in(demo[username]).get(detail_url(incident)))
    form = page[page.index(f'id="transition-{name}"'):]
    form = form[:form.index("</form>")]
    assert sorted(re.findall(rf'name="{name}-([a-z_]+)"', form)) == sorted(fields)


def test_confirm_recovery_offers_to_resolve_open_children(demo) -> None:  # noqa: ANN001
    parent = advance(report(demo["duty"], title="Core switch down"), demo, State.RECOVERING)
    others = report(demo["duty"], title="Wi-Fi down")
    incident_link(others, user=demo["duty"], parent=parent)
    client = signed_in(demo["sysadmin"])
    # An open child reported by someone else is offered too: resolving the parent resolves it.
    assert 'name="confirm_recovery-resolve_children"' in html(client.get(detail_url(parent)))
    incident_transition(others, "cancel", user=demo["duty"], data={"reason": "false_alarm"})
    # A department user never sees the offer (they cannot confirm recovery at all).
    assert 'name="confirm_recovery-resolve_children"' not in html(signed_in(demo["finance"]).get(detail_url(parent)))
    child = advance(report(demo["duty"], title="VPN down"), demo, State.ASSIGNED)
    incident_link(child, user=demo["duty"], parent=parent)
    page = html(client.get(detail_url(parent)))
    assert 'name="confirm_recovery-resolve_children"' in page
    assert child.number in page and "Child incidents" in page
    response = client.post(transition_url(parent, "confirm_recovery"), {
        "confirm_recovery-function_ok": "on", "confirm_recovery-function_note": "ok",
        "confirm_recovery-performance_ok": "on", "confirm_recovery-performance_note": "ok",
        "confirm_recovery-data_ok": "on", "confirm_recovery-data_note": "ok",
        "confirm_recovery-resolution": "Replaced the supervisor module",
        "confirm_recovery-resolve_children": "on"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.state == State.RESOLVED and child.resolution == "Replaced the supervisor module"
    child_page = html(client.get(detail_url(child)))
    assert parent.number in child_page and "Parent incident" in child_page


def test_a_transition_form_moves_the_state_and_shows_in_the_timeline(demo) -> None:  # noqa: ANN001
    incident = report(demo["duty"])
    client = signed_in(demo["duty"])
    response = client.post(transition_url(incident, "classify"), {
        "classify-category": Category.objects.get(code="network").pk, "classify-impact": "1",
        "classify-urgency": "2"})
    assert response.status_code == 302 and response["Location"] == detail_url(incident)
    incident.refresh_from_db()
    assert incident.state == State.CLASSIFIED and incident.priority == "P2"
    page = client.get(detail_url(incident))
    text = html(page)
    assert "Classify: done. The incident is now “Classified”." in page_messages(page)
    timeline = text[text.index('id="timeline"'):]
    assert "<strong>Classify</strong>" in timeline and "Reported → Classified" in timeline
    assert "李值班" in timeline
    # Then the assignment, with its form values.
    response = client.post(transition_url(incident, "assign"), {
        "assign-team": Team.objects.get(code="network").pk, "assign-assignee": demo["neteng"].pk})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.ASSIGNED and incident.assignee == demo["neteng"]


def test_reopen_needs_its_reason_and_logs_it(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.RESOLVED)
    client = signed_in(demo["sysadmin"])
    response = client.post(transition_url(incident, "reopen"), {"reopen-comment": "  "})
    assert response.status_code == 400
    assert "This field is required." in html(response)
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    response = client.post(transition_url(incident, "reopen"), {"reopen-comment": "It failed again at 10:05"})
    assert response.status_code == 302
    page = html(client.get(detail_url(incident)))
    assert "Resolved → Handling" in page and "It failed again at 10:05" in page


def test_missing_transition_data_is_named_and_changes_nothing(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.DIAGNOSING)
    logs = TransitionLog.objects.count()
    response = signed_in(demo["sysadmin"]).post(transition_url(incident, "start_handling"),
                                                {"start_handling-cause": "Disk full"})
    assert response.status_code == 400
    page = html(response)
    form = page[page.index('id="transition-start_handling" open'):]
    assert 'name="start_handling-scope"' in form and "This field is required." in form
    assert 'value="Disk full"' not in form  # textarea keeps the text as content
    assert "Disk full</textarea>" in form
    incident.refresh_from_db()
    assert incident.state == State.DIAGNOSING and TransitionLog.objects.count() == logs


def test_a_failed_recovery_test_goes_back_to_handling(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.RECOVERING)
    response = signed_in(demo["sysadmin"]).post(transition_url(incident, "confirm_recovery"), {
        "confirm_recovery-function_ok": "on", "confirm_recovery-function_note": "ok",
        "confirm_recovery-performance_note": "Still slow", "confirm_recovery-data_ok": "on",
        "confirm_recovery-data_note": "ok"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.HANDLING


def test_all_tests_passed_needs_a_resolution(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.RECOVERING)
    response = signed_in(demo["sysadmin"]).post(transition_url(incident, "confirm_recovery"), {
        "confirm_recovery-function_ok": "on", "confirm_recovery-function_note": "ok",
        "confirm_recovery-performance_ok": "on", "confirm_recovery-performance_note": "ok",
        "confirm_recovery-data_ok": "on", "confirm_recovery-data_note": "ok"})
    assert response.status_code == 400
    assert "Describe the resolution." in html(response)
    incident.refresh_from_db()
    assert incident.state == State.RECOVERING


def test_cancel_as_duplicate_names_the_incident(demo) -> None:  # noqa: ANN001
    original = report(demo["duty"], title="Mail down")
    duplicate = report(demo["duty"], title="Cannot send mail")
    client = signed_in(demo["duty"])
    response = client.post(transition_url(duplicate, "cancel"), {"cancel-reason": "duplicate"})
    assert response.status_code == 400 and "Name the incident this one duplicates." in html(response)
    response = client.post(transition_url(duplicate, "cancel"), {"cancel-reason": "duplicate",
                                                                 "cancel-duplicate_of": "INC-1999-000001"})
    assert response.status_code == 400 and "There is no incident INC-1999-000001 that you can see." in html(response)
    response = client.post(transition_url(duplicate, "cancel"), {"cancel-reason": "duplicate",
                                                                 "cancel-duplicate_of": original.number.lower()})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.state == State.CANCELLED and duplicate.duplicate_of == original
    page = html(client.get(detail_url(original)))
    assert "Duplicates of this incident" in page and duplicate.number in page


def test_a_transition_not_yours_is_refused_with_403_and_changes_nothing(demo) -> None:  # noqa: ANN001
    incident = report(demo["duty"], caller=demo["finance"])
    logs = TransitionLog.objects.count()
    response = signed_in(demo["finance"]).post(transition_url(incident, "classify"), {
        "classify-category": Category.objects.get(code="software").pk, "classify-impact": "1",
        "classify-urgency": "1"})
    assert response.status_code == 403
    assert "You are not allowed to perform this transition." in page_messages(response)
    assert 'class="alert alert-danger"' in html(response)
    incident.refresh_from_db()
    assert incident.state == State.REPORTED and not incident.priority and TransitionLog.objects.count() == logs


def test_a_transition_from_the_wrong_state_is_refused_with_409(demo) -> None:  # noqa: ANN001
    incident = report(demo["duty"])
    response = signed_in(demo["supervisor"]).post(transition_url(incident, "approve_report"),
                                                  {"approve_report-confirm": "on"})
    assert response.status_code == 409
    assert any("not allowed while the incident is Reported" in m for m in page_messages(response))
    incident.refresh_from_db()
    assert incident.state == State.REPORTED


def test_an_unknown_transition_is_a_400_not_an_error_page(demo) -> None:  # noqa: ANN001
    incident = report(demo["duty"])
    client = signed_in(demo["supervisor"])
    assert client.post(transition_url(incident, "explode"), {}).status_code == 400
    assert client.post(transition_url(incident, "resolve_with_parent"), {}).status_code == 400
    assert client.get(transition_url(incident, "classify")).status_code == 405
    incident.refresh_from_db()
    assert incident.state == State.REPORTED


def test_major_incident_needs_its_review_meeting_before_approval(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.HANDLING)
    supervisor = signed_in(demo["supervisor"])
    response = supervisor.post(transition_url(incident, "declare_major"), {"declare_major-confirm": "on"})
    assert response.status_code == 302
    incident = advance(Incident.objects.get(pk=incident.pk), demo, State.UNDER_REVIEW)
    page = html(supervisor.get(detail_url(incident)))
    assert 'id="major-badge"' in page
    blocked = page[page.index('id="transition-approve_report"'):]
    blocked = blocked[:blocked.index("</button>")]
    assert "transition-blocked" in page and "review meeting record" in blocked and "disabled" in blocked
    assert 'id="review-meeting"' in page
    # The engineer does not get the review form; approving without a review is refused with the reason.
    assert 'id="review-meeting"' not in html(signed_in(demo["sysadmin"]).get(detail_url(incident)))
    response = supervisor.post(transition_url(incident, "approve_report"), {"approve_report-confirm": "on"})
    assert response.status_code == 409
    assert any("review meeting record" in m for m in page_messages(response))
    # A review with a missing field is named; then a full one; then approval closes it.
    response = supervisor.post(f"/incidents/{incident.pk}/reviews/", {"review-held_on": "2026-01-05"})
    assert response.status_code == 400 and not MajorIncidentReview.objects.exists()
    assert 'name="review-causes"' in html(response)
    response = supervisor.post(f"/incidents/{incident.pk}/reviews/", {
        "review-held_on": timezone.localdate().isoformat(), "review-attendees": "陳主管, 林系統",
        "review-causes": "Listener crash", "review-lessons": "Monitor the listener",
        "review-preventive_measures": "Add a probe", "review-owners": "林系統"})
    assert response.status_code == 302 and MajorIncidentReview.objects.count() == 1
    assert signed_in(demo["sysadmin"]).post(f"/incidents/{incident.pk}/reviews/", {}).status_code == 403
    response = supervisor.post(transition_url(incident, "approve_report"), {"approve_report-confirm": "on"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.CLOSED
    page = html(supervisor.get(detail_url(incident)))
    assert "Monitor the listener" in page and 'id="review-meeting"' not in page


def test_a_review_meeting_is_only_for_a_major_incident(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"]), demo, State.HANDLING)
    client = signed_in(demo["supervisor"])
    assert 'id="review-meeting"' not in html(client.get(detail_url(incident)))
    response = client.post(f"/incidents/{incident.pk}/reviews/", {"review-held_on": "2026-01-05"})
    assert response.status_code == 400
    assert "Only a major incident has a review meeting." in page_messages(response)
    assert not MajorIncidentReview.objects.exists()


def test_closed_incident_is_read_only(demo) -> None:  # noqa: ANN001
    incident = advance(report(demo["duty"], caller=demo["finance"]), demo, State.CLOSED)
    for username in ("supervisor", "finance"):
        client = signed_in(demo[username])
        page = html(client.get(detail_url(incident)))
        assert 'id="read-only-notice"' in page
        assert "<form" not in page[page.index('id="facts"'):]
        response = client.post(f"/incidents/{incident.pk}/comments/", {"body": "one more thing"})
        assert response.status_code == 409
        assert "This record is closed and can no longer be changed." in page_messages(response)
    assert not Comment.objects.exists()


def test_comments_internal_notes_and_attachments(demo, settings, tmp_path) -> None:  # noqa: ANN001
    settings.MEDIA_ROOT = tmp_path
    incident = advance(report(demo["duty"], caller=demo["finance"]), demo, State.DIAGNOSING)
    engineer = signed_in(demo["sysadmin"])
    page = html(engineer.get(detail_url(incident)))
    assert 'name="is_internal"' in page
    engineer.post(f"/incidents/{incident.pk}/comments/", {"body": "Checked the listener log", "is_internal": "on"})
    engineer.post(f"/incidents/{incident.pk}/comments/", {"body": "We are on it"})
    response = engineer.post(f"/incidents/{incident.pk}/attachments/",
                             {"file": SimpleUploadedFile("listener.log", b"TNS-12541", "text/plain")})
    assert response.status_code == 302
    response = engineer.post(f"/incidents/{incident.pk}/attachments/",
                             {"file": SimpleUploadedFile("tool.exe", b"MZ", "application/octet-stream")})
    assert response.status_code == 400 and "are not accepted" in html(response)
    response = engineer.post(f"/incidents/{incident.pk}/comments/", {"body": " "})
    assert response.status_code == 400 and "This field is required." in html(response)

    page = html(engineer.get(detail_url(incident)))
    assert "Checked the listener log" in page and "We are on it" in page and "listener.log" in page
    download = re.search(r'href="(/attachments/\d+/)">listener\.log</a>', page)
    assert download
    finance = signed_in(demo["finance"])
    page = html(finance.get(detail_url(incident)))
    assert "We are on it" in page and "Checked the listener log" not in page
    assert 'name="is_internal"' not in page and 'id="comment-form"' in page
    assert finance.get(download.group(1)).status_code == 200
    assert signed_in(demo["auditor"]).post(f"/incidents/{incident.pk}/comments/", {"body": "x"}).status_code == 403


def _detail_queries(client: Client, incident: Incident) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(detail_url(incident))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("username", "state"), [
    ("supervisor", State.HANDLING), ("sysadmin", State.HANDLING), ("duty", State.CLASSIFIED),
    ("finance", State.RESOLVED),
])
def test_detail_query_count_does_not_grow_with_the_timeline(demo, settings, tmp_path, username,  # noqa: ANN001
                                                            state, django_assert_num_queries) -> None:
    settings.MEDIA_ROOT = tmp_path
    from opscenter.core.services import attachment_add

    incident = advance(report(demo["duty"], caller=demo["finance"]), demo, state)
    client = signed_in(demo[username])
    client.get(detail_url(incident))
    short = _detail_queries(client, incident)
    for n in range(15):
        comment_add(incident, user=demo["sysadmin"], body=f"note {n}", is_internal=n % 2 == 0)
        attachment_add(incident, user=demo["sysadmin"],
                       upload=SimpleUploadedFile(f"f{n}.txt", b"x", "text/plain"))
    if state != State.RESOLVED:  # and a longer transition log
        incident = incident_transition(incident, "hold", user=demo["supervisor"], data={"reason": "vendor"})
        incident = incident_transition(incident, "resume", user=demo["supervisor"])
    long = _detail_queries(client, incident)
    assert short == long
    with django_assert_num_queries(DETAIL_QUERIES[username]):
        client.get(detail_url(incident))


# the user (the session comes from the cache), roles, (teams: whom the incidents visible to them depend on, and the
# security-team check; not for a supervisor), the unread count, incident (joined with category, service, team and
# assignee, and with its department, its people and its configuration item: incidents.selectors.DETAIL_JOINED; its
# parent and original of a duplicate are read only when it has them), relations, the timeline (1: the core_timeline
# view), plus the choices of the forms shown (the duty officer's assignment form: teams, engineers and their teams); and
# the sections other apps add through the kernel's registry: the SLA clocks with their calendars (1: a calendar's hours
# and exceptions are read once per process and version of the calendar), and the changes linked to the incident (1); for
# IT staff, the problems it is linked to (1) and the published known errors that may apply (1: those alike to its title
# or of its problems, CI or service, which are alike and on what the published ones are recorded being kept in the cache
# until a known error changes; a department user reads neither); a department user's navigation counts the surveys
# waiting (1).
SECTION_QUERIES = 2
PROBLEM_QUERIES = 2
DETAIL_QUERIES = {"supervisor": 8 + SECTION_QUERIES + PROBLEM_QUERIES,
                  "sysadmin": 6 + SECTION_QUERIES + PROBLEM_QUERIES,
                  "duty": 9 + SECTION_QUERIES + PROBLEM_QUERIES, "finance": 8 + SECTION_QUERIES}


# --- Report a fault ----------------------------------------------------------------------------------------


def test_report_form_for_staff_and_for_departments(demo) -> None:  # noqa: ANN001
    for username in ("duty", "sysadmin", "supervisor"):
        page = html(signed_in(demo[username]).get(REPORT))
        for name in ("caller", "caller_name", "caller_contact", "channel", "title", "description", "occurred_at",
                     "impact_scope", "service", "configuration_item", "department"):
            assert f'name="{name}"' in page, (username, name)
    page = html(signed_in(demo["finance"]).get(REPORT))
    for name in ("title", "description", "occurred_at", "impact_scope", "service"):
        assert f'name="{name}"' in page
    for name in ("caller", "channel", "caller_name", "department", "configuration_item"):
        assert f'name="{name}"' not in page
    now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'value="{now}' in page  # “when” defaults to now, in the center's time zone


def test_report_form_names_missing_fields_and_creates_nothing(demo) -> None:  # noqa: ANN001
    response = signed_in(demo["duty"]).post(REPORT, {"occurred_at": ""})
    assert response.status_code == 400
    page = html(response)
    summary = page[page.index('id="report-errors"'):]
    summary = summary[:summary.index("</div>")]
    for label in ("Title", "Phenomenon", "Time it happened", "Impact scope", "Channel", "Caller name"):
        assert f">{label}</a>" in summary, label
    assert not Incident.objects.exists()
    response = signed_in(demo["finance"]).post(REPORT, {"title": "Printer broken"})
    assert response.status_code == 400 and not Incident.objects.exists()
    assert 'value="Printer broken"' in html(response)


def test_report_refuses_a_future_time_and_a_ci_of_another_service(demo) -> None:  # noqa: ANN001
    from opscenter.core.models import ConfigurationItem

    client = signed_in(demo["duty"])
    data = {"channel": "phone", "caller_name": "Mr Wang", "title": "Mail slow", "description": "Slow",
            "impact_scope": "All", "service": Service.objects.get(code="email").pk,
            "occurred_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "configuration_item": ConfigurationItem.objects.get(asset_tag="PC-0101").pk}
    response = client.post(REPORT, data)
    assert response.status_code == 400
    page = html(response)
    assert "This configuration item does not support the service." in page
    assert not Incident.objects.exists()
    data["configuration_item"] = ConfigurationItem.objects.get(asset_tag="SRV-0003").pk
    response = client.post(REPORT, data)
    assert response.status_code == 400 and "cannot be in the future" in html(response)
    assert not Incident.objects.exists()


def test_duty_officer_records_a_phone_call_for_a_caller(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    response = client.post(REPORT, {
        "caller": demo["finance"].username, "caller_contact": "ext. 3021", "channel": "phone",
        "title": "Ledger cannot post vouchers", "description": "Error 500 on posting",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "impact_scope": "Finance",
        "service": Service.objects.get(code="finance-ledger").pk})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(incident)
    assert incident.caller == demo["finance"] and incident.created_by == demo["duty"]
    assert incident.department.code == "finance" and incident.channel == Channel.PHONE
    page = client.get(detail_url(incident))
    assert f"{incident.number} was recorded." in page_messages(page)


def test_department_user_reports_for_themselves_on_the_web(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["finance"])
    response = client.post(REPORT, {
        "title": "<script>alert(1)</script> printer", "description": "Paper jam",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "impact_scope": "3F",
        "channel": "phone", "caller_name": "Someone else"})  # ignored: not on this form
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.caller == demo["finance"] and incident.channel == Channel.WEB
    assert incident.department.code == "finance"
    page = html(client.get(detail_url(incident)))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; printer" in page and "<script>alert" not in page


def test_configuration_items_follow_the_service(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    options = html(client.get("/incidents/report/configuration-items/",
                              {"service": Service.objects.get(code="email").pk}))
    assert "mail-01 (Exchange)" in options and "erp-app-01" not in options
    page = html(client.get(REPORT))
    assert 'hx-get="/incidents/report/configuration-items/"' in page


# --- The summary -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["supervisor", "sysadmin", "duty", "finance", "auditor"])
def test_summary_renders_for_each_role(demo, username) -> None:  # noqa: ANN001
    advance(report(demo["duty"], caller=demo["finance"]), demo, State.RESOLVED)
    response = signed_in(demo[username]).get(SUMMARY)
    assert response.status_code == 200
    page = html(response)
    for text in ("Incident summary", "MTTA", "MTTR", "By category", "By priority", "By state",
                 "Services with the most incidents", "Download CSV"):
        assert text in page, text


def test_summary_counts_times_and_csv_with_department_visibility(demo) -> None:  # noqa: ANN001
    now = timezone.now()
    ours = advance(report(demo["duty"], caller=demo["finance"]), demo, State.RESOLVED)
    Incident.objects.filter(pk=ours.pk).update(created_at=now - timedelta(hours=2),
                                               first_response_at=now - timedelta(hours=1, minutes=30),
                                               resolved_at=now - timedelta(minutes=15))
    hr = Department.objects.get(code="hr")
    report(demo["duty"], title="HR only", department=hr, service=Service.objects.get(code="hr-payroll"))
    # From the local day the first was reported (two hours ago: yesterday when the test runs just after midnight).
    period = {"start": timezone.localdate(now - timedelta(hours=2)).isoformat(),
              "end": timezone.localdate().isoformat()}

    supervisor = signed_in(demo["supervisor"]).get(SUMMARY, period)
    assert supervisor.context["summary"]["total"] == 2
    page = html(supervisor)
    assert '<div class="h1 mb-0" id="summary-mtta">30 min</div>' in page
    assert '<div class="h1 mb-0" id="summary-mttr">1 h 45 min</div>' in page
    assert "人事薪資系統" in page

    finance = signed_in(demo["finance"])
    response = finance.get(SUMMARY, period)
    assert response.context["summary"]["total"] == 1
    assert "人事薪資系統" not in html(response)
    response = finance.get(SUMMARY, {**period, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "key", "label", "value"]
    assert ["total", "", "", "1"] in rows
    assert ["mttr_minutes", "", "", "105.0"] in rows
    assert ["service", "erp", "ERP 企業資源規劃系統", "1"] in rows
    assert not any("hr-payroll" in row for row in rows)
    supervisor_csv = signed_in(demo["supervisor"]).get(SUMMARY, {**period, "format": "csv"})
    assert ["service", "hr-payroll", "人事薪資系統", "1"] in list(
        csv.reader(io.StringIO(supervisor_csv.content.decode("utf-8-sig"))))


def test_summary_period_defaults_presets_and_bad_input(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["supervisor"])
    response = client.get(SUMMARY)
    today = timezone.localdate()
    assert response.context["start"] == today.replace(day=1) and response.context["end"] == today
    page = html(response)
    assert f'href="?start={(today - timedelta(days=6)).isoformat()}&amp;end={today.isoformat()}"' in page
    assert "Last 90 days" in page
    response = client.get(SUMMARY, {"start": "2026-02-10", "end": "2026-02-01"})
    assert response.status_code == 400 and "before its start" in html(response)
    assert client.get(SUMMARY, {"start": "yesterday"}).status_code == 400


def test_anonymous_visitors_are_sent_to_sign_in(db) -> None:  # noqa: ANN001
    client = Client()
    for url in (LIST, REPORT, SUMMARY, "/incidents/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
