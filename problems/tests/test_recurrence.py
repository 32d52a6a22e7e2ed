"""Recurring incidents proposed as candidates, accepted or dismissed; a recurrence during the observation window
sending a problem back to solving (time moved with time-machine); overdue actions told once."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents.choices import State as IncidentState
from incidents.tests.factories import IncidentFactory, category
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput, InvalidState, TransitionForbidden
from opscenter.core.models import Notification, TransitionLog
from opscenter.core.tests.factories import ConfigurationItemFactory, ServiceFactory, UserFactory
from problems import tasks
from problems.candidates import candidate_accept, candidate_dismiss, candidate_list
from problems.choices import ActionState, CandidateState, State
from problems.models import ActionItem, Candidate, ProblemPolicy
from problems.notifications import ACTION_OVERDUE, RECURRED
from problems.overdue import actions_notify_overdue
from problems.recurrence import candidates_propose, fingerprint, problems_reopen_on_recurrence
from problems.tests.factories import ActionItemFactory, problem_in_state

pytestmark = pytest.mark.django_db


def policy(threshold: int = 3, window: int = 30) -> ProblemPolicy:
    current = ProblemPolicy.current()
    current.recurrence_threshold, current.recurrence_window_days = threshold, window
    current.save()
    return current


def incidents(n: int, *, service=None, ci=None, cat=None, days_ago: float = 1, **fields):  # noqa: ANN001, ANN201
    at = timezone.now() - timedelta(days=days_ago)
    return [IncidentFactory(service=service, configuration_item=ci, category=cat or category(), created_at=at,
                            **fields) for _ in range(n)]


# --- detection ---------------------------------------------------------------------------------------------


def test_the_task_run_twice_proposes_one_candidate() -> None:
    policy()
    service = ServiceFactory()
    found = incidents(3, service=service)
    assert tasks.propose_problem_candidates() == 1
    assert tasks.propose_problem_candidates() == 0
    candidate = Candidate.objects.get()
    assert candidate.state == CandidateState.PROPOSED
    assert (candidate.service, candidate.category) == (service, found[0].category)
    assert sorted(candidate.incidents.values_list("pk", flat=True)) == sorted(i.pk for i in found)
    assert candidate.fingerprint == fingerprint("service", service.pk, found[0].category_id, [i.pk for i in found])


def test_below_the_threshold_nothing_is_proposed_at_it_one_is() -> None:
    policy(threshold=4)
    service = ServiceFactory()
    incidents(3, service=service)
    assert candidates_propose() == []
    incidents(1, service=service)
    assert len(candidates_propose()) == 1


def test_only_incidents_within_the_window_count() -> None:
    policy(threshold=3, window=30)
    service = ServiceFactory()
    incidents(2, service=service, days_ago=29.9)
    incidents(1, service=service, days_ago=30.1)
    assert candidates_propose() == []
    incidents(1, service=service, days_ago=0.1)
    (candidate,) = candidates_propose()
    assert candidate.incidents.count() == 3


def test_other_categories_and_services_and_cancelled_incidents_do_not_count() -> None:
    policy()
    service = ServiceFactory()
    incidents(2, service=service)
    incidents(1, service=ServiceFactory(), cat=category())
    incidents(1, service=service, cat=category("network"))
    incidents(1, service=service, state=IncidentState.CANCELLED)
    incidents(1, service=None)
    assert candidates_propose() == []


def test_incidents_on_one_configuration_item_are_proposed() -> None:
    policy()
    ci = ConfigurationItemFactory()
    incidents(3, ci=ci)
    (candidate,) = candidates_propose()
    assert candidate.configuration_item == ci and candidate.service is None


def test_the_same_incidents_by_service_and_by_ci_are_proposed_once() -> None:
    policy()
    incidents(3, service=ServiceFactory(), ci=ConfigurationItemFactory())
    (candidate,) = candidates_propose()
    assert candidate.service is not None


def test_incidents_linked_to_a_problem_do_not_count(crew) -> None:  # noqa: ANN001
    policy()
    service = ServiceFactory()
    found = incidents(3, service=service)
    problem_in_state(State.IDENTIFIED, crew, incidents=found[:1])
    assert candidates_propose() == []


def test_a_proposed_candidate_takes_new_incidents_of_its_key() -> None:
    policy()
    service = ServiceFactory()
    incidents(3, service=service)
    (candidate,) = candidates_propose()
    incidents(1, service=service)
    assert candidates_propose() == [candidate]
    assert Candidate.objects.get().incidents.count() == 4


def test_a_dismissed_set_is_never_proposed_again(crew) -> None:  # noqa: ANN001
    policy()
    service = ServiceFactory()
    found = incidents(4, service=service)
    (candidate,) = candidates_propose()
    candidate_dismiss(candidate, user=crew.manager, reason="Planned maintenance, not a problem.")
    assert candidates_propose() == []
    # The window slides past one of them: the three left are the same incidents, still not proposed.
    type(found[0]).objects.filter(pk=found[0].pk).update(created_at=timezone.now() - timedelta(days=40))
    assert candidates_propose() == []
    # A new incident recurs: the set with it is proposed.
    incidents(1, service=service)
    (again,) = candidates_propose()
    assert again.pk != candidate.pk and again.incidents.count() == 4


# --- decisions ---------------------------------------------------------------------------------------------


@pytest.fixture
def candidate() -> Candidate:
    policy()
    incidents(3, service=ServiceFactory(), title="ERP 登入逾時")
    (made,) = candidates_propose()
    return made


@pytest.mark.parametrize("who", ["manager", "supervisor"])
def test_a_manager_accepts_a_candidate_into_a_problem_with_its_incidents(candidate, crew, who) -> None:  # noqa: ANN001
    user = getattr(crew, who)
    problem = candidate_accept(candidate, user=user)
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.ACCEPTED and candidate.problem == problem
    assert candidate.decided_by == user
    assert set(problem.incidents.all()) == set(candidate.incidents.all())
    assert (problem.service, problem.category, problem.state) == (candidate.service, candidate.category,
                                                                  State.IDENTIFIED)
    assert TransitionLog.objects.filter(object_id=candidate.pk, transition="accept", actor=user).exists()
    assert candidates_propose() == []  # linked now: not counted


@pytest.mark.parametrize("who", ["engineer", "duty"])
def test_others_may_not_accept_or_dismiss(candidate, crew, who) -> None:  # noqa: ANN001
    user = getattr(crew, who)
    with pytest.raises(TransitionForbidden):
        candidate_accept(candidate, user=user)
    with pytest.raises(TransitionForbidden):
        candidate_dismiss(candidate, user=user, reason="No.")
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.PROPOSED and candidate.problem is None


def test_a_department_user_may_not_decide_or_read(candidate) -> None:  # noqa: ANN001
    user = UserFactory(roles=[roles.DEPARTMENT_USER])
    with pytest.raises(TransitionForbidden):
        candidate_accept(candidate, user=user)
    assert not candidate_list(user=user).exists()


@pytest.mark.parametrize("first", ["accept", "dismiss"])
def test_a_decided_candidate_is_not_decided_again(candidate, crew, first) -> None:  # noqa: ANN001
    if first == "accept":
        candidate_accept(candidate, user=crew.manager)
    else:
        candidate_dismiss(candidate, user=crew.manager, reason="Known maintenance window.")
    candidate.refresh_from_db()
    with pytest.raises(InvalidState):
        candidate_accept(candidate, user=crew.supervisor)
    with pytest.raises(InvalidState):
        candidate_dismiss(candidate, user=crew.supervisor, reason="Again.")


def test_dismissing_needs_a_reason(candidate, crew) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        candidate_dismiss(candidate, user=crew.manager, reason="  ")
    assert "comment" in refused.value.detail
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.PROPOSED


def test_accepting_when_every_incident_was_linked_meanwhile_is_refused(candidate, crew) -> None:  # noqa: ANN001
    problem_in_state(State.IDENTIFIED, crew, incidents=list(candidate.incidents.all()))
    with pytest.raises(ConditionFailed):
        candidate_accept(candidate, user=crew.manager)
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.PROPOSED


# --- the observation window --------------------------------------------------------------------------------


@pytest.fixture
def verifying(crew):  # noqa: ANN001, ANN201
    """A problem on a service and category, verified now: its 14-day window runs."""
    service, cat = ServiceFactory(), category()
    problem = problem_in_state(State.VERIFYING, crew, observed=False, service=service, category=cat,
                               incidents=incidents(1, service=service, cat=cat, days_ago=3))
    assert problem.observation_ends_at > timezone.now()
    return problem


def test_a_recurrence_inside_the_window_reopens_the_problem(verifying, crew) -> None:  # noqa: ANN001
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        (incident,) = incidents(1, service=verifying.service, cat=verifying.category, days_ago=0)
        assert tasks.sweep_problem_recurrence() == 1
        assert tasks.sweep_problem_recurrence() == 0
    verifying.refresh_from_db()
    assert verifying.state == State.SOLVING and verifying.observation_ends_at is None
    log = TransitionLog.objects.get(object_id=verifying.pk, transition="reopen")
    assert log.actor is None and incident.number in log.comment
    assert Notification.objects.filter(event=RECURRED.event, recipient=crew.engineer).exists()


def test_an_incident_linked_inside_the_window_reopens_the_problem(verifying, crew) -> None:  # noqa: ANN001
    from problems.services import problem_link_incidents

    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        (incident,) = incidents(1, service=ServiceFactory(), days_ago=0)
        problem_link_incidents(verifying, user=crew.engineer, incidents=[incident])
        assert problems_reopen_on_recurrence() == [verifying.pk]
    log = TransitionLog.objects.get(object_id=verifying.pk, transition="reopen")
    assert incident.number in log.comment


def test_after_the_window_a_recurrence_does_not_reopen(verifying) -> None:  # noqa: ANN001
    days = ProblemPolicy.current().observation_days
    with time_machine.travel(timezone.now() + timedelta(days=days, hours=1), tick=False):
        incidents(1, service=verifying.service, cat=verifying.category, days_ago=0)
        assert problems_reopen_on_recurrence() == []
    verifying.refresh_from_db()
    assert verifying.state == State.VERIFYING


def test_an_incident_on_another_service_or_category_does_not_reopen(verifying) -> None:  # noqa: ANN001
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        incidents(1, service=ServiceFactory(), cat=verifying.category, days_ago=0)
        incidents(1, service=verifying.service, cat=category("network"), days_ago=0)
        assert problems_reopen_on_recurrence() == []
    verifying.refresh_from_db()
    assert verifying.state == State.VERIFYING


# --- overdue actions ---------------------------------------------------------------------------------------


def test_an_overdue_action_is_told_to_its_owner_once(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    action = ActionItem.objects.get(problem=problem)
    later = ActionItemFactory(problem=problem, due_date=timezone.localdate() + timedelta(days=20))
    assert actions_notify_overdue() == 0
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert tasks.notify_overdue_problem_actions() == 1
        assert tasks.notify_overdue_problem_actions() == 0
    sent = Notification.objects.filter(event=ACTION_OVERDUE.event)
    assert {n.recipient for n in sent if n.recipient_id} == {action.owner}
    assert later.owner not in {n.recipient for n in sent}
    action.refresh_from_db()
    assert action.overdue_notified_on is not None


def test_a_done_action_is_not_told(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    assert ActionItem.objects.get(problem=problem).state == ActionState.DONE
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert actions_notify_overdue() == 0


# --- the schedule --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "task", "minutes"), [
    ("propose-problem-candidates", tasks.propose_problem_candidates, 6),
    ("sweep-problem-recurrence", tasks.sweep_problem_recurrence, 60),
    ("notify-overdue-problem-actions", tasks.notify_overdue_problem_actions, 4),
])
def test_the_tasks_are_on_beats_schedule(entry, task, minutes) -> None:  # noqa: ANN001
    from django.conf import settings

    scheduled = settings.CELERY_BEAT_SCHEDULE[entry]
    assert scheduled["task"] == task.name and len(scheduled["schedule"].minute) == minutes


def test_an_action_due_later_and_overdue_again_is_told_again(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    action = ActionItem.objects.get(problem=problem)
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert actions_notify_overdue() == 1
        ActionItem.objects.filter(pk=action.pk).update(due_date=timezone.localdate() + timedelta(days=2))
    with time_machine.travel(timezone.now() + timedelta(days=12), tick=False):
        assert actions_notify_overdue() == 1
        assert actions_notify_overdue() == 0
