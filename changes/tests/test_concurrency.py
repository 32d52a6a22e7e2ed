"""Approvals racing on PostgreSQL: twenty approve requests at once on a change that needs one approval move
it once, log once and keep one vote; CAB members voting at once are all counted. They skip on a machine
without PostgreSQL and fail when CI is set."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections

from changes.choices import RiskLevel, State
from changes.models import Change, ChangeVote
from changes.services import change_transition
from changes.tests.factories import ChangeCrew, change_in_state, make_crew
from opscenter.core import roles
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import FieldChange, Notification, TransitionLog
from opscenter.core.tests.factories import UserFactory
from opscenter.core.tests.real_services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(change: Change, voters: list[Any]) -> list[str]:
    """Every voter approves at the same moment from a copy read before the race; "won" or the error code."""
    barrier = threading.Barrier(len(voters))
    outcomes: list[str] = []

    def attempt(voter: Any) -> None:
        copy = Change.objects.get(pk=change.pk)
        barrier.wait()
        try:
            change_transition(copy, "approve", user=voter, comment="Agreed.")
            outcomes.append("won")
        except OpsCenterError as exc:
            outcomes.append(f"{exc.status_code} {exc.code}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(voter,)) for voter in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == len(voters), outcomes
    return outcomes


def approve_logs(change: Change) -> list[TransitionLog]:
    return list(TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Change),
                                             object_id=change.pk, transition="approve").order_by("pk"))


def written() -> tuple[int, int, int]:
    return TransitionLog.objects.count(), ChangeVote.objects.count(), FieldChange.objects.count()


@pytest.fixture
def crew(policy_defaults) -> ChangeCrew:  # noqa: ANN001
    require_postgres()
    return make_crew()


def approvers(count: int) -> list[Any]:
    return [UserFactory(roles=[roles.CHANGE_APPROVER]) for _ in range(count)]


@pytest.mark.parametrize("voters", [lambda crew: approvers(20), lambda crew: [crew.approver] * 20],
                         ids=["twenty approvers", "one approver twenty times"])
def test_twenty_concurrent_approvals_approve_once(crew: ChangeCrew, voters: Callable) -> None:
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    assert change.approvals_required == 1
    people = voters(crew)
    before = written()
    last_note = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    outcomes = race(change, people)

    assert outcomes.count("won") == 1, outcomes
    assert set(outcomes) - {"won"} <= {"409 invalid_state", "409 concurrent_change", "409 already_voted"}, outcomes
    approved = Change.objects.get(pk=change.pk)
    assert approved.state == State.APPROVED
    (log,) = approve_logs(change)
    (vote,) = ChangeVote.objects.filter(change=change)
    assert (log.source_state, log.target_state, vote.voter_id, vote.decision) == (
        State.AWAITING_APPROVAL, State.APPROVED, log.actor_id, "approve")
    assert written() == (before[0] + 1, before[1] + 1, before[2])
    # Only the winner told the requester and the implementer: one in-app and one e-mail row each.
    events = list(Notification.objects.filter(pk__gt=last_note).values_list("event", "recipient_id", "channel"))
    assert {e for e, _r, _c in events} == {"change.approved"}
    assert len(events) == len(set(events)) == 4


def test_three_cab_members_voting_at_once_approve_once_with_three_votes(crew: ChangeCrew) -> None:
    change = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)
    assert set(change.cab_members.all()) == set(crew.cab)

    outcomes = race(change, crew.cab)

    assert outcomes == ["won"] * 3
    assert Change.objects.get(pk=change.pk).state == State.APPROVED
    assert sorted(ChangeVote.objects.filter(change=change).values_list("voter_id", flat=True)) == sorted(
        m.pk for m in crew.cab)
    logs = approve_logs(change)
    assert [log.target_state for log in logs] == [State.AWAITING_APPROVAL, State.AWAITING_APPROVAL, State.APPROVED]
