"""Identifying problems, linking incidents, the root-cause analysis as structure, the solution plan and raising a
change, through the services: what they write, and what they refuse without changing anything."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changes.choices import State as ChangeState
from incidents.tests.factories import IncidentFactory, category
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, InvalidState, NotFound, ReadOnlyRecord, TransitionForbidden
from opscenter.core.models import FieldChange, TransitionLog
from opscenter.core.selectors import ticket_timeline
from opscenter.core.tests.factories import ServiceFactory, UserFactory
from problems.analysis import worded
from problems.choices import Source, State
from problems.models import Problem, ProblemIncident
from problems.services import (
    action_update,
    problem_create,
    problem_link_incidents,
    problem_raise_change,
    problem_unlink_incident,
    problem_update,
)
from problems.tests.factories import FISHBONE, problem_in_state

pytestmark = pytest.mark.django_db


def changes_of(problem: Problem, field: str) -> list[tuple[str, str]]:
    """The field's changes on the problem's timeline, as the page words them."""
    return [(worded(field, e.record.old_value), worded(field, e.record.new_value))
            for e in ticket_timeline(problem, user=None) if e.kind == "change" and e.record.field == field]


# --- identify ---------------------------------------------------------------------------------------------


def test_a_problem_identified_from_incidents_links_them(crew) -> None:  # noqa: ANN001
    first, second = IncidentFactory(), IncidentFactory()
    problem = problem_create(user=crew.engineer, incidents=[first, second.pk, first], data={
        "title": "ERP logins time out", "description": "Every Monday."})
    links = ProblemIncident.objects.filter(problem=problem)
    assert sorted(links.values_list("incident_id", flat=True)) == sorted([first.pk, second.pk])
    assert {link.linked_by for link in links} == {crew.engineer}
    log = TransitionLog.objects.get(object_id=problem.pk, transition="identify")
    assert log.data["source"] == Source.INCIDENTS and sorted(log.data["incidents"]) == sorted(
        [first.number, second.number])


def test_identifying_from_incidents_names_one(crew) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        problem_create(user=crew.engineer, data={"title": "T", "description": "D"})
    assert "incidents" in refused.value.detail
    assert not Problem.objects.exists()


@pytest.mark.parametrize("source", [Source.MONITORING, Source.FEEDBACK])
def test_an_alarm_or_feedback_is_named(crew, source: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        problem_create(user=crew.manager, data={"title": "Disk fills", "description": "D", "source": source})
    assert "source_reference" in refused.value.detail
    problem = problem_create(user=crew.manager, data={"title": "Disk fills", "description": "D", "source": source,
                                                      "source_reference": "Zabbix trigger 4711 on erp-db-01"})
    assert (problem.source, problem.incidents.count()) == (source, 0)


def test_an_incident_the_user_cannot_see_is_not_found_and_nothing_is_made(crew) -> None:  # noqa: ANN001
    hidden = IncidentFactory(category=category("security"))  # the security team's and the supervisors' only
    with pytest.raises(NotFound) as refused:
        problem_create(user=crew.engineer, incidents=[hidden], data={"title": "T", "description": "D"})
    assert refused.value.status_code == 404
    with pytest.raises(NotFound):
        problem_create(user=crew.engineer, incidents=[10**9], data={"title": "T", "description": "D"})
    assert not Problem.objects.exists()
    # The supervisor sees it, and may name it.
    assert problem_create(user=crew.supervisor, incidents=[hidden], data={"title": "T", "description": "D"}).pk


def test_only_those_who_work_problems_identify_them(crew) -> None:  # noqa: ANN001
    for user in (UserFactory(roles=[roles.DEPARTMENT_USER]), UserFactory(roles=[roles.AUDITOR]), crew.duty):
        with pytest.raises(TransitionForbidden):
            problem_create(user=user, data={"title": "T", "description": "D", "source": Source.PROACTIVE})


def test_the_owner_works_problems(crew) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        problem_create(user=crew.manager, data={"title": "T", "description": "D", "source": Source.PROACTIVE,
                                                "owner": crew.duty})
    assert "owner" in refused.value.detail


# --- link and unlink --------------------------------------------------------------------------------------


def test_linking_is_on_the_timeline_and_a_second_link_adds_no_row(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    before = sorted(problem.incidents.values_list("number", flat=True))
    third = IncidentFactory()
    assert problem_link_incidents(problem, user=crew.other_engineer, incidents=[third]) == [third]
    assert changes_of(problem, "incidents")[-1] == (", ".join(before), ", ".join(sorted([*before, third.number])))
    records = FieldChange.objects.count()
    assert problem_link_incidents(problem, user=crew.manager, incidents=[third, third.pk]) == []
    assert ProblemIncident.objects.filter(problem=problem, incident=third).count() == 1
    assert FieldChange.objects.count() == records  # nothing changed, nothing recorded


def test_unlinking_is_on_the_timeline(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    first, second = problem.incidents.order_by("pk")
    problem_unlink_incident(problem, user=crew.engineer, incident=first)
    assert list(problem.incidents.all()) == [second]
    assert changes_of(problem, "incidents")[-1] == (", ".join(sorted([first.number, second.number])), second.number)
    with pytest.raises(NotFound):  # no longer linked
        problem_unlink_incident(problem, user=crew.engineer, incident=first)


def test_linking_an_incident_the_user_cannot_see_is_not_found(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    hidden = IncidentFactory(category=category("security"))
    records = FieldChange.objects.count()
    with pytest.raises(NotFound):
        problem_link_incidents(problem, user=crew.engineer, incidents=[IncidentFactory(), hidden])
    assert not ProblemIncident.objects.filter(incident=hidden).exists()
    assert problem.incidents.count() == 2 and FieldChange.objects.count() == records
    with pytest.raises(NotFound):
        problem_unlink_incident(problem, user=crew.engineer, incident=hidden)


def test_a_closed_problems_links_stay(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.CLOSED, crew)
    with pytest.raises(ReadOnlyRecord):
        problem_link_incidents(problem, user=crew.manager, incidents=[IncidentFactory()])
    with pytest.raises(ReadOnlyRecord):
        problem_unlink_incident(problem, user=crew.manager, incident=problem.incidents.first())


def test_department_users_and_auditors_do_not_link(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    for user in (UserFactory(roles=[roles.AUDITOR]), crew.duty):
        with pytest.raises(TransitionForbidden):
            problem_link_incidents(problem, user=user, incidents=[IncidentFactory()])


# --- the analysis as structure ------------------------------------------------------------------------------


def test_the_analysis_is_stored_as_structure_and_recorded_as_text(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    problem = problem_update(problem, user=crew.engineer, changes={
        "fishbone": {"people": ["  Night shift not trained  ", ""], "process": [], "suppliers": ["Late patch"]},
        "five_whys": [{"why": " Why? ", "because": " Because. "}, {"why": "", "because": ""}]})
    problem.refresh_from_db()
    assert problem.fishbone == {"people": ["Night shift not trained"], "suppliers": ["Late patch"]}
    assert problem.five_whys == [{"why": "Why?", "because": "Because."}]
    old, new = changes_of(problem, "fishbone")[-1]
    assert "Connection pool of 50" in old and new == "People: Night shift not trained · Suppliers: Late patch"
    assert changes_of(problem, "five_whys")[-1][1] == "1. Why? → Because."


@pytest.mark.parametrize(("changes", "where"), [
    ({"fishbone": {"peple": ["typo"]}}, ("fishbone", "peple")),
    ({"fishbone": {"people": "not a list"}}, ("fishbone", "people")),
    ({"fishbone": {"people": [1, 2]}}, ("fishbone", "people")),
    ({"fishbone": {"people": ["x" * 501]}}, ("fishbone", "people")),
    ({"fishbone": ["people"]}, ("fishbone",)),
    ({"five_whys": {"why": "x"}}, ("five_whys",)),
    ({"five_whys": [{"why": "Why?"}]}, ("five_whys", "0", "because")),
    ({"five_whys": [{"why": "Why?", "because": "So."}, {"why": "Why?", "because": "So.", "who": "me"}]},
     ("five_whys", "1", "who")),
    ({"five_whys": ["why"]}, ("five_whys", "0")),
    ({"five_whys": [{"why": "w", "because": "b"}] * 11}, ("five_whys",)),
])
def test_a_malformed_analysis_is_refused_naming_the_field(crew, changes, where) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    before = (problem.fishbone, problem.five_whys)
    records = FieldChange.objects.count()
    with pytest.raises(InvalidInput) as refused:
        problem_update(problem, user=crew.engineer, changes=changes)
    detail = refused.value.detail
    for key in where:
        assert key in detail, (key, detail)
        detail = detail[key]
    problem.refresh_from_db()
    assert (problem.fishbone, problem.five_whys) == before and FieldChange.objects.count() == records


def test_the_analysis_is_written_while_analysing_or_solving(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    with pytest.raises(InvalidInput) as refused:
        problem_update(problem, user=crew.engineer, changes={"fishbone": FISHBONE})
    assert "fishbone" in refused.value.detail
    with pytest.raises(InvalidInput):
        problem_update(problem, user=crew.engineer, changes={"state": State.CLOSED})


def test_a_duty_officer_does_not_edit(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    with pytest.raises(TransitionForbidden):
        problem_update(problem, user=crew.duty, changes={"frequency": "Daily"})


# --- the solution plan --------------------------------------------------------------------------------------


def test_an_action_is_edited_until_it_is_finished(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    action = problem.actions.get()
    due = timezone.localdate() + timedelta(days=20)
    action = action_update(action, user=crew.manager, changes={"due_date": due, "owner": crew.other_engineer})
    assert (action.due_date, action.owner) == (due, crew.other_engineer)
    assert changes_of(problem, "actions")[-1][1].endswith(f"{due.isoformat()} · Open")
    with pytest.raises(TransitionForbidden):
        action_update(action, user=crew.other_engineer, changes={"measure": "Mine now"})  # owns the action only
    with pytest.raises(InvalidInput):
        action_update(action, user=crew.manager, changes={"owner": crew.duty})


# --- raising a change -------------------------------------------------------------------------------------


def test_a_problem_raises_a_change_filled_from_it_and_linked_both_ways(crew) -> None:  # noqa: ANN001
    service = ServiceFactory()
    problem = problem_in_state(State.SOLVING, crew, service=service)
    change = problem_raise_change(problem, user=crew.engineer)
    assert change.state == ChangeState.DRAFT and change.created_by == crew.engineer
    assert change.title == problem.title and problem.number in change.purpose
    assert problem.root_cause in change.purpose
    assert list(change.services.all()) == [service]
    assert sorted(change.related_incidents.values_list("pk", flat=True)) == sorted(
        problem.incidents.values_list("pk", flat=True))
    assert list(problem.changes.all()) == [change] and list(change.problems.all()) == [problem]
    assert changes_of(problem, "changes")[-1] == ("", str(change))


def test_a_change_is_raised_by_the_owner_or_a_manager_while_analysing_or_solving(crew) -> None:  # noqa: ANN001
    with pytest.raises(InvalidState):
        problem_raise_change(problem_in_state(State.INVESTIGATING, crew), user=crew.manager)
    problem = problem_in_state(State.ANALYZING, crew)
    with pytest.raises(TransitionForbidden):
        problem_raise_change(problem, user=crew.other_engineer)
    assert problem_raise_change(problem, user=crew.manager).pk
