"""The monthly evaluation's state machine as the policy states it (定期評估; DESIGN §4 "SLA"): every state ×
every transition × every role, allowed (the state the policy names, one log row naming who) or refused
(403 not this role's, 409 not from this state or blocked by a rule, with the rule's reason), a refusal
changing nothing; what each role is offered; and existing rows keeping valid states."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.services import perform_transition
from opscenter.core.testing import matrix
from opscenter.core.testing.matrix import class_transaction
from opscenter.core.tests.factories import DepartmentFactory, UserFactory
from opscenter.core.workflow import allowed_transition_names, transition_names
from sla.choices import EvaluationState
from sla.models import Evaluation
from sla.tests.figures import APRIL, april, explain_all

pytestmark = pytest.mark.django_db

DRAFT, PUBLISHED = EvaluationState.DRAFT, EvaluationState.PUBLISHED

# --- The matrix, written from the policy, not read from the model ----------------------------------------------

# publish: a supervisor (運維主管) publishes a draft once the month is over and every breach is explained.
POLICY = {"publish": ({DRAFT}, PUBLISHED, {"supervisor"})}
TRANSITIONS = sorted(POLICY)
ROLES = ["supervisor", "system_engineer", "duty_officer", "department_user", "auditor"]
MONTH_NOT_OVER = "A month is published once it is over."
UNEXPLAINED = "Every breach needs an explanation and a corrective action with owner and due date before the " \
              "evaluation is published."


@dataclass(frozen=True)
class Situation:
    key: str
    state: str
    month_over: bool = True
    explained: bool = True


SITUATIONS = [
    Situation("draft_ready", DRAFT),
    Situation("draft_this_month", DRAFT, month_over=False),
    Situation("draft_unexplained", DRAFT, explained=False),
    Situation("published", PUBLISHED),
]


def expected(situation: Situation, name: str, role: str) -> tuple[int, str]:
    """(HTTP status, state reached or error code, reason) the policy gives."""
    sources, target, who = POLICY[name]
    if situation.state not in sources:
        return 409, "invalid_state"
    if role not in who:
        return 403, "permission_denied"
    if not situation.month_over:
        return 409, "condition_failed"
    if not situation.explained:
        return 409, "condition_failed"
    return 200, target


def reason(situation: Situation) -> str:
    return MONTH_NOT_OVER if not situation.month_over else UNEXPLAINED if not situation.explained else ""


def test_the_policy_covers_every_transition() -> None:
    assert sorted(transition_names(Evaluation)) == TRANSITIONS


@dataclass
class World:
    users: dict[str, Any]
    evaluations: dict[str, int]


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """One evaluation per situation, built once for the class (opscenter.core.testing.matrix)."""
    with class_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            users = {role: UserFactory(roles=[role]) for role in ROLES}
            evaluations = {}
            for situation in SITUATIONS:
                if situation.month_over:
                    month = april(f"Department {situation.key}")
                    if situation.explained:
                        explain_all(month, users["supervisor"])
                    department, when = month.department, APRIL
                else:
                    department, when = DepartmentFactory(name=f"Department {situation.key}"), \
                        timezone.localdate().replace(day=1)
                evaluation = Evaluation.objects.create(department=department, month=when)
                if situation.state == PUBLISHED:
                    evaluation = perform_transition(evaluation, "publish", user=users["supervisor"])
                assert evaluation.state == situation.state
                evaluations[situation.key] = evaluation.pk
        yield World(users, evaluations)


def attempt(world: World, situation: Situation, name: str, role: str) -> str | None:
    """Take the transition as the role; what differs from the policy, or None."""
    evaluation = Evaluation.objects.get(pk=world.evaluations[situation.key])
    user = world.users[role]
    wrong = matrix.attempt(evaluation, name, user, expected(situation, name, role), reason=reason(situation),
                           act=lambda: perform_transition(evaluation, name, user=user))
    return wrong and f"{role}: {wrong}"


class TestMatrix:
    """Each case runs in a savepoint rolled back afterwards."""

    @pytest.mark.parametrize("name", TRANSITIONS)
    @pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: s.key)
    def test_transition_by_every_role(self, world: World, situation: Situation, name: str) -> None:
        wrong = []
        for role in ROLES:
            with transaction.atomic():
                wrong.append(attempt(world, situation, name, role))
                transaction.set_rollback(True)
        assert [w for w in wrong if w] == []


def test_publishing_freezes_the_figures_and_names_who() -> None:
    month = april()
    supervisor = UserFactory(roles=[roles.SUPERVISOR])
    explain_all(month, supervisor)
    evaluation = Evaluation.objects.create(department=month.department, month=APRIL)
    published = perform_transition(evaluation, "publish", user=supervisor, data={"summary": "  April.  "})
    # The two missed clocks and the service's availability below its target.
    assert (published.summary, published.published_by, len(published.figures["breach_list"])) == (
        "April.", supervisor, 3)
    with pytest.raises(AttributeError):  # protected: only a transition moves it
        published.state = DRAFT


def test_existing_rows_keep_valid_states() -> None:
    """The protected field keeps the column and its values: rows written before it load and move as before."""
    month = april()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Evaluation._meta.db_table} (department_id, month, state, summary, figures) "
                       "VALUES (%s, %s, 'draft', '', '{}')", [month.department.pk, date(2026, 4, 1)])
    evaluation = Evaluation.objects.get(department=month.department)
    assert evaluation.state in EvaluationState.values
    explain_all(month, UserFactory(roles=[roles.SUPERVISOR]))
    assert "publish" in allowed_transition_names(evaluation, UserFactory(roles=[roles.SUPERVISOR]))


@pytest.mark.parametrize("extra", [0, 3])
def test_the_evaluation_list_offers_transitions_without_a_query_per_row(api_as, django_assert_num_queries,  # noqa: ANN001
                                                                         extra: int) -> None:
    """Whether each draft's month still has an unexplained breach comes with the list, not one query per row."""
    supervisor = UserFactory(roles=[roles.SUPERVISOR])
    ready = april("Ready")
    explain_all(ready, supervisor)
    Evaluation.objects.create(department=ready.department, month=APRIL)
    for n in range(extra):
        Evaluation.objects.create(department=april(f"Unexplained {n}").department, month=APRIL)
    client = api_as(supervisor)
    client.get("/api/v1/sla/evaluations/")  # warm the role caches
    with django_assert_num_queries(4):  # the token and its user, the roles, the count, the page
        rows = client.get("/api/v1/sla/evaluations/").json()["results"]
    assert {row["department_name"]: row["available_transitions"] for row in rows} == {
        "Ready": ["publish"], **{f"Unexplained {n}": [] for n in range(extra)}}
