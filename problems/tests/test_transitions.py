"""The policy's conditions on problems and their actions, each with an allowed and a refused case, and what the
transitions leave behind (the observation window, the report's author, who is told). The matrix by state and role
is test_generated.py's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opscenter.core.demo import stepped_clock
from opscenter.core.exceptions import ConditionFailed, InvalidInput, InvalidState, TransitionForbidden
from opscenter.core.models import Notification, TransitionLog
from opscenter.core.tests.factories import UserFactory
from problems.analysis import worded
from problems.choices import ActionState, State
from problems.models import ProblemPolicy
from problems.services import action_add, action_transition, problem_transition, problem_update
from problems.tests.factories import REPORT, ActionItemFactory, problem_in_state

pytestmark = pytest.mark.django_db


def blocked(problem, name: str, user, reason: str) -> ConditionFailed:  # noqa: ANN001
    """The transition is refused by a condition of the policy (409) that says `reason`."""
    with pytest.raises(ConditionFailed) as refused:
        problem_transition(problem, name, user=user)
    assert reason in str(refused.value.detail), refused.value.detail
    return refused.value


def test_solving_needs_a_root_cause_and_a_planned_action(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.INVESTIGATING, crew)
    problem = problem_transition(problem, "analyze", user=crew.engineer)
    blocked(problem, "solve", crew.engineer, "Record the root cause")

    # A summary alone is not a root cause: the structure (a fishbone or a 5-whys chain) is required too.
    problem = problem_update(problem, user=crew.engineer, changes={"root_cause": "The pool is too small."})
    blocked(problem, "solve", crew.engineer, "Record the root cause")

    problem = problem_update(problem, user=crew.engineer, changes={"five_whys": [
        {"why": "Why do logins fail?", "because": "No connection is free."}]})
    blocked(problem, "solve", crew.engineer, "at least one action with an owner and a due date")

    # An action without an owner or a due date does not count; a dropped one neither.
    action_add(problem, user=crew.engineer, data={"measure": "Someone should look"})
    with pytest.raises(ConditionFailed):
        problem_transition(problem, "solve", user=crew.engineer)
    action_add(problem, user=crew.engineer, data={"measure": "Enlarge the pool", "owner": crew.engineer,
                                                  "due_date": timezone.localdate() + timedelta(days=3)})
    assert problem_transition(problem, "solve", user=crew.engineer).state == State.SOLVING


def test_verifying_needs_every_action_done_and_starts_the_observation_window(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    problem = problem_transition(problem, "solve", user=crew.engineer)
    blocked(problem, "verify", crew.engineer, "Every action must be done")

    action = problem.actions.get()
    action_transition(action, "complete", user=crew.engineer, data={"result": "Done"})
    ProblemPolicy.objects.update(observation_days=10)
    before = timezone.now()
    problem = problem_transition(problem, "verify", user=crew.engineer)
    assert problem.state == State.VERIFYING
    assert before <= problem.observation_started_at <= timezone.now()
    assert problem.observation_ends_at - problem.observation_started_at == timedelta(days=10)


def test_a_dropped_action_does_not_hold_verification_but_one_done_is_needed(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)  # its one action is done
    extra = action_add(problem, user=crew.manager, data={"measure": "Review the batch schedule",
                                                         "owner": crew.engineer,
                                                         "due_date": timezone.localdate()})
    with pytest.raises(ConditionFailed):
        problem_transition(problem, "verify", user=crew.engineer)
    action_transition(extra, "drop", user=crew.manager, comment="Done by the vendor's upgrade.")
    assert problem_transition(problem, "verify", user=crew.engineer).state == State.VERIFYING


def test_the_report_waits_for_the_observation_window_and_its_four_parts(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.VERIFYING, crew, observed=False)
    blocked(problem, "submit_report", crew.engineer, "observation window has not ended")

    with stepped_clock() as clock:
        clock.set(problem.observation_ends_at + timedelta(minutes=1))
        blocked(problem, "submit_report", crew.engineer, "Fill in the report")
        problem = problem_update(problem, user=crew.engineer, changes={**REPORT, "report_lessons": " "})
        with pytest.raises(ConditionFailed):
            problem_transition(problem, "submit_report", user=crew.engineer)
        problem = problem_update(problem, user=crew.engineer, changes={"report_lessons": "Alert on the pool."})
        problem = problem_transition(problem, "submit_report", user=crew.engineer)
    assert problem.state == State.UNDER_REVIEW
    assert problem.report_submitted_by == crew.engineer


def test_closing_with_open_actions_is_refused_with_the_reason(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.UNDER_REVIEW, crew)
    late = ActionItemFactory(problem=problem, owner=crew.engineer)  # an action left open, written as a row
    logs = TransitionLog.objects.count()
    refusal = blocked(problem, "approve_report", crew.manager, "Every action must be done")
    assert (refusal.status_code, refusal.code) == (409, "condition_failed")
    problem.refresh_from_db()
    assert problem.state == State.UNDER_REVIEW and TransitionLog.objects.count() == logs
    late.delete()
    assert problem_transition(problem, "approve_report", user=crew.manager).state == State.CLOSED


def test_whoever_submitted_the_report_does_not_approve_it(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.VERIFYING, crew)
    problem = problem_transition(problem, "submit_report", user=crew.manager)
    with pytest.raises(TransitionForbidden) as refused:
        problem_transition(problem, "approve_report", user=crew.manager)
    assert refused.value.code == "segregation_of_duties"
    assert problem_transition(problem, "approve_report", user=crew.supervisor).closed_at is not None


def test_returning_the_report_and_reopening_need_a_reason(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.UNDER_REVIEW, crew)
    with pytest.raises(InvalidInput) as refused:
        problem_transition(problem, "return_report", user=crew.manager)
    assert "comment" in refused.value.detail
    problem = problem_transition(problem, "return_report", user=crew.manager, comment="Name the batch job.")
    assert problem.state == State.VERIFYING
    problem = problem_transition(problem, "reopen", user=crew.engineer, comment="It happened again on Monday.")
    assert (problem.state, problem.observation_ends_at) == (State.SOLVING, None)


def test_investigating_names_an_owner_who_works_problems_and_tells_them(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.IDENTIFIED, crew, owner=None)
    outsider = UserFactory(roles=["department_user"])
    with pytest.raises(InvalidInput) as refused:
        problem_transition(problem, "investigate", user=crew.manager, data={"owner": outsider})
    assert "owner" in refused.value.detail
    problem = problem_transition(problem, "investigate", user=crew.manager, data={"owner": crew.other_engineer})
    assert problem.owner == crew.other_engineer
    assert Notification.objects.filter(recipient=crew.other_engineer, event="problem.assigned").exists()


def test_whoever_identifies_a_problem_owns_it_unless_another_is_named(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.IDENTIFIED, crew, owner=None)
    assert problem.owner == crew.manager
    assert problem_transition(problem, "investigate", user=crew.manager).owner == crew.manager


def test_the_report_goes_to_the_problem_managers(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.UNDER_REVIEW, crew)
    told = set(Notification.objects.filter(event="problem.report_submitted", ticket=problem.number)
               .values_list("recipient", flat=True))
    assert crew.manager.pk in told and crew.engineer.pk not in told


# --- actions ------------------------------------------------------------------------------------------------


def test_actions_are_worked_while_the_problem_is_analysed_or_solved(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.VERIFYING, crew)
    open_action = ActionItemFactory(problem=problem, owner=crew.engineer)
    with pytest.raises(ConditionFailed, match="analysed or solved"):
        action_transition(open_action, "start", user=crew.engineer)
    with pytest.raises(InvalidState):
        action_add(problem, user=crew.engineer, data={"measure": "Too late"})


def test_an_action_is_moved_by_its_owner_or_a_manager_and_each_step_is_on_the_problems_timeline(crew) -> None:  # noqa: ANN001, E501
    problem = problem_in_state(State.SOLVING, crew)
    action = action_add(problem, user=crew.engineer, data={
        "measure": "Move the batch to 06:00", "owner": crew.other_engineer,
        "due_date": timezone.localdate() + timedelta(days=2)})
    assert Notification.objects.filter(recipient=crew.other_engineer, event="problem.action_assigned").exists()
    stranger = UserFactory(roles=["system_engineer"])
    with pytest.raises(TransitionForbidden):
        action_transition(action, "start", user=stranger)
    with pytest.raises(TransitionForbidden):
        action_transition(action, "drop", user=crew.other_engineer, comment="Not needed")  # managers drop
    with pytest.raises(InvalidInput):
        action_transition(action, "drop", user=crew.manager)  # the reason is required
    action = action_transition(action, "start", user=crew.other_engineer)
    action = action_transition(action, "complete", user=crew.other_engineer, data={"result": "Moved."})
    assert (action.state, action.result) == (ActionState.DONE, "Moved.")
    from opscenter.core.selectors import ticket_timeline

    changes = [e.record for e in ticket_timeline(problem, user=crew.manager) if e.kind == "change"
               and e.record.field == "actions"]
    assert [worded("actions", c.new_value).split(" · ")[-1] for c in changes[-3:]] == ["Open", "In progress", "Done"]
