"""The problem pages as people use them: the queues, identifying a problem (from an incident's page too), the
problem page with its analysis, plan, links and transitions, the change and incident pages' problem sections, the
problem manager's home page — per role, with refusals and pinned query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changes.models import Change
from incidents.tests.factories import IncidentFactory, category
from opscenter.core import roles
from opscenter.core.testing.pages import html, page_messages, page_queries, signed_in
from opscenter.core.tests.factories import UserFactory
from problems.choices import ActionState, State
from problems.models import Problem
from problems.tests.factories import ActionItemFactory, problem_in_state

pytestmark = pytest.mark.django_db

LIST = "/problems/"
NEW = "/problems/new/"


def detail_url(problem: Problem, suffix: str = "") -> str:
    return f"/problems/{problem.pk}/{suffix}"


# --- the queue --------------------------------------------------------------------------------------------


def test_the_queues(crew) -> None:  # noqa: ANN001
    mine = problem_in_state(State.INVESTIGATING, crew, title="Mine to investigate")
    other = problem_in_state(State.IDENTIFIED, crew, title="Someone else's", owner=crew.other_engineer)
    closed = problem_in_state(State.CLOSED, crew, title="Long solved")
    late = problem_in_state(State.SOLVING, crew, title="Late action")
    ActionItemFactory(problem=late, owner=crew.engineer, due_date=timezone.localdate() - timedelta(days=2))
    engineer = signed_in(crew.engineer)
    page = html(engineer.get(LIST))  # an engineer starts on their own
    assert mine.number in page and other.number not in page and closed.number not in page
    page = html(signed_in(crew.manager).get(LIST))  # a problem manager on what is open
    assert all(p.number in page for p in (mine, other, late)) and closed.number not in page
    page = html(engineer.get(LIST, {"queue": "overdue"}))
    assert late.number in page and mine.number not in page and "1 overdue" in page
    page = html(engineer.get(LIST, {"queue": "all", "q": "solved"}))
    assert closed.number in page and mine.number not in page


def test_department_users_have_no_problem_pages(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    client = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert client.get(LIST).status_code == 403
    assert client.get(detail_url(problem)).status_code == 404
    assert client.get(NEW).status_code == 403
    assert "/problems/" not in html(client.get("/"))  # no navigation entry either


# --- edit (the kernel's TicketEditView) ----------------------------------------------------------------------


def test_the_edit_page_saves_through_the_service_and_refuses_by_role_state_and_visibility(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    engineer = signed_in(crew.engineer)
    page = engineer.get(detail_url(problem, "edit/"))
    assert page.status_code == 200 and 'name="title"' in html(page)
    response = engineer.post(detail_url(problem, "edit/"), {"title": "ERP logins time out on Mondays at 09:00",
                                                             "description": problem.description})
    assert response.status_code == 302 and response["Location"] == detail_url(problem)
    problem.refresh_from_db()
    assert problem.title == "ERP logins time out on Mondays at 09:00"
    assert "The problem was saved." in page_messages(engineer.get(detail_url(problem)))
    assert engineer.post(detail_url(problem, "edit/"), {"title": "", "description": "d"}).status_code == 400
    auditor = signed_in(UserFactory(roles=[roles.AUDITOR]))
    assert auditor.get(detail_url(problem, "edit/")).status_code == 403  # reads, never edits
    closed = problem_in_state(State.CLOSED, crew, title="Long solved")
    assert engineer.get(detail_url(closed, "edit/")).status_code == 403  # a closed problem is read-only
    department = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert department.get(detail_url(problem, "edit/")).status_code == 404  # not theirs to see
    assert engineer.get("/problems/999999/edit/").status_code == 404


# --- identify -------------------------------------------------------------------------------------------


def test_identify_a_problem_from_an_incident_page(crew) -> None:  # noqa: ANN001
    incident = IncidentFactory(title="ERP 登入逾時")
    client = signed_in(crew.engineer)
    incident_page = html(client.get(f"/incidents/{incident.pk}/"))
    assert 'id="incident-problems"' in incident_page and f"{NEW}?incident={incident.pk}" in incident_page
    form = client.get(NEW, {"incident": incident.pk})
    assert form.status_code == 200 and "ERP 登入逾時" in html(form) and 'id="identified-from"' in html(form)
    response = client.post(f"{NEW}?incident={incident.pk}", {
        "title": "ERP 登入逾時", "description": "Every Monday.", "source": "incidents", "incidents": [incident.pk]})
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(problem)
    assert list(problem.incidents.all()) == [incident]
    assert problem.number in html(client.get(f"/incidents/{incident.pk}/"))  # the incident shows its problem


def test_identifying_from_an_incident_the_user_cannot_see_is_404(crew) -> None:  # noqa: ANN001
    hidden = IncidentFactory(category=category("security"))
    client = signed_in(crew.engineer)
    assert client.get(NEW, {"incident": hidden.pk}).status_code == 404
    assert client.get(NEW, {"incident": "x"}).status_code == 404
    response = client.post(NEW, {"title": "T", "description": "D", "source": "incidents", "incidents": [hidden.pk]})
    assert response.status_code == 400 and not Problem.objects.exists()  # not a choice this user has


def test_identify_from_an_alarm_needs_the_alarm(crew) -> None:  # noqa: ANN001
    client = signed_in(crew.manager)
    response = client.post(NEW, {"title": "Disk fills", "description": "Nightly", "source": "monitoring"})
    assert response.status_code == 400 and "Name the alarm" in html(response) and not Problem.objects.exists()
    client.post(NEW, {"title": "Disk fills", "description": "Nightly", "source": "monitoring",
                      "source_reference": "Zabbix 4711"})
    assert Problem.objects.get().source_reference == "Zabbix 4711"


def test_department_users_see_no_problem_section_on_their_incidents(crew) -> None:  # noqa: ANN001
    department_user = UserFactory(roles=[roles.DEPARTMENT_USER])
    incident = IncidentFactory(caller=department_user, created_by=department_user)
    problem_in_state(State.IDENTIFIED, crew, incidents=[incident])
    page = html(signed_in(department_user).get(f"/incidents/{incident.pk}/"))
    assert 'id="incident-problems"' not in page


# --- the problem page -----------------------------------------------------------------------------------


def test_the_analysis_is_written_on_the_page_and_drawn_as_a_fishbone_and_a_ladder(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    client = signed_in(crew.engineer)
    client.post(detail_url(problem, "transitions/analyze/"), {"analyze-confirm": "on"})
    response = client.post(detail_url(problem, "sections/analysis/"), {
        "analysis-root_cause": "The shared pool runs dry.",
        "analysis-fishbone_technology": "Pool of 50\n\nNo saturation alert",
        "analysis-fishbone_people": "", "analysis-fishbone_process": "Batch at 09:00",
        "analysis-why_1": "Why do logins fail?", "analysis-because_1": "No free connection.",
        "analysis-why_2": "Why none free?", "analysis-because_2": "The batch holds them."})
    assert response.status_code == 302 and response["Location"].endswith("#analysis")
    problem.refresh_from_db()
    assert problem.fishbone == {"process": ["Batch at 09:00"], "technology": ["Pool of 50", "No saturation alert"]}
    assert len(problem.five_whys) == 2
    page = html(client.get(detail_url(problem)))
    assert 'id="fishbone"' in page and "No saturation alert" in page and 'id="five-whys"' in page
    # The timeline keeps the structure as data and words it for the reader.
    assert "Process: Batch at 09:00 · Technology and equipment: Pool of 50; No saturation alert" in page


def test_a_half_written_why_is_shown_again_with_the_complaint(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    response = signed_in(crew.engineer).post(detail_url(problem, "sections/analysis/"), {
        "analysis-root_cause": problem.root_cause, "analysis-why_4": "Why again?", "analysis-because_4": ""})
    assert response.status_code == 400
    assert "Please correct the fields marked below." in page_messages(response)
    assert Problem.objects.get(pk=problem.pk).five_whys == problem.five_whys


def test_plan_and_work_the_actions_on_the_page(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    client = signed_in(crew.engineer)
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    response = client.post(detail_url(problem, "actions/"), {
        "action-measure": "Alert on pool saturation", "action-owner": crew.engineer.pk, "action-due_date": due})
    assert response.status_code == 302
    action = problem.actions.get(measure="Alert on pool saturation")
    client.post(detail_url(problem, "transitions/solve/"), {"solve-confirm": "on"})
    client.post(detail_url(problem, f"actions/{action.pk}/start/"))
    client.post(detail_url(problem, f"actions/{action.pk}/complete/"), {"note": "Alert live."})
    action.refresh_from_db()
    assert (action.state, action.result) == (ActionState.DONE, "Alert live.")
    response = signed_in(crew.manager).post(detail_url(problem, f"actions/{problem.actions.first().pk}/drop/"))
    assert response.status_code == 409 or response.status_code == 400  # done already, or the reason is missing


def test_a_refused_transition_shows_the_reason(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    ActionItemFactory(problem=problem, owner=crew.engineer)
    response = signed_in(crew.engineer).post(detail_url(problem, "transitions/verify/"), {"verify-confirm": "on"})
    assert response.status_code == 409
    assert any("Every action must be done" in m for m in page_messages(response))
    page = html(signed_in(crew.engineer).get(detail_url(problem)))
    assert "transition-blocked" in page and "Every action must be done" in page


def test_link_and_unlink_on_the_page(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    third = IncidentFactory()
    client = signed_in(crew.other_engineer)
    client.post(detail_url(problem, "incidents/"), {"link-incidents": [third.pk]})
    assert problem.incidents.filter(pk=third.pk).exists()
    client.post(detail_url(problem, f"incidents/{third.pk}/unlink/"))
    assert not problem.incidents.filter(pk=third.pk).exists()
    hidden = IncidentFactory(category=category("security"))
    assert client.post(detail_url(problem, f"incidents/{hidden.pk}/unlink/")).status_code == 404
    assert signed_in(crew.duty).post(detail_url(problem, "incidents/"), {"link-incidents": [third.pk]}).status_code \
        == 403


def test_raise_a_change_from_the_page_and_see_the_problem_on_the_change(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    client = signed_in(crew.engineer)
    assert 'id="raise-change"' in html(client.get(detail_url(problem)))
    response = client.post(detail_url(problem, "raise-change/"))
    change = Change.objects.get()
    assert response["Location"] == f"/changes/{change.pk}/edit/"
    page = html(client.get(f"/changes/{change.pk}/"))
    assert 'id="change-problems"' in page and problem.number in page


def test_the_report_is_written_while_verifying(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.VERIFYING, crew, observed=False)
    client = signed_in(crew.engineer)
    page = html(client.get(detail_url(problem)))
    assert 'id="report-form"' in page and 'id="verification"' in page
    client.post(detail_url(problem, "sections/report/"), {
        "report-report_cause": "Pool", "report-report_solution": "Own pool", "report-report_result": "Quiet",
        "report-report_lessons": "Alert"})
    assert Problem.objects.get(pk=problem.pk).report_result == "Quiet"


def test_a_closed_problem_is_read_only(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.CLOSED, crew)
    client = signed_in(crew.manager)
    page = html(client.get(detail_url(problem)))
    assert 'id="read-only-notice"' in page and 'id="link-form"' not in page and 'id="analysis-form"' not in page
    response = client.post(detail_url(problem, "sections/analysis/"), {"analysis-root_cause": "Rewrite"})
    assert response.status_code == 409


# --- home page ----------------------------------------------------------------------------------------------


def test_the_problem_managers_home_page(crew) -> None:  # noqa: ANN001
    crew.manager.teams.clear()
    own = problem_in_state(State.IDENTIFIED, crew, owner=crew.manager, title="Owned by the manager")
    review = problem_in_state(State.UNDER_REVIEW, crew, title="Report to approve")
    due = problem_in_state(State.SOLVING, crew, title="Action due")
    ActionItemFactory(problem=due, owner=crew.engineer, measure="Replace the switch",
                      due_date=timezone.localdate() + timedelta(days=1))
    page = html(signed_in(crew.manager).get("/"))
    assert 'id="panel-problems-mine"' in page and own.number in page
    assert 'id="panel-problems-reports"' in page and review.number in page
    assert 'id="panel-problems-actions"' in page and "Replace the switch" in page
    assert 'href="/problems/"' in page  # the navigation entry


# --- query counts -------------------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_rows(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    problem_in_state(State.SOLVING, crew)
    client = signed_in(crew.manager)
    client.get(LIST)
    few = page_queries(client, LIST, {"queue": "all"})
    for state in (State.IDENTIFIED, State.ANALYZING, State.VERIFYING, State.CLOSED):
        problem_in_state(state, crew)
    assert page_queries(client, LIST, {"queue": "all"}) == few
    with django_assert_num_queries(LIST_QUERIES):
        client.get(LIST, {"queue": "all"})


# The user (the session comes from the cache), their roles, the unread count, the service choices of the filter
# bar, the count, the rows (joined with owner, service, CI, category and team), their actions.
LIST_QUERIES = 7


@pytest.mark.parametrize("state", [State.ANALYZING, State.SOLVING, State.VERIFYING])
def test_detail_query_count_does_not_grow(crew, state, django_assert_num_queries) -> None:  # noqa: ANN001
    from opscenter.core.services import comment_add

    problem = problem_in_state(state, crew)
    client = signed_in(crew.engineer)
    client.get(detail_url(problem))
    short = page_queries(client, detail_url(problem))
    for n in range(6):
        comment_add(problem, user=crew.manager, body=f"note {n}")
        if state != State.VERIFYING:
            ActionItemFactory(problem=problem, owner=crew.other_engineer)
    problem.incidents.add(IncidentFactory(), IncidentFactory(), through_defaults={})
    assert page_queries(client, detail_url(problem)) == short
    with django_assert_num_queries(DETAIL_QUERIES[state]):
        client.get(detail_url(problem))


# The user (the session comes from the cache), roles, the unread count, the problem (joined with its people and
# references) and its actions with their owners; the incidents the user may see (their teams' kinds, for security
# incidents, and the incidents: 2), its changes, the timeline (1: the core_timeline view); while the plan is open, the
# owners its forms offer (problem managers, engineers and supervisors, with their teams: 2, once for all the actions'
# forms); the known errors recorded from it (1).
DETAIL_QUERIES = {State.ANALYZING: 12, State.SOLVING: 12, State.VERIFYING: 10}
