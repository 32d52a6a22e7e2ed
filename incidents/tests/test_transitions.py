"""The incident state machine as the policy states it: major incidents × every transition × every role (the
plain states are the kernel's generated matrix, test_generated.py), allowed or refused (403 not this role's, 409
not from this state or blocked by a rule), and the rules around the transitions (priority matrix, notifications,
first response, recovery tests, hold and resume, cancel, reopen, returned reports, major incidents, parents and
children, read-only closed incidents)."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from incidents.choices import CancelReason, HoldReason, Priority, State
from incidents.models import Incident, PriorityRule
from incidents.services import incident_transition, incident_update
from incidents.tests.factories import (
    Crew,
    category,
    incident_in_state,
    incident_row,
    make_crew,
    record_review,
    report,
    transition_data,
    walk,
)
from opscenter.core import roles
from opscenter.core.choices import Channel, TeamKind
from opscenter.core.exceptions import (
    ConditionFailed,
    InvalidInput,
    OpsCenterError,
    ReadOnlyRecord,
    UnknownTransition,
)
from opscenter.core.models import Notification, TransitionLog
from opscenter.core.tests.factories import TeamFactory, UserFactory
from opscenter.core.workflow import transition_names

pytestmark = pytest.mark.django_db


def logs(incident: Incident) -> list[TransitionLog]:
    return list(TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                             object_id=incident.pk).order_by("pk"))


def reload(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


# --- The matrix, written from the policy (DESIGN §4 "Incident"), not read from the model ----------------

WORKING = {State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING}
OPEN = {State.REPORTED, *WORKING, State.ON_HOLD}
BEFORE_HANDLING = {State.REPORTED, State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING}
SAME = "same state"

# Who a role is, in the policy's words. "assignee" only counts once someone is assigned.
SUPERVISOR, DUTY, ENGINEER, ASSIGNEE, CALLER = "supervisor", "duty officer", "engineer", "assignee", "caller"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str
    who: frozenset[str]


def rule(sources, target: str, *who: str) -> Rule:  # noqa: ANN001
    return Rule(frozenset(sources), target, frozenset(who))


POLICY: dict[str, Rule] = {
    "classify": rule({State.REPORTED}, State.CLASSIFIED, DUTY, ENGINEER, SUPERVISOR),
    # Whoever classifies may change the priority while the incident is worked (on hold included); a resolved
    # incident keeps the priority it was resolved under (reopen it first).
    "reclassify": rule(WORKING | {State.ON_HOLD}, SAME, DUTY, ENGINEER, SUPERVISOR),
    "assign": rule({State.CLASSIFIED}, State.ASSIGNED, DUTY, SUPERVISOR),
    "reassign": rule(WORKING - {State.CLASSIFIED}, SAME, DUTY, SUPERVISOR),
    "start_diagnosis": rule({State.ASSIGNED}, State.DIAGNOSING, ASSIGNEE),
    "start_handling": rule({State.DIAGNOSING}, State.HANDLING, ASSIGNEE),
    "restore": rule({State.HANDLING}, State.RECOVERING, ASSIGNEE),
    "confirm_recovery": rule({State.RECOVERING}, State.RESOLVED, ASSIGNEE),
    # The supervisor may also submit the report (the model's choice; the policy names the assignee).
    "submit_report": rule({State.RESOLVED}, State.UNDER_REVIEW, ASSIGNEE, SUPERVISOR),
    "approve_report": rule({State.UNDER_REVIEW}, State.CLOSED, SUPERVISOR),
    "return_report": rule({State.UNDER_REVIEW}, State.RESOLVED, SUPERVISOR),
    "hold": rule(WORKING, State.ON_HOLD, ASSIGNEE, DUTY, SUPERVISOR),
    "resume": rule({State.ON_HOLD}, State.HANDLING, ASSIGNEE, DUTY, SUPERVISOR),  # held from handling
    "cancel": rule(BEFORE_HANDLING, State.CANCELLED, DUTY, SUPERVISOR),
    "reopen": rule({State.RESOLVED, State.UNDER_REVIEW}, State.HANDLING, ASSIGNEE, DUTY, SUPERVISOR, CALLER),
    "declare_major": rule(OPEN, SAME, SUPERVISOR),
}


@dataclass(frozen=True)
class Situation:
    """A state the matrix starts from; major ones check the rules that only major incidents meet."""

    key: str
    state: str
    major: bool = False


# Every plain state × transition × role is the kernel's generated matrix (test_generated.py, through the API);
# here the situations only major incidents meet, through the service.
SITUATIONS = [
    Situation("major_handling", State.HANDLING, major=True),
    Situation("major_under_review_unreviewed", State.UNDER_REVIEW, major=True),
    Situation("major_under_review_reviewed", State.UNDER_REVIEW, major=True),
]
ROLES = ["supervisor", "duty_officer", "assignee", "other_engineer", "caller", "auditor"]
ASSIGNED_STATES = {State.ASSIGNED, State.DIAGNOSING, State.HANDLING, State.RECOVERING, State.RESOLVED,
                   State.UNDER_REVIEW, State.CLOSED, State.ON_HOLD}


def policy_names(role: str, situation: Situation) -> set[str]:
    """The policy's names for a role in this situation."""
    assigned = situation.state in ASSIGNED_STATES
    return {
        "supervisor": {SUPERVISOR},
        "duty_officer": {DUTY},
        "assignee": {ENGINEER, ASSIGNEE} if assigned else {ENGINEER},
        "other_engineer": {ENGINEER},
        "caller": {CALLER},
        "auditor": set(),
    }[role]


def expected(situation: Situation, name: str, role: str) -> tuple[int, str]:
    """(HTTP status, state or error code) the policy gives."""
    policy = POLICY[name]
    if situation.state not in policy.sources:
        return 409, "invalid_state"
    if not policy.who & policy_names(role, situation):
        return 403, "permission_denied"
    if name == "approve_report" and situation.key == "major_under_review_unreviewed":
        return 409, "condition_failed"
    if name == "declare_major" and situation.major:
        return 409, "condition_failed"
    return 200, situation.state if policy.target == SAME else policy.target


def test_the_policy_covers_every_public_transition() -> None:
    public = [n for n in transition_names(Incident) if n != "resolve_with_parent"]
    assert sorted(public) == sorted(POLICY)


@pytest.fixture
def crew() -> Crew:
    return make_crew()


@dataclass
class World:
    """One incident per situation and one user per role, built once for the whole matrix."""

    crew: Crew
    users: dict[str, Any]
    incidents: dict[str, int]


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """Built inside a transaction of its own that is rolled back after the class: every test of the
    matrix runs in a savepoint inside it, so walking 14 incidents happens once, not 1,000 times."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        crew = make_crew()
        other = UserFactory(roles=[roles.NETWORK_ENGINEER])
        TeamFactory(kind=TeamKind.NETWORK).members.add(other)
        users = {"supervisor": crew.supervisor, "duty_officer": crew.duty, "assignee": crew.engineer,
                 "other_engineer": other, "caller": crew.caller, "auditor": UserFactory(roles=[roles.AUDITOR])}
        incidents = {s.key: incident_in_state(s.state, crew=crew, major=s.major,
                                              reviewed=s.key == "major_under_review_reviewed").pk
                     for s in SITUATIONS}
    yield World(crew, users, incidents)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


class TestMatrix:
    """Each case runs in a savepoint rolled back afterwards; the incident is read fresh every time."""

    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("name", sorted(POLICY))
    @pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: s.key)
    def test_transition(self, world: World, situation: Situation, name: str, role: str) -> None:
        incident = Incident.objects.get(pk=world.incidents[situation.key])
        assert (incident.state, incident.is_major) == (situation.state, situation.major)
        user = world.users[role]
        history = TransitionLog.objects.count()  # any new log anywhere would show
        status, outcome = expected(situation, name, role)
        data, comment = transition_data(world.crew, name)

        if status == 200:
            moved = incident_transition(incident, name, user=user, comment=comment, data=data)
            assert moved.state == outcome
            assert Incident.objects.values_list("state", flat=True).get(pk=incident.pk) == outcome
            assert TransitionLog.objects.count() == history + 1
            log = logs(incident)[-1]
            assert (log.transition, log.source_state, log.target_state, log.actor_id) == (
                name, situation.state, outcome, user.pk)
            return
        with pytest.raises(OpsCenterError) as refused:
            incident_transition(incident, name, user=user, comment=comment, data=data)
        assert (refused.value.status_code, refused.value.code) == (status, outcome), refused.value.detail
        assert Incident.objects.values_list("state", "updated_at", "is_major").get(pk=incident.pk) == (
            incident.state, incident.updated_at, incident.is_major)
        assert TransitionLog.objects.count() == history


# --- Classification and the priority matrix -----------------------------------------------------------------


@pytest.mark.parametrize(("impact", "urgency", "priority"), [
    (1, 1, "P1"), (1, 2, "P2"), (2, 1, "P2"), (1, 3, "P3"), (2, 2, "P3"), (3, 1, "P3"), (2, 3, "P4"), (3, 2, "P4"),
    (3, 3, "P4"),
])
def test_classify_takes_the_priority_from_the_matrix(crew: Crew, impact: int, urgency: int, priority: str) -> None:
    incident = incident_in_state(State.CLASSIFIED, crew=crew, impact=impact, urgency=urgency)
    assert (incident.impact, incident.urgency, incident.priority) == (impact, urgency, priority)
    assert incident.category == category("software") and incident.classified_at is not None


def test_a_matrix_edit_applies_to_new_classifications_only(crew: Crew) -> None:
    earlier = incident_in_state(State.CLASSIFIED, crew=crew, impact=2, urgency=2)
    assert earlier.priority == Priority.P3
    PriorityRule.objects.filter(impact=2, urgency=2).update(priority=Priority.P2)

    later = incident_in_state(State.CLASSIFIED, crew=crew, impact=2, urgency=2)
    assert later.priority == Priority.P2
    assert reload(earlier).priority == Priority.P3


def test_classification_needs_a_matrix_cell(crew: Crew) -> None:
    PriorityRule.objects.filter(impact=1, urgency=1).delete()
    incident = report(crew)
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "classify", user=crew.duty,
                            data={"category": category("network"), "impact": 1, "urgency": 1})
    assert "impact" in refused.value.detail
    assert reload(incident).state == State.REPORTED and len(logs(incident)) == 1


def urgent_notifications() -> list[Notification]:
    return list(Notification.objects.filter(event="incident.urgent", channel=Channel.IN_APP))


@pytest.mark.parametrize(("impact", "urgency", "priority"), [(1, 1, "P1"), (1, 2, "P2")])
def test_urgent_classification_notifies_the_responsible_team_and_supervisors_at_once(  # noqa: ANN001
    crew: Crew, django_capture_on_commit_callbacks, impact: int, urgency: int, priority: str
) -> None:
    network = category("network")
    network.default_team = crew.team
    network.save()
    colleague = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    crew.team.members.add(colleague)
    outsider = UserFactory(roles=[roles.NETWORK_ENGINEER])
    incident = report(crew)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        classified = incident_transition(incident, "classify", user=crew.duty,
                                         data={"category": network, "impact": impact, "urgency": urgency})
    assert classified.priority == priority
    rows = urgent_notifications()
    assert {row.recipient for row in rows} == {crew.engineer, colleague, crew.supervisor}
    assert outsider not in {row.recipient for row in rows}
    assert all(row.payload["priority"] == priority and row.payload["id"] == incident.pk for row in rows)
    assert callbacks, "delivery is queued after commit"
    assert {row.status for row in Notification.objects.filter(event="incident.urgent")} == {"sent"}


def test_lower_priority_classification_notifies_nobody_and_sets_the_assignment_deadline(  # noqa: ANN001
    crew: Crew, django_capture_on_commit_callbacks, settings
) -> None:
    incident = report(crew)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        classified = incident_transition(incident, "classify", user=crew.duty,
                                         data={"category": category("software"), "impact": 2, "urgency": 2})
    assert classified.priority == Priority.P3
    assert urgent_notifications() == [] and callbacks == []
    minutes = settings.INCIDENT_ASSIGN_WITHIN_MINUTES["P3"]
    assert (classified.assign_due_at - classified.classified_at).total_seconds() == minutes * 60


# --- Assignment and work --------------------------------------------------------------------------------------


def test_reassign_is_logged_and_keeps_the_work_where_it_is(crew: Crew) -> None:
    incident = incident_in_state(State.HANDLING, crew=crew)
    network = TeamFactory(kind=TeamKind.NETWORK)
    other = UserFactory(roles=[roles.NETWORK_ENGINEER])
    network.members.add(other)

    moved = incident_transition(incident, "reassign", user=crew.duty, comment="Switch fault, not server",
                                data={"team": network, "assignee": other})
    assert (moved.state, moved.team, moved.assignee) == (State.HANDLING, network, other)
    log = logs(incident)[-1]
    assert (log.transition, log.source_state, log.target_state, log.actor, log.comment) == (
        "reassign", State.HANDLING, State.HANDLING, crew.duty, "Switch fault, not server")
    assert log.data == {"team": network.pk, "assignee": other.pk}
    # The new assignee works it; the previous one no longer may.
    with pytest.raises(OpsCenterError) as refused:
        incident_transition(moved, "restore", user=crew.engineer, data={"measures": "x"})
    assert refused.value.status_code == 403
    assert incident_transition(moved, "restore", user=other, data={"measures": "Port reset"}).state == State.RECOVERING


def test_assign_needs_a_team_or_an_engineer_of_that_team(crew: Crew) -> None:
    incident = incident_in_state(State.CLASSIFIED, crew=crew)
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "assign", user=crew.duty, data={})
    assert "team" in refused.value.detail
    stranger = UserFactory(roles=[roles.NETWORK_ENGINEER])
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "assign", user=crew.duty, data={"team": crew.team, "assignee": stranger})
    assert "assignee" in refused.value.detail
    assert reload(incident).state == State.CLASSIFIED and [log.transition for log in logs(incident)] == [
        "report", "classify"]


def test_start_diagnosis_records_the_first_response_once(crew: Crew) -> None:
    incident = incident_in_state(State.ASSIGNED, crew=crew)
    assert incident.first_response_at is None
    diagnosing = incident_transition(incident, "start_diagnosis", user=crew.engineer)
    first = diagnosing.first_response_at
    assert first is not None
    resolved = walk(diagnosing, crew, State.RESOLVED)
    reopened = incident_transition(resolved, "reopen", user=crew.engineer, comment="Back again")
    held = incident_transition(reopened, "hold", user=crew.engineer, data={"reason": HoldReason.PARTS})
    incident_transition(held, "resume", user=crew.engineer)
    assert reload(incident).first_response_at == first


def test_team_member_takes_up_an_incident_assigned_to_the_team(crew: Crew) -> None:
    incident = incident_in_state(State.CLASSIFIED, crew=crew)
    incident = incident_transition(incident, "assign", user=crew.duty, data={"team": crew.team})
    assert incident.assignee is None
    outsider = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    with pytest.raises(OpsCenterError) as refused:
        incident_transition(incident, "start_diagnosis", user=outsider)
    assert refused.value.status_code == 403
    taken = incident_transition(incident, "start_diagnosis", user=crew.engineer)
    assert (taken.state, taken.assignee) == (State.DIAGNOSING, crew.engineer)


def test_work_records_diagnosis_and_measures(crew: Crew) -> None:
    incident = incident_in_state(State.RECOVERING, crew=crew)
    assert (incident.diagnosis_cause, incident.diagnosis_scope) == ("RAID controller failed", "All ERP users")
    assert incident.measures == "Controller replaced, array rebuilt"


@pytest.mark.parametrize("failed", ["function_ok", "performance_ok", "data_ok"])
def test_a_failed_recovery_test_sends_it_back_to_handling(crew: Crew, failed: str) -> None:
    incident = incident_in_state(State.RECOVERING, crew=crew)
    data, _comment = transition_data(crew, "confirm_recovery")
    data[failed] = False
    back = incident_transition(incident, "confirm_recovery", user=crew.engineer, data=data)
    assert back.state == State.HANDLING
    assert (back.resolved_at, back.resolution) == (None, "")
    assert back.test_function_note == "Login and orders work"
    log = logs(incident)[-1]
    assert (log.transition, log.target_state, log.data[failed]) == ("confirm_recovery", State.HANDLING, False)


def test_all_recovery_tests_passed_resolve_it(crew: Crew) -> None:
    resolved = incident_in_state(State.RESOLVED, crew=crew)
    assert (resolved.resolution, resolved.resolved_by) == ("Controller replaced", crew.engineer)
    assert resolved.resolved_at is not None
    assert (resolved.test_function_note, resolved.test_performance_note, resolved.test_data_note) == (
        "Login and orders work", "Response under 1 s", "20 orders checked")


def test_resolving_needs_a_resolution(crew: Crew) -> None:
    incident = incident_in_state(State.RECOVERING, crew=crew)
    data, _comment = transition_data(crew, "confirm_recovery")
    data["resolution"] = "  "
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "confirm_recovery", user=crew.engineer, data=data)
    assert "resolution" in refused.value.detail
    assert reload(incident).state == State.RECOVERING


# --- Hold, cancel, reopen -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(WORKING))
def test_hold_and_resume_return_to_the_state_it_left(crew: Crew, state: str) -> None:
    incident = incident_in_state(state, crew=crew)
    held = incident_transition(incident, "hold", user=crew.duty, comment="Vendor ships a part",
                               data={"reason": HoldReason.VENDOR})
    assert (held.state, held.held_from, held.hold_reason) == (State.ON_HOLD, state, HoldReason.VENDOR)
    resumed = incident_transition(held, "resume", user=crew.duty)
    assert (resumed.state, resumed.held_from, resumed.hold_reason) == (state, "", "")
    assert [log.target_state for log in logs(incident)[-2:]] == [State.ON_HOLD, state]


def test_hold_needs_a_known_reason(crew: Crew) -> None:
    incident = incident_in_state(State.HANDLING, crew=crew)
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "hold", user=crew.engineer, data={"reason": "lunch"})
    assert "hold_reason" in refused.value.detail
    assert reload(incident).state == State.HANDLING


@pytest.mark.parametrize("state", [State.HANDLING, State.RECOVERING, State.RESOLVED, State.ON_HOLD])
def test_cancel_only_before_handling(crew: Crew, state: str) -> None:
    incident = incident_in_state(state, crew=crew)
    with pytest.raises(OpsCenterError) as refused:
        incident_transition(incident, "cancel", user=crew.supervisor, data={"reason": CancelReason.FALSE_ALARM})
    assert (refused.value.status_code, refused.value.code) == (409, "invalid_state")


def test_cancel_as_duplicate_needs_the_incident_it_duplicates(crew: Crew) -> None:
    original = report(crew)
    incident = report(crew, title="ERP login fails again")
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "cancel", user=crew.duty, data={"reason": CancelReason.DUPLICATE})
    assert "duplicate_of" in refused.value.detail
    assert reload(incident).state == State.REPORTED and len(logs(incident)) == 1
    with pytest.raises(InvalidInput):
        incident_transition(incident, "cancel", user=crew.duty,
                            data={"reason": CancelReason.DUPLICATE, "duplicate_of": incident})

    cancelled = incident_transition(incident, "cancel", user=crew.duty, comment="Same call twice",
                                    data={"reason": CancelReason.DUPLICATE, "duplicate_of": original})
    assert (cancelled.state, cancelled.cancel_reason, cancelled.duplicate_of) == (
        State.CANCELLED, CancelReason.DUPLICATE, original)
    assert cancelled.is_read_only


@pytest.mark.parametrize("comment", ["", "   "])
@pytest.mark.parametrize("name", ["reopen", "return_report"])
def test_reopen_and_return_need_a_reason(crew: Crew, name: str, comment: str) -> None:
    incident = incident_in_state(State.UNDER_REVIEW, crew=crew)
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, name, user=crew.supervisor, comment=comment)
    assert refused.value.status_code == 400 and "comment" in refused.value.detail
    assert reload(incident).state == State.UNDER_REVIEW and logs(incident)[-1].transition == "submit_report"


def test_missing_reason_does_not_hide_a_refusal(crew: Crew) -> None:
    """A user who may not reopen is told so (403), not asked for a reason."""
    incident = incident_in_state(State.RESOLVED, crew=crew)
    with pytest.raises(OpsCenterError) as refused:
        incident_transition(incident, "reopen", user=UserFactory(roles=[roles.AUDITOR]), comment="")
    assert refused.value.status_code == 403


def test_reopen_with_a_reason_goes_back_to_handling(crew: Crew) -> None:
    incident = incident_in_state(State.UNDER_REVIEW, crew=crew)
    reopened = incident_transition(incident, "reopen", user=crew.caller, comment="Login fails again")
    assert (reopened.state, reopened.resolved_at, reopened.report_submitted_at) == (State.HANDLING, None, None)
    assert logs(incident)[-1].comment == "Login fails again"


def test_returned_report_goes_back_with_the_comment(crew: Crew) -> None:
    incident = incident_in_state(State.UNDER_REVIEW, crew=crew)
    returned = incident_transition(incident, "return_report", user=crew.supervisor, comment="Name the root cause")
    assert returned.state == State.RESOLVED
    assert logs(incident)[-1].comment == "Name the root cause"
    again = walk(returned, crew, State.UNDER_REVIEW)
    assert again.state == State.UNDER_REVIEW


# --- Major incidents ------------------------------------------------------------------------------------------


def test_declaring_a_major_incident_notifies_leadership(crew: Crew, django_capture_on_commit_callbacks) -> None:
    from django.contrib.auth.models import Group

    leader = UserFactory()
    leader.groups.add(Group.objects.get(name="leadership"))
    incident = incident_in_state(State.DIAGNOSING, crew=crew)
    with django_capture_on_commit_callbacks(execute=True):
        major = incident_transition(incident, "declare_major", user=crew.supervisor)
    assert (major.state, major.is_major) == (State.DIAGNOSING, True) and major.major_declared_at
    recipients = {n.recipient for n in Notification.objects.filter(event="incident.major", channel=Channel.IN_APP)}
    assert recipients == {leader, crew.supervisor}


def test_a_major_incident_is_not_closed_without_its_review_meeting(crew: Crew) -> None:
    incident = incident_in_state(State.UNDER_REVIEW, crew=crew, major=True)
    with pytest.raises(ConditionFailed) as refused:
        incident_transition(incident, "approve_report", user=crew.supervisor)
    assert refused.value.status_code == 409 and refused.value.code == "condition_failed"
    assert "review meeting" in str(refused.value.detail)
    assert reload(incident).state == State.UNDER_REVIEW

    review = record_review(incident, crew.supervisor)
    assert review.recorded_by == crew.supervisor
    closed = incident_transition(incident, "approve_report", user=crew.supervisor)
    assert closed.state == State.CLOSED and closed.closed_at is not None


def test_only_a_supervisor_records_the_review_of_a_major_incident(crew: Crew) -> None:
    incident = incident_in_state(State.UNDER_REVIEW, crew=crew, major=True)
    with pytest.raises(OpsCenterError) as refused:
        record_review(incident, crew.engineer)
    assert refused.value.status_code == 403
    ordinary = incident_in_state(State.UNDER_REVIEW, crew=crew)
    with pytest.raises(InvalidInput):
        record_review(ordinary, crew.supervisor)
    assert not incident.reviews.exists() and not ordinary.reviews.exists()


# --- Parents and children -------------------------------------------------------------------------------------


def link(child: Incident, parent: Incident) -> None:
    Incident.objects.filter(pk=child.pk).update(parent=parent)


def test_resolving_a_parent_resolves_the_children_it_works_with_its_resolution(crew: Crew) -> None:
    parent = incident_in_state(State.RECOVERING, crew=crew, title="Core switch down")
    handling = incident_in_state(State.HANDLING, crew=crew, title="Email unreachable")
    assigned = incident_in_state(State.ASSIGNED, crew=crew, title="VPN down")
    closed = incident_in_state(State.CLOSED, crew=crew, title="Old printer fault")
    for child in (handling, assigned, closed):
        link(child, parent)

    data, _comment = transition_data(crew, "confirm_recovery")
    resolved = incident_transition(parent, "confirm_recovery", user=crew.engineer,
                                   data={**data, "resolve_children": True})
    assert resolved.state == State.RESOLVED
    for child in (handling, assigned):
        child = reload(child)
        assert (child.state, child.resolution, child.resolved_by) == (State.RESOLVED, "Controller replaced",
                                                                      crew.engineer)
        log = logs(child)[-1]
        assert (log.transition, log.comment) == ("resolve_with_parent", f"Resolved with parent {parent.number}")
    assert reload(closed).state == State.CLOSED


def test_resolving_a_parent_without_resolve_children_leaves_them(crew: Crew) -> None:
    parent = incident_in_state(State.RECOVERING, crew=crew)
    child = incident_in_state(State.HANDLING, crew=crew)
    link(child, parent)
    data, _comment = transition_data(crew, "confirm_recovery")
    incident_transition(parent, "confirm_recovery", user=crew.engineer, data=data)
    assert reload(child).state == State.HANDLING


def test_parent_assignee_resolves_children_reported_or_worked_by_others(crew: Crew) -> None:
    parent = incident_in_state(State.RECOVERING, crew=crew)
    reported_child = report(crew, title="Another caller: ERP down")
    other_crew = make_crew(department=crew.department, supervisor=crew.supervisor)
    others_child = incident_in_state(State.HANDLING, crew=other_crew)
    for child in (reported_child, others_child):
        link(child, parent)
    data, _comment = transition_data(crew, "confirm_recovery")
    incident_transition(parent, "confirm_recovery", user=crew.engineer, data={**data, "resolve_children": True})
    assert {reload(c).state for c in (reported_child, others_child)} == {State.RESOLVED}


def test_resolve_with_parent_is_not_a_transition_people_request(crew: Crew) -> None:
    from opscenter.core.workflow import is_internal_transition

    assert is_internal_transition(Incident, "resolve_with_parent")
    assert not any(is_internal_transition(Incident, name) for name in POLICY)
    with pytest.raises(UnknownTransition):
        incident_transition(report(crew), "explode", user=crew.supervisor)
    with pytest.raises(UnknownTransition):
        incident_transition(incident_in_state(State.HANDLING, crew=crew), "resolve_with_parent",
                            user=crew.supervisor, data={"resolution": "x"})


# --- Read-only after closing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED])
def test_closed_and_cancelled_incidents_are_read_only(crew: Crew, state: str) -> None:
    incident = incident_in_state(state, crew=crew)
    before = reload(incident)
    with pytest.raises(ReadOnlyRecord) as refused:
        incident_update(incident, user=crew.supervisor, changes={"title": "Rewritten"})
    assert (refused.value.status_code, refused.value.code) == (409, "read_only")
    after = reload(incident)
    assert (after.title, after.updated_at) == (before.title, before.updated_at)


# --- The factories agree with the services ------------------------------------------------------------------------

ROW_FIELDS = ["state", "category_id", "impact", "urgency", "priority", "team_id", "assignee_id", "diagnosis_cause",
              "diagnosis_scope", "measures", "test_function_note", "test_performance_note", "test_data_note",
              "resolution", "resolved_by_id", "report_cause", "report_process", "report_measures", "report_result",
              "held_from", "hold_reason", "cancel_reason", "is_major", "created_by_id", "caller_id", "department_id"]
ROW_TIMES = ["classified_at", "assigned_at", "first_response_at", "resolved_at", "report_submitted_at", "closed_at",
             "major_declared_at"]


@pytest.mark.parametrize("state", State.values)
def test_a_row_written_in_a_state_matches_an_incident_walked_there(crew: Crew, state: str) -> None:
    walked = incident_in_state(state, crew=crew, major=state == State.CLOSED)
    row = incident_row(state, crew=crew, major=state == State.CLOSED)
    assert {f: getattr(row, f) for f in ROW_FIELDS} == {f: getattr(walked, f) for f in ROW_FIELDS}
    assert {f: getattr(row, f) is None for f in ROW_TIMES} == {f: getattr(walked, f) is None for f in ROW_TIMES}


# --- Gaps in the services, pinned until they are fixed ------------------------------------------------------------


def test_an_auditor_cannot_edit_an_incident_through_the_service(crew: Crew) -> None:
    incident = report(crew)
    with pytest.raises(OpsCenterError) as refused:
        incident_update(incident, user=UserFactory(roles=[roles.AUDITOR]), changes={"title": "Audited"})
    assert refused.value.status_code == 403


def test_only_an_engineer_in_a_team_can_be_assigned(crew: Crew) -> None:
    incident = incident_in_state(State.CLASSIFIED, crew=crew)
    with pytest.raises(InvalidInput):
        incident_transition(incident, "assign", user=crew.duty, data={"assignee": crew.caller})
