"""The problem candidate's state machine as the policy states it (重複發生事件 proposed by the periodic check): every
state × every decision × every role, through the service every page, API and admin uses — a problem manager or a
supervisor accepts (the problem is identified) or dismisses (with the reason) a proposed candidate; everyone else is
refused (403), a decided candidate is refused (409), a refusal changes nothing, what each person is offered agrees;
and accepting a candidate whose incidents were all linked to a problem meanwhile is a failed condition."""

from typing import Any

import pytest

from incidents.tests.factories import IncidentFactory, category
from opscenter.core import roles
from opscenter.core.testing.matrix import attempt
from opscenter.core.tests.factories import ServiceFactory, UserFactory
from opscenter.core.workflow import transition_names
from problems.candidates import candidate_accept, candidate_dismiss, candidate_transition
from problems.choices import CandidateState, State
from problems.models import Candidate
from problems.recurrence import candidates_propose
from problems.tests.factories import make_crew, problem_in_state

pytestmark = pytest.mark.django_db

PROPOSED, ACCEPTED, DISMISSED = CandidateState.PROPOSED, CandidateState.ACCEPTED, CandidateState.DISMISSED
DECIDERS = {"problem_manager", "supervisor"}
POLICY = {"accept": ({PROPOSED}, ACCEPTED, DECIDERS), "dismiss": ({PROPOSED}, DISMISSED, DECIDERS)}
ROLES = {"problem_manager": roles.PROBLEM_MANAGER, "supervisor": roles.SUPERVISOR,
         "engineer": roles.SYSTEM_ENGINEER, "duty_officer": roles.DUTY_OFFICER, "auditor": roles.AUDITOR}


def expected(state: str, name: str, role: str) -> tuple[int, str]:
    sources, target, who = POLICY[name]
    if state not in sources:
        return 409, "invalid_state"
    if role not in who:
        return 403, "permission_denied"
    return 200, target


def candidate_in(state: str) -> Candidate:
    service, cat = ServiceFactory(), category()
    for title in ("ERP 登入逾時", "ERP 系統登入逾時", "ERP 早上登入逾時"):
        IncidentFactory(service=service, category=cat, title=title)
    (candidate,) = candidates_propose()
    manager = UserFactory(roles=[roles.PROBLEM_MANAGER])
    if state == ACCEPTED:
        candidate_accept(candidate, user=manager)
    elif state == DISMISSED:
        candidate_dismiss(candidate, user=manager, reason="Each had its own cause.")
    return Candidate.objects.get(pk=candidate.pk)


def test_the_policy_covers_every_transition() -> None:
    assert sorted(transition_names(Candidate)) == sorted(POLICY)


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("name", sorted(POLICY))
@pytest.mark.parametrize("state", [PROPOSED, ACCEPTED, DISMISSED])
def test_transition_matrix(state: str, name: str, role: str) -> None:
    candidate = candidate_in(state)
    user = UserFactory(roles=[ROLES[role]])
    want = expected(state, name, role)
    data = {"title": "ERP 登入逾時反覆發生"} if name == "accept" else {}
    problem = attempt(candidate, name, user, want,
                      lambda: candidate_transition(candidate, name, user=user, comment="Not one cause.", data=data))
    assert problem is None, problem
    if want == (200, ACCEPTED):
        made = Candidate.objects.get(pk=candidate.pk).problem
        assert made.state == State.IDENTIFIED and made.incidents.count() == 3 and made.created_by == user


def test_accepting_incidents_all_linked_meanwhile_fails_its_condition_and_changes_nothing() -> None:
    candidate = candidate_in(PROPOSED)
    problem_in_state(State.IDENTIFIED, make_crew(), incidents=list(candidate.incidents.all()))
    manager = UserFactory(roles=[roles.PROBLEM_MANAGER])
    problem: Any = attempt(candidate, "accept", manager, (409, "condition_failed"),
                           lambda: candidate_accept(candidate, user=manager), offered_check=False)
    assert problem is None, problem
