"""The change state machine as the policy states it (DESIGN §4 "Change", 變更管理流程): every situation
beyond the plain states (those are the kernel's generated matrix, test_generated.py) × every transition × every
role × change type, allowed (the state the contract names, one log row) or refused
(403 not this role's or segregation of duties, 409 not from this state or blocked by a rule, 400 not a
transition people take), a refusal changing nothing; and the main roads of the three change types."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from changes.choices import ChangeType, Outcome, RiskLevel, State, StepStatus
from changes.models import Change, ChangeStep, ChangeTemplate, ChangeVote
from changes.services import change_create, change_record_step, change_transition, change_update
from changes.tests.factories import (
    ChangeCrew,
    approved_template,
    change_in_state,
    draft_change,
    make_crew,
    open_window,
    record_review,
    request_data,
)
from changes.tests.scenarios import logs, reload
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError, ReadOnlyRecord
from opscenter.core.models import FieldChange, TransitionLog
from opscenter.core.services import perform_transition
from opscenter.core.tests.factories import UserFactory
from opscenter.core.workflow import transition_names

pytestmark = pytest.mark.django_db


# --- The matrix, written from the policy (DESIGN §4 "Change"), not read from the model -------------------

# Who a role is, in the policy's words. A CAB member is "named" only on a joint review.
REQUESTER, SUPERVISOR, APPROVER, NAMED_CAB, IMPLEMENTER = "requester", "supervisor", "approver", "named", "impl"
BY_TYPE = "by change type"
BY_VOTES = "by votes"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str
    who: frozenset[str]


def rule(sources, target: str, *who: str) -> Rule:  # noqa: ANN001
    return Rule(frozenset(sources), target, frozenset(who))


BEFORE_IMPLEMENTATION = {State.DRAFT, State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED,
                         State.SCHEDULED}
POLICY: dict[str, Rule] = {
    "submit": rule({State.DRAFT}, BY_TYPE, REQUESTER),
    "start_assessment": rule({State.SUBMITTED}, State.ASSESSING, SUPERVISOR),
    "send_back": rule({State.SUBMITTED, State.ASSESSING}, State.DRAFT, SUPERVISOR),
    "assess": rule({State.ASSESSING}, State.AWAITING_APPROVAL, SUPERVISOR),
    "approve": rule({State.AWAITING_APPROVAL}, BY_VOTES, APPROVER, NAMED_CAB),
    # The supervisor may refuse a change at assessment; approvers and named CAB members refuse it later.
    "reject": rule({State.ASSESSING, State.AWAITING_APPROVAL}, State.REJECTED, SUPERVISOR, APPROVER, NAMED_CAB),
    "schedule": rule({State.APPROVED}, State.SCHEDULED, IMPLEMENTER),
    "start": rule({State.SCHEDULED}, State.IMPLEMENTING, IMPLEMENTER),
    "fail": rule({State.IMPLEMENTING, State.VERIFYING}, State.FAILED, IMPLEMENTER),
    "roll_back": rule({State.FAILED}, State.ROLLED_BACK, IMPLEMENTER, SUPERVISOR),
    "verify": rule({State.IMPLEMENTING}, State.VERIFYING, IMPLEMENTER),
    "complete": rule({State.VERIFYING}, State.COMPLETED, IMPLEMENTER),
    "close": rule({State.COMPLETED, State.ROLLED_BACK}, State.CLOSED, SUPERVISOR),
    "cancel": rule(BEFORE_IMPLEMENTATION, State.CANCELLED, REQUESTER, SUPERVISOR),
}
INTERNAL = ["require_reapproval"]  # the system's own: a person asking for it gets 400
TRANSITIONS = sorted([*POLICY, *INTERNAL])


@dataclass(frozen=True)
class Situation:
    """A state the matrix starts from, with what else about the change matters to the rules."""

    key: str
    state: str
    change_type: str = ChangeType.NORMAL
    joint: bool = False  # high risk: a joint review by the three named CAB members
    voted: bool = False  # the role's CAB member has already voted in this round
    window_open: bool = False
    steps_done: bool = False
    reviewed: bool = False
    template: str = "approved"  # standard changes: the state of their template

    @property
    def needs_review(self) -> bool:
        return self.change_type == ChangeType.EMERGENCY or self.state == State.ROLLED_BACK


def situation(state: str, suffix: str = "", **kwargs: Any) -> Situation:
    kind = kwargs.get("change_type", ChangeType.NORMAL)
    return Situation(f"{kind}_{state}{suffix}", state, **kwargs)


NORMAL, EMERGENCY, STANDARD = ChangeType.NORMAL, ChangeType.EMERGENCY, ChangeType.STANDARD
# Every plain state × transition × role is the kernel's generated matrix (test_generated.py, through the API);
# here the situations the rules tell apart beyond the state: an open window, done steps, a review held, a joint
# review and a CAB member's vote, emergency and standard changes and their templates.
SITUATIONS = [
    situation(State.SCHEDULED, "_window_open", window_open=True),
    situation(State.IMPLEMENTING, "_steps_done", steps_done=True),
    situation(State.ROLLED_BACK, "_reviewed", reviewed=True),
    situation(State.AWAITING_APPROVAL, "_joint", joint=True),
    situation(State.AWAITING_APPROVAL, "_joint_voted", joint=True, voted=True),
    situation(State.DRAFT, change_type=EMERGENCY),
    situation(State.AWAITING_APPROVAL, change_type=EMERGENCY),
    situation(State.APPROVED, change_type=EMERGENCY),
    situation(State.COMPLETED, change_type=EMERGENCY),
    situation(State.COMPLETED, "_reviewed", change_type=EMERGENCY, reviewed=True),
    situation(State.DRAFT, change_type=STANDARD),
    situation(State.DRAFT, "_template_proposed", change_type=STANDARD, template="proposed"),
    situation(State.DRAFT, "_template_retired", change_type=STANDARD, template="retired"),
    situation(State.APPROVED, change_type=STANDARD),
]
ROLES = ["requester", "supervisor", "change_approver", "cab_member", "implementer", "other_engineer",
         "department_user", "auditor"]


def policy_names(role: str, situation: Situation) -> set[str]:
    """The policy's names for a role in this situation."""
    return {
        "requester": {REQUESTER},
        "supervisor": {SUPERVISOR},
        "change_approver": {APPROVER},
        "cab_member": {NAMED_CAB} if situation.joint else set(),
        "implementer": {IMPLEMENTER},
        "other_engineer": set(),
        "department_user": set(),
        "auditor": set(),
    }[role]


def who_decides(situation: Situation, name: str, policy: Rule) -> frozenset[str]:
    """Approvals are by change approvers, or by the named CAB members alone in a joint review; at
    assessment only the supervisor refuses."""
    if name not in ("approve", "reject"):
        return policy.who
    if situation.state == State.ASSESSING:
        return frozenset({SUPERVISOR})
    return frozenset({NAMED_CAB} if situation.joint else {APPROVER})


def refusal_code(situation: Situation, name: str, role: str) -> str:
    """Why a role is refused: the requester and the implementer never approve their change (segregation of
    duties); outsiders of a joint review are told only named members vote."""
    if name in ("approve", "reject") and role in ("requester", "implementer"):
        return "segregation_of_duties"
    if name in ("approve", "reject") and situation.joint:
        return "not_a_cab_member"
    return "permission_denied"


def target(situation: Situation, name: str, policy: Rule) -> str:
    if policy.target == BY_TYPE:  # submit
        return {NORMAL: State.SUBMITTED, EMERGENCY: State.AWAITING_APPROVAL, STANDARD: State.APPROVED}[
            situation.change_type]
    if policy.target == BY_VOTES:  # one of three CAB votes keeps it waiting; one approver approves it
        return State.AWAITING_APPROVAL if situation.joint else State.APPROVED
    return policy.target


def blocked(situation: Situation, name: str) -> str | None:
    """The error code of a policy rule that blocks an otherwise allowed transition."""
    if name == "submit" and situation.change_type == STANDARD and situation.template != "approved":
        return "condition_failed"  # a standard change comes from an approved template
    if name == "start" and not situation.window_open:
        return "condition_failed"  # not before the planned window opens
    if name == "verify" and not situation.steps_done:
        return "condition_failed"  # every step done or skipped first
    if name == "close" and situation.needs_review and not situation.reviewed:
        return "condition_failed"  # emergency and failed changes need their review
    if name in ("approve", "reject") and situation.voted:
        return "already_voted"
    return None


def expected(situation: Situation, name: str, role: str) -> tuple[int, str]:
    """(HTTP status, state reached or error code) the policy gives."""
    if name in INTERNAL:
        return 400, "unknown_transition"
    policy = POLICY[name]
    if situation.state not in policy.sources:
        return 409, "invalid_state"
    if not who_decides(situation, name, policy) & policy_names(role, situation):
        return 403, refusal_code(situation, name, role)
    code = blocked(situation, name)
    if code:
        return 409, code
    return 200, target(situation, name, policy)


def transition_data(name: str) -> tuple[dict[str, Any], str]:
    """What each transition asks for, and its comment (the reason where one is required)."""
    data = {
        "assess": {"necessity": "Vendor security fix.", "feasibility": "Tested in staging.",
                   "assessment": "Proceed in the Saturday window."},
        "schedule": {"acknowledge_conflicts": True},
        "fail": {"what_happened": "The cluster did not come back."},
        "roll_back": {"rollback_log": "Snapshot restored at 02:10."},
        "verify": {"function": "Logins work.", "performance": "As before.", "data_integrity": "Checksums match."},
        "complete": {"report": "Done as planned."},
        "close": {"review": "Report reviewed."},
    }.get(name, {})
    return data, "Reason given."


def test_the_policy_covers_every_transition() -> None:
    assert sorted(transition_names(Change)) == TRANSITIONS


def build(situation: Situation, crew: ChangeCrew) -> Change:
    """Walk a change through the real services to the situation."""
    if situation.change_type == STANDARD:
        template = approved_template(crew, name=f"Disk swap ({situation.key})")
        change = draft_change(crew, change_type=STANDARD, template=template)
        if situation.template == "retired":
            perform_transition(template, "retire", user=crew.supervisor)
        elif situation.template == "proposed":
            proposed = ChangeTemplate.objects.create(
                name=f"Proposed ({situation.key})", category="other", description="d", purpose="p", impact_scope="i",
                risk_assessment="r", risk_mitigation="m", steps=["one"], rollback_plan="r", contingency_plan="c",
                proposed_by=crew.engineer)
            Change.objects.filter(pk=change.pk).update(template=proposed)
        if situation.state == State.APPROVED:
            change = change_transition(reload(change), "submit", user=crew.requester)
        return change
    risk = RiskLevel.HIGH if situation.joint else RiskLevel.LOW
    change = change_in_state(situation.state, crew, change_type=situation.change_type, risk=risk,
                             start_in=timedelta(days=7))
    if situation.voted:
        change = change_transition(change, "approve", user=crew.cab[0], comment="Agreed.")
    if situation.window_open:
        open_window(change)
    if situation.steps_done:
        for step in change.steps.all():
            change_record_step(change, user=crew.implementer, position=step.position, status=StepStatus.DONE)
    if situation.reviewed:
        record_review(change, crew)
    return change


@dataclass
class World:
    """One change per situation and one user per role, built once for the whole matrix."""

    crew: ChangeCrew
    users: dict[str, Any]
    changes: dict[str, int]


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """Built inside a transaction of its own that is rolled back after the class: every case of the
    matrix runs in a savepoint inside it, so the changes are walked once, not thousands of times."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        crew = make_crew()
        users = {"requester": crew.requester, "supervisor": crew.supervisor, "change_approver": crew.approver,
                 "cab_member": crew.cab[0], "implementer": crew.implementer, "other_engineer": crew.engineer,
                 "department_user": UserFactory(roles=[roles.DEPARTMENT_USER]),
                 "auditor": UserFactory(roles=[roles.AUDITOR])}
        changes = {}
        for s in SITUATIONS:
            change = build(s, crew)
            assert reload(change).state == s.state, s.key
            changes[s.key] = change.pk
    yield World(crew, users, changes)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def footprint(change_id: int) -> tuple:
    """Everything a refused transition must leave as it was: the row, the logs, votes, field changes, CAB
    members and steps (plain SQL: it runs thousands of times)."""
    tables = {m: m._meta.db_table for m in (Change, TransitionLog, ChangeVote, FieldChange, ChangeStep)}
    cab = Change.cab_members.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {tables[Change]} WHERE id = %s", [change_id])
        row = cursor.fetchone()
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {tables[TransitionLog]}), (SELECT COUNT(*) FROM {tables[ChangeVote]}),"
            f" (SELECT COUNT(*) FROM {tables[FieldChange]}), (SELECT COUNT(*) FROM {cab} WHERE change_id = %s),"
            f" (SELECT COUNT(*) FROM {tables[ChangeStep]} WHERE change_id = %s AND status = 'pending')",
            [change_id, change_id])
        return row, cursor.fetchone()


def attempt(change: Change, world: World, situation: Situation, name: str, role: str, before: tuple) -> str | None:
    """Take the transition as the role (the service works on its own locked copy of the change); what
    differs from the policy, or None."""
    user = world.users[role]
    status, outcome = expected(situation, name, role)
    data, comment = transition_data(name)
    try:
        moved = change_transition(change, name, user=user, comment=comment, data=data)
    except OpsCenterError as refused:
        if (refused.status_code, refused.code) != (status, outcome):
            return f"{role}: expected {status} {outcome}, got {refused.status_code} {refused.code} {refused.detail}"
        if footprint(change.pk) != before:
            return f"{role}: the refusal changed something"
        return None
    if status != 200:
        return f"{role}: expected {status} {outcome}, but it moved to {moved.state}"
    log = logs(change)[-1]
    voted = name in ("approve", "reject") and situation.state == State.AWAITING_APPROVAL
    counts = footprint(change.pk)[1]
    got = (reload(change).state, counts[0] - before[1][0], counts[1] - before[1][1],
           (log.transition, log.source_state, log.target_state, log.actor_id))
    want = (outcome, 1, int(voted), (name, situation.state, outcome, user.pk))
    return None if got == want else f"{role}: expected {want}, got {got}"


class TestMatrix:
    """Each case runs in a savepoint rolled back afterwards; the change is read fresh every time."""

    @pytest.mark.parametrize("name", TRANSITIONS)
    @pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: s.key)
    def test_transition_by_every_role(self, world: World, situation: Situation, name: str) -> None:
        change = Change.objects.get(pk=world.changes[situation.key])
        assert (change.state, change.change_type) == (situation.state, situation.change_type)
        before = footprint(change.pk)
        wrong = []
        for role in ROLES:
            with transaction.atomic():
                wrong.append(attempt(change, world, situation, name, role, before))
                transaction.set_rollback(True)
        assert [w for w in wrong if w] == []


# --- Reasons asked for, transitions nobody asks for ---------------------------------------------------------


@pytest.fixture
def crew() -> ChangeCrew:
    return make_crew()


@pytest.mark.parametrize(("name", "state", "actor"), [
    ("send_back", State.SUBMITTED, "supervisor"), ("reject", State.AWAITING_APPROVAL, "approver"),
    ("cancel", State.DRAFT, "requester")])
@pytest.mark.parametrize("comment", ["", "   "])
def test_reject_send_back_and_cancel_need_a_reason(crew: ChangeCrew, name: str, state: str, actor: str,
                                                    comment: str) -> None:
    change = change_in_state(state, crew)
    with pytest.raises(InvalidInput) as refused:
        change_transition(change, name, user=getattr(crew, actor), comment=comment)
    assert refused.value.status_code == 400 and "comment" in refused.value.detail
    assert reload(change).state == state and len(logs(change)) == len(logs(reload(change)))


def test_a_missing_reason_does_not_hide_a_refusal(crew: ChangeCrew) -> None:
    """Someone who may not reject is told so (403), not asked for a reason."""
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    with pytest.raises(OpsCenterError) as refused:
        change_transition(change, "reject", user=crew.requester, comment="")
    assert (refused.value.status_code, refused.value.code) == (403, "segregation_of_duties")


def test_the_reason_is_kept_on_the_log_and_the_vote(crew: ChangeCrew) -> None:
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    rejected = change_transition(change, "reject", user=crew.approver, comment="Too risky this month.")
    assert rejected.state == State.REJECTED and rejected.closed_at is not None
    assert logs(change)[-1].comment == "Too risky this month."
    vote = rejected.votes.get()
    assert (vote.voter, vote.decision, vote.comment, vote.round) == (crew.approver, "reject",
                                                                     "Too risky this month.", 1)


def test_send_back_returns_the_request_to_its_requester_to_submit_again(crew: ChangeCrew) -> None:
    change = change_in_state(State.ASSESSING, crew)
    back = change_transition(change, "send_back", user=crew.supervisor, comment="Name the CIs.")
    assert back.state == State.DRAFT
    again = change_transition(back, "submit", user=crew.requester)
    assert again.state == State.SUBMITTED


def test_requesting_and_editing_a_change_send_the_kernels_ticket_signals(crew: ChangeCrew) -> None:
    from opscenter.core.signals import ticket_created, ticket_updated

    received = []

    def created(sender, instance, actor, **kwargs):  # noqa: ANN001, ANN003, ANN202
        received.append(("created", instance.pk, actor, None))

    def updated(sender, instance, fields, actor, **kwargs):  # noqa: ANN001, ANN003, ANN202
        received.append(("updated", instance.pk, actor, fields))

    ticket_created.connect(created, sender=Change)
    ticket_updated.connect(updated, sender=Change)
    try:
        change = draft_change(crew)
        other = make_crew().service
        change_update(change, user=crew.requester, changes={"services": [crew.service, other], "title": "ERP 16.4"})
    finally:
        ticket_created.disconnect(created, sender=Change)
        ticket_updated.disconnect(updated, sender=Change)
    assert received == [("created", change.pk, crew.requester, None),
                        ("updated", change.pk, crew.requester, {"services", "title"})]
    assert set(reload(change).services.all()) == {crew.service, other}
    edits = {f.field: (f.old_value, f.new_value) for f in FieldChange.objects.filter(object_id=change.pk)}
    assert edits["services"] == (str(crew.service), ", ".join(sorted([str(crew.service), str(other)])))


# --- Submitting a request -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["description", "purpose", "impact_scope", "risk_assessment", "risk_mitigation",
                                   "planned_start", "planned_end", "category"])
def test_submitting_an_incomplete_request_lists_what_is_missing(crew: ChangeCrew, field: str) -> None:
    data = request_data(crew, **{field: None if field.startswith("planned") else ""})
    if field == "planned_start":
        data["planned_end"] = None
    change = change_create(requester=crew.requester, data=data)
    with pytest.raises(InvalidInput) as refused:
        change_transition(change, "submit", user=crew.requester)
    assert field in refused.value.detail
    assert reload(change).state == State.DRAFT and len(logs(change)) == 1


def test_a_request_without_services_or_cis_is_not_submitted(crew: ChangeCrew) -> None:
    change = change_create(requester=crew.requester, data=request_data(crew, services=[]))
    with pytest.raises(InvalidInput) as refused:
        change_transition(change, "submit", user=crew.requester)
    assert "services" in refused.value.detail
    assert reload(change).state == State.DRAFT


def test_a_draft_whose_window_has_passed_is_not_submitted(crew: ChangeCrew) -> None:
    change = draft_change(crew)
    Change.objects.filter(pk=change.pk).update(planned_start=change.planned_start - timedelta(days=30),
                                               planned_end=change.planned_end - timedelta(days=30))
    with pytest.raises(InvalidInput) as refused:
        change_transition(reload(change), "submit", user=crew.requester)
    assert "planned_start" in refused.value.detail and reload(change).state == State.DRAFT


def test_a_standard_change_needs_an_approved_template(crew: ChangeCrew) -> None:
    proposed = ChangeTemplate.objects.create(
        name="Proposed", category="other", description="d", purpose="p", impact_scope="i", risk_assessment="r",
        risk_mitigation="m", steps=["one"], rollback_plan="r", contingency_plan="c", proposed_by=crew.engineer)
    for template in (None, proposed):
        with pytest.raises(InvalidInput) as refused:
            change_create(requester=crew.requester,
                          data=request_data(crew, change_type=STANDARD, template=template))
        assert "template" in refused.value.detail
    assert not Change.objects.exists()


# --- The main roads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("risk", [RiskLevel.LOW, RiskLevel.MAJOR])
def test_a_normal_change_from_request_to_close(crew: ChangeCrew, risk: str) -> None:
    change = change_in_state(State.CLOSED, crew, risk=risk)
    assert (change.state, change.outcome) == (State.CLOSED, Outcome.SUCCESSFUL)
    expected_road = ["create", "submit", "start_assessment", "assess", *(["approve"] * (3 if risk == "major" else 1)),
                     "schedule", "start", "verify", "complete", "close"]
    assert [log.transition for log in logs(change)] == expected_road
    assert change.votes.count() == (3 if risk == RiskLevel.MAJOR else 1)
    assert change.approved_at and change.scheduled_at and change.started_at and change.verified_at
    assert change.completed_at and change.closed_at and change.is_read_only


def test_a_standard_change_is_approved_when_submitted(crew: ChangeCrew) -> None:
    template = approved_template(crew)
    change = draft_change(crew, change_type=STANDARD, template=template)
    approved = change_transition(change, "submit", user=crew.requester)
    assert (approved.state, approved.risk_level, approved.approval_mode) == (State.APPROVED, RiskLevel.LOW, "")
    assert approved.approved_at and not approved.votes.exists()
    assert list(approved.steps.values_list("description", flat=True)) == [
        "Take a snapshot", "Apply the release", "Restart the cluster"]


def test_a_standard_change_copies_its_template(crew: ChangeCrew) -> None:
    template = approved_template(crew)
    data = {"title": "Disk swap in rack 4", "template": template, "planned_start": request_data(crew)["planned_start"],
            "planned_end": request_data(crew)["planned_end"]}
    change = change_create(requester=crew.requester, data=data)
    assert (change.change_type, change.category, change.description) == (
        STANDARD, template.category, template.description)
    assert list(change.steps.values_list("description", flat=True)) == template.steps


def test_an_emergency_change_goes_to_one_approver_and_is_reviewed_before_close(crew: ChangeCrew) -> None:
    change = draft_change(crew, change_type=EMERGENCY, risk=RiskLevel.MAJOR, start_in=timedelta(hours=1))
    waiting = change_transition(change, "submit", user=crew.requester)
    assert (waiting.state, waiting.approval_mode, waiting.approvals_required) == (
        State.AWAITING_APPROVAL, "approver", 1)
    assert waiting.risk_level == RiskLevel.MAJOR
    closed = change_in_state(State.CLOSED, crew, change_type=EMERGENCY, start_in=timedelta(hours=1))
    assert closed.reviews.count() == 1 and closed.state == State.CLOSED


@pytest.mark.parametrize("state", [State.REJECTED, State.CANCELLED, State.FAILED, State.ROLLED_BACK])
def test_the_roads_off_the_main_road(crew: ChangeCrew, state: str) -> None:
    assert change_in_state(state, crew).state == state


def test_a_rolled_back_change_closes_after_its_review_with_that_outcome(crew: ChangeCrew) -> None:
    change = change_in_state(State.ROLLED_BACK, crew)
    assert (change.outcome, change.rollback_log) == (Outcome.ROLLED_BACK, "Snapshot restored at 02:10; service back.")
    record_review(change, crew)
    closed = change_transition(change, "close", user=crew.supervisor, data={"review": "Lessons taken."})
    assert (closed.state, closed.outcome) == (State.CLOSED, Outcome.ROLLED_BACK)


@pytest.mark.parametrize("state", [State.CLOSED, State.REJECTED, State.CANCELLED])
def test_closed_rejected_and_cancelled_changes_are_read_only(crew: ChangeCrew, state: str) -> None:
    change = change_in_state(state, crew)
    before = Change.objects.values().get(pk=change.pk)
    with pytest.raises(ReadOnlyRecord) as refused:
        change_update(change, user=crew.supervisor, changes={"title": "Rewritten"})
    assert (refused.value.status_code, refused.value.code) == (409, "read_only")
    assert Change.objects.values().get(pk=change.pk) == before


@pytest.mark.postgres
def test_votes_are_append_only_in_the_database_too(crew: ChangeCrew) -> None:
    """A recorded approval cannot be rewritten or removed by raw SQL through the application's connection."""
    from django.db import DatabaseError

    from opscenter.core.tests.real_services import require_postgres

    require_postgres()
    change = change_in_state(State.APPROVED, crew)
    before = list(ChangeVote.objects.filter(change=change).values())
    assert before
    table = connection.ops.quote_name(ChangeVote._meta.db_table)
    for sql in (f"UPDATE {table} SET decision = 'reject'", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own rows checked as committed ones
            cursor.execute(sql)
    assert list(ChangeVote.objects.filter(change=change).values()) == before
