"""The rules around the change transitions (變更管理制度): risk from the questionnaire and the policy's rules,
approval by risk level and joint review, segregation of duties, freeze and maintenance windows, conflicts,
frozen approved content, implementation, opinions, templates and the notifications each step writes."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from changes.choices import ApprovalMode, ChangeType, Outcome, RiskLevel, State, StepStatus, TemplateState
from changes.models import ApprovalRule, Change, ChangeVote, FreezeWindow, MaintenanceWindow, RiskOption, RiskQuestion
from changes.rules import schedule_check
from changes.services import (
    change_give_opinion,
    change_invite_opinions,
    change_record_review,
    change_record_step,
    change_transition,
    change_update,
    template_propose,
)
from changes.tests.factories import (
    ChangeCrew,
    advance,
    approved_template,
    change_in_state,
    draft_change,
    make_crew,
    open_window,
    record_review,
)
from changes.tests.scenarios import field_changes, logs, reload
from opscenter.core import roles
from opscenter.core.choices import Channel, Criticality
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import Notification
from opscenter.core.services import perform_transition
from opscenter.core.tests.factories import ConfigurationItemFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

NORMAL, EMERGENCY, STANDARD = ChangeType.NORMAL, ChangeType.EMERGENCY, ChangeType.STANDARD


@pytest.fixture
def crew() -> ChangeCrew:
    return make_crew()


def refused(call: Any, status: int, code: str) -> OpsCenterError:
    """Run the call; it must be refused with this status and code."""
    with pytest.raises(OpsCenterError) as caught:
        call()
    assert (caught.value.status_code, caught.value.code) == (status, code), caught.value.detail
    return caught.value


def take(change: Change, name: str, user: Any, **data: Any) -> Change:
    return change_transition(change, name, user=user, comment="Reason given.", data=data)


def assess(change: Change, crew: ChangeCrew, **data: Any) -> Change:
    data = {"necessity": "Needed.", "feasibility": "Feasible.", "assessment": "Go.", **data}
    return take(change, "assess", crew.supervisor, **data)


def to_assessing(crew: ChangeCrew, **kwargs: Any) -> Change:
    return change_in_state(State.ASSESSING, crew, **kwargs)


def with_roles(user: Any, *names: str) -> Any:
    user.groups.add(*Group.objects.filter(name__in=names))
    return user


def day_at(days: int, hour: int, weekday: int | None = None, first_of_month: bool = False) -> datetime:
    """A local time at least `days` ahead: on the weekday asked (0 Monday), the first of its kind in a month."""
    day = timezone.localdate() + timedelta(days=days)
    while (weekday is not None and day.weekday() != weekday) or (first_of_month and day.day > 7):
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


# --- Risk ---------------------------------------------------------------------------------------------------


@pytest.fixture
def one_question() -> dict[int, RiskOption]:
    """A questionnaire of one question whose answers weigh what the test needs."""
    RiskQuestion.objects.update(is_active=False)
    question = RiskQuestion.objects.create(text="How bad?")
    return {w: RiskOption.objects.create(question=question, label=f"w{w}", weight=w)
            for w in (0, 5, 6, 11, 12, 17, 18, 30)}


def submitted(crew: ChangeCrew, options: dict[int, RiskOption], weight: int, **kwargs: Any) -> Change:
    kwargs.setdefault("rollback_tested", True)
    answer = options[weight]
    change = draft_change(crew, risk_answers={str(answer.question_id): answer.pk}, **kwargs)
    return change_transition(change, "submit", user=crew.requester)


@pytest.mark.parametrize(("weight", "level"), [(0, "low"), (5, "low"), (6, "medium"), (11, "medium"),
                                                (12, "high"), (17, "high"), (18, "major"), (30, "major")])
def test_the_questionnaire_score_gives_the_level_of_the_approval_rules(crew, one_question, weight, level) -> None:  # noqa: ANN001
    change = submitted(crew, one_question, weight)
    assert (change.risk_score, change.computed_risk_level, change.risk_level, change.risk_reasons) == (
        weight, level, level, [])


def test_the_score_thresholds_are_edited_in_the_approval_rules(crew, one_question) -> None:  # noqa: ANN001
    ApprovalRule.objects.filter(risk_level=RiskLevel.MEDIUM).update(min_score=4)
    assert submitted(crew, one_question, 5).risk_level == RiskLevel.MEDIUM


def test_every_question_must_be_answered(crew: ChangeCrew) -> None:
    change = draft_change(crew, risk_answers={})
    error = refused(lambda: change_transition(change, "submit", user=crew.requester), 400, "invalid")
    assert "risk_answers" in error.detail and reload(change).state == State.DRAFT


@pytest.mark.parametrize(("criticality", "weight", "level", "reason"), [
    (Criticality.CRITICAL, 0, "high", "critical_service"), (Criticality.CRITICAL, 18, "major", "critical_service"),
    (Criticality.HIGH, 0, "medium", "important_service"), (Criticality.HIGH, 12, "high", "important_service"),
])
def test_the_criticality_of_a_service_raises_the_level(crew, one_question, criticality, weight, level,  # noqa: ANN001
                                                       reason) -> None:
    service = ServiceFactory(criticality=criticality)
    change = submitted(crew, one_question, weight, services=[service])
    assert (change.risk_level, change.risk_reasons) == (level, [reason])


def test_a_critical_service_behind_a_ci_counts(crew, one_question) -> None:  # noqa: ANN001
    ci = ConfigurationItemFactory()
    ci.services.add(ServiceFactory(criticality=Criticality.CRITICAL))
    change = submitted(crew, one_question, 0, configuration_items=[ci])
    assert (change.risk_level, change.risk_reasons) == (RiskLevel.HIGH, ["critical_service"])


def test_an_untested_rollback_is_at_least_medium(crew, one_question) -> None:  # noqa: ANN001
    assert submitted(crew, one_question, 0, rollback_tested=False).risk_level == RiskLevel.MEDIUM
    assert submitted(crew, one_question, 12, rollback_tested=False).risk_level == RiskLevel.HIGH


@pytest.mark.parametrize(("change_type", "level", "reasons"), [
    (NORMAL, "medium", ["short_lead_time"]), (EMERGENCY, "low", [])])
def test_short_lead_time_raises_a_normal_change_one_level(crew, one_question, change_type, level,  # noqa: ANN001
                                                          reasons) -> None:
    change = submitted(crew, one_question, 0, change_type=change_type, start_in=timedelta(hours=24))
    assert (change.risk_level, change.risk_reasons) == (level, reasons)
    assert submitted(crew, one_question, 18, start_in=timedelta(hours=24)).risk_level == RiskLevel.MAJOR


def test_lead_time_is_counted_from_the_last_submission(crew, one_question) -> None:  # noqa: ANN001
    """A request sent back and submitted again days later is judged on the lead time it has now."""
    change = submitted(crew, one_question, 0, start_in=timedelta(days=4))
    assert change.risk_level == RiskLevel.LOW
    back = change_transition(change_transition(change, "start_assessment", user=crew.supervisor), "send_back",
                             user=crew.supervisor, comment="Move it earlier.")
    Change.objects.filter(pk=change.pk).update(submitted_at=timezone.now() - timedelta(days=5))
    soon = timezone.now() + timedelta(hours=24)
    change_update(back, user=crew.requester, changes={"planned_start": soon, "planned_end": soon + timedelta(hours=2)})
    again = change_transition(reload(change), "submit", user=crew.requester)
    assert (again.risk_level, again.risk_reasons) == (RiskLevel.MEDIUM, ["short_lead_time"])


def test_overriding_the_risk_level_needs_a_justification_and_is_logged(crew: ChangeCrew) -> None:
    change = to_assessing(crew)
    assert change.computed_risk_level == RiskLevel.LOW
    error = refused(lambda: assess(change, crew, risk_level=RiskLevel.HIGH), 400, "invalid")
    assert "override_reason" in error.detail
    assert reload(change).state == State.ASSESSING and reload(change).risk_level == RiskLevel.LOW

    raised = assess(change, crew, risk_level=RiskLevel.HIGH, override_reason="Month-end closing.",
                    cab_members=crew.cab)
    assert (raised.risk_level, raised.computed_risk_level, raised.risk_override_reason) == (
        RiskLevel.HIGH, RiskLevel.LOW, "Month-end closing.")
    assert (raised.approval_mode, set(raised.cab_members.all())) == (ApprovalMode.JOINT, set(crew.cab))
    log = logs(change)[-1]
    assert (log.data["risk_level"], log.data["override_reason"]) == (RiskLevel.HIGH, "Month-end closing.")


def test_an_unknown_risk_level_is_refused(crew: ChangeCrew) -> None:
    change = to_assessing(crew)
    error = refused(lambda: assess(change, crew, risk_level="apocalyptic", override_reason="x"), 400, "invalid")
    assert "risk_level" in error.detail


# --- Approval by risk level, joint review -------------------------------------------------------------------


@pytest.mark.parametrize("level", [RiskLevel.LOW, RiskLevel.MEDIUM])
def test_low_and_medium_risk_are_approved_by_one_change_approver(crew: ChangeCrew, level: str) -> None:
    change = assess(to_assessing(crew), crew, risk_level=level, override_reason="Judged so.")
    assert change.risk_level == level
    assert (change.approval_mode, change.approvals_required) == (ApprovalMode.APPROVER, 1)
    approved = take(change, "approve", crew.approver)
    assert approved.state == State.APPROVED and approved.approved_at
    vote = approved.votes.get()
    assert (vote.voter, vote.decision, vote.round, vote.is_joint_review) == (crew.approver, "approve", 1, False)


def test_two_required_approvals_need_two_distinct_approvers(crew: ChangeCrew) -> None:
    ApprovalRule.objects.filter(risk_level=RiskLevel.LOW).update(approvals_required=2)
    change = assess(to_assessing(crew), crew)
    assert change.approvals_required == 2
    once = take(change, "approve", crew.approver)
    assert once.state == State.AWAITING_APPROVAL
    refused(lambda: take(once, "approve", crew.approver), 409, "already_voted")
    assert once.votes.count() == 1
    twice = take(once, "approve", crew.approver2)
    assert twice.state == State.APPROVED and twice.votes.count() == 2


@pytest.fixture
def joint(crew: ChangeCrew) -> Change:
    change = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)
    assert change.approval_mode == ApprovalMode.JOINT and set(change.cab_members.all()) == set(crew.cab)
    return change


def test_joint_review_approves_when_every_named_member_has(crew: ChangeCrew, joint: Change) -> None:
    for member, state in zip(crew.cab, [State.AWAITING_APPROVAL, State.AWAITING_APPROVAL, State.APPROVED],
                             strict=True):
        joint = take(joint, "approve", member)
        assert joint.state == state
    assert [(v.voter, v.decision, v.is_joint_review) for v in joint.votes.all()] == [
        (m, "approve", True) for m in crew.cab]


def test_joint_review_two_approvals_and_one_rejection_reject(crew: ChangeCrew, joint: Change) -> None:
    joint = take(take(joint, "approve", crew.cab[0]), "approve", crew.cab[1])
    rejected = take(joint, "reject", crew.cab[2])
    assert rejected.state == State.REJECTED
    assert sorted(rejected.votes.values_list("decision", flat=True)) == ["approve", "approve", "reject"]


def test_joint_review_the_first_rejection_rejects(crew: ChangeCrew, joint: Change) -> None:
    assert take(joint, "reject", crew.cab[1]).state == State.REJECTED


def test_only_the_named_members_vote_in_a_joint_review(crew: ChangeCrew, joint: Change) -> None:
    outsider = UserFactory(roles=[roles.CAB_MEMBER])
    for user in (outsider, crew.approver, crew.supervisor):
        refused(lambda u=user: take(joint, "approve", u), 403, "not_a_cab_member")
    take(joint, "approve", crew.cab[0])
    refused(lambda: take(joint, "reject", crew.cab[0]), 409, "already_voted")
    assert joint.votes.count() == 1


def test_the_rules_default_cab_members_serve_when_the_supervisor_names_none(crew: ChangeCrew) -> None:
    ApprovalRule.objects.get(risk_level=RiskLevel.MAJOR).default_cab_members.set(crew.cab[:2])
    change = to_assessing(crew, risk=RiskLevel.MAJOR)
    assert change.risk_level == RiskLevel.MAJOR
    waiting = assess(change, crew)
    assert set(waiting.cab_members.all()) == set(crew.cab[:2])
    named = assess(to_assessing(crew, risk=RiskLevel.MAJOR), crew, cab_members=[crew.cab[2]])
    assert list(named.cab_members.all()) == [crew.cab[2]]


def test_a_joint_review_without_members_is_refused(crew: ChangeCrew) -> None:
    change = to_assessing(crew, risk=RiskLevel.MAJOR)
    error = refused(lambda: assess(change, crew), 400, "invalid")
    assert "cab_members" in error.detail and reload(change).state == State.ASSESSING


@pytest.mark.parametrize("who", ["requester", "implementer"])
def test_the_requester_and_the_implementer_cannot_be_named(crew: ChangeCrew, who: str) -> None:
    person = with_roles(getattr(crew, who), roles.CAB_MEMBER)
    change = to_assessing(crew, risk=RiskLevel.MAJOR)
    error = refused(lambda: assess(change, crew, cab_members=[crew.cab[0], person]), 400, "invalid")
    assert "cab_members" in error.detail
    assert reload(change).state == State.ASSESSING and not reload(change).cab_members.exists()


def test_members_who_are_not_cab_members_cannot_be_named(crew: ChangeCrew) -> None:
    change = to_assessing(crew, risk=RiskLevel.MAJOR)
    error = refused(lambda: assess(change, crew, cab_members=[crew.engineer]), 400, "invalid")
    assert "cab_members" in error.detail


# --- Segregation of duties ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["approve", "reject"])
def test_the_requester_cannot_approve_or_vote_on_their_change(crew: ChangeCrew, name: str) -> None:
    with_roles(crew.requester, roles.CHANGE_APPROVER)
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    refused(lambda: take(change, name, crew.requester), 403, "segregation_of_duties")
    assert reload(change).state == State.AWAITING_APPROVAL and not change.votes.exists()


def test_the_implementer_cannot_approve(crew: ChangeCrew) -> None:
    with_roles(crew.implementer, roles.CHANGE_APPROVER)
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    refused(lambda: take(change, "approve", crew.implementer), 403, "segregation_of_duties")


@pytest.fixture
def engineer_approver(crew: ChangeCrew) -> Any:
    return UserFactory(roles=[roles.CHANGE_APPROVER, roles.SYSTEM_ENGINEER])


def test_whoever_approved_cannot_schedule_and_take_the_change(crew: ChangeCrew, engineer_approver: Any) -> None:
    change = change_in_state(State.AWAITING_APPROVAL, crew, implementer=None)
    approved = take(change, "approve", engineer_approver)
    assert approved.state == State.APPROVED and approved.implementer is None
    refused(lambda: take(approved, "schedule", engineer_approver, acknowledge_conflicts=True), 403,
            "segregation_of_duties")
    assert reload(change).implementer is None and reload(change).state == State.APPROVED
    scheduled = take(approved, "schedule", crew.engineer, acknowledge_conflicts=True)
    assert (scheduled.state, scheduled.implementer) == (State.SCHEDULED, crew.engineer)


@pytest.mark.parametrize("name", ["start", "record_step", "fail"])
def test_whoever_approved_cannot_implement(crew: ChangeCrew, engineer_approver: Any, name: str) -> None:
    """Even where the implementer was set aside the services (an old record), the approver is refused."""
    state = State.SCHEDULED if name == "start" else State.IMPLEMENTING
    change = change_in_state(state, crew)
    open_window(change)
    Change.objects.filter(pk=change.pk).update(implementer=engineer_approver)
    ChangeVote.objects.create(change=change, round=change.approval_round + 5, voter=engineer_approver,
                              decision="approve")
    change = reload(change)
    calls = {
        "start": lambda: take(change, "start", engineer_approver),
        "record_step": lambda: change_record_step(change, user=engineer_approver, position=1, status="done"),
        "fail": lambda: take(change, "fail", engineer_approver, what_happened="Broke."),
    }
    refused(calls[name], 403, "segregation_of_duties")
    assert reload(change).state == state


# --- Freeze windows -----------------------------------------------------------------------------------------


def freeze(change: Change, *services: Any, before: timedelta = timedelta(hours=1),
           after: timedelta = timedelta(hours=1)) -> FreezeWindow:
    window = FreezeWindow.objects.create(name="Year-end freeze", starts_at=change.planned_start - before,
                                         ends_at=change.planned_end + after)
    window.services.set(services)
    return window


def approved(crew: ChangeCrew, change_type: str = NORMAL, **kwargs: Any) -> Change:
    if change_type == STANDARD:
        change = draft_change(crew, change_type=STANDARD, template=approved_template(crew), **kwargs)
        return change_transition(change, "submit", user=crew.requester)
    return change_in_state(State.APPROVED, crew, change_type=change_type, **kwargs)


def schedule(change: Change, crew: ChangeCrew, acknowledge: bool = True) -> Change:
    return take(change, "schedule", crew.implementer, acknowledge_conflicts=acknowledge)


@pytest.mark.parametrize("change_type", [NORMAL, STANDARD])
@pytest.mark.parametrize("scope", ["global", "its service", "a service of its CI"])
def test_a_freeze_refuses_normal_and_standard_changes(crew: ChangeCrew, change_type: str, scope: str) -> None:
    ci = ConfigurationItemFactory()
    ci_service = ServiceFactory(criticality=Criticality.LOW)
    ci.services.add(ci_service)
    change = approved(crew, change_type, configuration_items=[ci])
    freeze(change, *{"global": [], "its service": [crew.service], "a service of its CI": [ci_service]}[scope])
    error = refused(lambda: schedule(change, crew), 400, "freeze_window")
    assert "planned_start" in error.detail
    assert reload(change).state == State.APPROVED and logs(change)[-1].transition != "schedule"


def test_an_emergency_change_may_be_scheduled_in_a_freeze_flagged(crew: ChangeCrew) -> None:
    change = approved(crew, EMERGENCY)
    freeze(change)
    scheduled = schedule(change, crew)
    assert (scheduled.state, scheduled.freeze_exception) == (State.SCHEDULED, True)


def test_a_freeze_on_an_unrelated_service_or_another_time_does_not_refuse(crew: ChangeCrew) -> None:
    change = approved(crew)
    freeze(change, ServiceFactory())
    FreezeWindow.objects.create(name="Adjacent", starts_at=change.planned_end,
                                ends_at=change.planned_end + timedelta(days=1))
    scheduled = schedule(change, crew)
    assert (scheduled.state, scheduled.freeze_exception) == (State.SCHEDULED, False)


def test_a_window_that_has_passed_is_not_scheduled(crew: ChangeCrew) -> None:
    change = approved(crew)
    past = timezone.now() - timedelta(days=1)
    Change.objects.filter(pk=change.pk).update(planned_start=past, planned_end=past + timedelta(hours=2))
    error = refused(lambda: schedule(reload(change), crew), 400, "window_passed")
    assert "planned_start" in error.detail and reload(change).state == State.APPROVED


# --- Maintenance windows ------------------------------------------------------------------------------------


def maintenance(service: Any, recurrence: str, hour: int = 1, minutes: int = 240) -> MaintenanceWindow:
    window = MaintenanceWindow(service=service, name="Night", recurrence=recurrence, start_time=time(hour),
                               duration_minutes=minutes)
    window.full_clean()
    window.save()
    return window


@pytest.mark.parametrize(("recurrence", "start", "outside"), [
    ("FREQ=WEEKLY;BYDAY=SA", day_at(8, 2, weekday=5), False),
    ("FREQ=WEEKLY;BYDAY=SA", day_at(8, 2, weekday=2), True),
    ("FREQ=WEEKLY;BYDAY=SA", day_at(8, 4, weekday=5), True),  # runs past the window's end
    ("FREQ=MONTHLY;BYDAY=1SU", day_at(8, 2, weekday=6, first_of_month=True), False),
    ("FREQ=MONTHLY;BYDAY=1SU", day_at(8, 2, weekday=6, first_of_month=True) + timedelta(days=7), True),
])
def test_scheduling_outside_the_maintenance_windows_is_a_warning(crew: ChangeCrew, recurrence: str,
                                                                 start: datetime, outside: bool) -> None:
    maintenance(crew.service, recurrence)
    change = approved(crew, planned_start=start, planned_end=start + timedelta(hours=2))
    assert schedule_check(change).maintenance_warnings == ([crew.service] if outside else [])
    scheduled = schedule(change, crew)
    assert (scheduled.state, scheduled.outside_maintenance) == (State.SCHEDULED, outside)


def test_a_service_without_maintenance_windows_gives_no_warning(crew: ChangeCrew) -> None:
    assert schedule(approved(crew), crew).outside_maintenance is False


@pytest.mark.parametrize("recurrence", ["FREQ=SOMETIMES", "every saturday", "FREQ=WEEKLY;BYDAY=XX"])
def test_an_invalid_recurrence_is_refused(crew: ChangeCrew, recurrence: str) -> None:
    with pytest.raises(ValidationError) as caught:
        maintenance(crew.service, recurrence)
    assert "recurrence" in caught.value.message_dict
    assert not MaintenanceWindow.objects.exists()


# --- Conflicts ----------------------------------------------------------------------------------------------

BASE = day_at(10, 2)


def other(crew: ChangeCrew, state: str = State.APPROVED, *, start: datetime = BASE + timedelta(hours=1),
          hours: int = 2, **kwargs: Any) -> Change:
    """Another change holding a window: approved through the services, then set in its state as a row."""
    kwargs.setdefault("implementer", crew.engineer)
    change = change_in_state(State.APPROVED, crew, planned_start=start, planned_end=start + timedelta(hours=hours),
                             **kwargs)
    Change.objects.filter(pk=change.pk).update(state=state)
    return reload(change)


def mine(crew: ChangeCrew, **kwargs: Any) -> Change:
    return approved(crew, planned_start=BASE, planned_end=BASE + timedelta(hours=2), **kwargs)


def ci_of(service: Any) -> Any:
    ci = ConfigurationItemFactory()
    ci.services.add(service)
    return ci


def conflict_cases(crew: ChangeCrew) -> dict[str, tuple[dict, dict]]:
    """(other change, my change) arguments by the reason they conflict."""
    elsewhere = ServiceFactory(criticality=Criticality.LOW)
    shared_ci = ConfigurationItemFactory()  # of no service: only the CI is shared
    return {
        "same_service": ({}, {}),
        "same_ci": ({"services": [elsewhere], "configuration_items": [shared_ci]},
                    {"services": [ServiceFactory(criticality=Criticality.LOW)], "configuration_items": [shared_ci]}),
        "ci_of_same_service": ({"services": [], "configuration_items": [ci_of(crew.service)]}, {}),
        "same_implementer": ({"services": [elsewhere], "implementer": crew.implementer}, {}),
    }


@pytest.mark.parametrize("reason", ["same_service", "same_ci", "ci_of_same_service", "same_implementer"])
def test_a_conflict_must_be_acknowledged_to_schedule(crew: ChangeCrew, reason: str) -> None:
    theirs, my = conflict_cases(crew)[reason]
    held = other(crew, **theirs)
    change = mine(crew, **my)
    error = refused(lambda: schedule(change, crew, acknowledge=False), 409, "conflicts_not_acknowledged")
    assert [(c["id"], c["number"], c["reasons"]) for c in error.extra["conflicts"]] == [
        (held.pk, held.number, [reason])]
    assert reload(change).state == State.APPROVED and reload(change).conflicts_acknowledged == []
    scheduled = schedule(change, crew)
    assert scheduled.state == State.SCHEDULED
    assert [(c["id"], c["reasons"]) for c in scheduled.conflicts_acknowledged] == [(held.pk, [reason])]


def test_whoever_takes_an_unassigned_change_is_checked_for_double_booking(crew: ChangeCrew) -> None:
    """The scheduler becomes the implementer: their other changes in the window are conflicts too."""
    held = other(crew, services=[ServiceFactory(criticality=Criticality.LOW)], implementer=crew.implementer)
    change = mine(crew, implementer=None)
    error = refused(lambda: schedule(change, crew, acknowledge=False), 409, "conflicts_not_acknowledged")
    assert [(c["id"], c["reasons"]) for c in error.extra["conflicts"]] == [(held.pk, ["same_implementer"])]
    assert reload(change).implementer is None
    assert schedule(change, crew).implementer == crew.implementer


@pytest.mark.parametrize("state", [State.APPROVED, State.SCHEDULED, State.IMPLEMENTING])
def test_approved_scheduled_and_implementing_changes_conflict(crew: ChangeCrew, state: str) -> None:
    held = other(crew, state)
    assert [c.change.pk for c in schedule_check(mine(crew)).conflicts] == [held.pk]


@pytest.mark.parametrize("state", [State.DRAFT, State.SUBMITTED, State.AWAITING_APPROVAL, State.VERIFYING,
                                   State.COMPLETED, State.CLOSED, State.CANCELLED, State.REJECTED, State.FAILED])
def test_changes_in_other_states_do_not_conflict(crew: ChangeCrew, state: str) -> None:
    other(crew, state)
    change = mine(crew)
    assert schedule_check(change).conflicts == []
    assert schedule(change, crew, acknowledge=False).state == State.SCHEDULED


@pytest.mark.parametrize(("start", "conflict"), [
    (BASE - timedelta(hours=2), False), (BASE + timedelta(hours=2), False),  # adjacent before and after
    (BASE - timedelta(hours=1), True), (BASE + timedelta(minutes=119), True), (BASE, True)])
def test_only_overlapping_windows_conflict(crew: ChangeCrew, start: datetime, conflict: bool) -> None:
    other(crew, start=start)
    assert bool(schedule_check(mine(crew)).conflicts) is conflict


# --- Approved content is frozen -----------------------------------------------------------------------------


def frozen_edits(crew: ChangeCrew, change: Change) -> dict[str, dict]:
    later = change.planned_start + timedelta(days=1)
    return {
        "title": {"title": "Upgrade the ERP database to 16.5"},
        "description": {"description": "Apply 16.5 instead."},
        "window": {"planned_start": later, "planned_end": later + timedelta(hours=2)},
        "services": {"services": [crew.service, ServiceFactory(criticality=Criticality.LOW)]},
        "configuration_items": {"configuration_items": [ConfigurationItemFactory()]},
    }


@pytest.mark.parametrize("state", [State.APPROVED, State.SCHEDULED])
@pytest.mark.parametrize("edit", ["title", "description", "window", "services", "configuration_items"])
def test_editing_approved_content_sends_the_change_back_for_approval(crew: ChangeCrew, state: str,
                                                                    edit: str) -> None:
    change = change_in_state(state, crew)
    changes = frozen_edits(crew, change)[edit]
    edited = change_update(change, user=crew.requester, changes=changes)
    assert (edited.state, edited.approval_round, edited.approved_at, edited.scheduled_at) == (
        State.AWAITING_APPROVAL, 2, None, None)
    assert edited.current_votes().count() == 0 and edited.votes.count() == 1
    assert {fc.field for fc in field_changes(change)} == set(changes)
    log = logs(change)[-1]
    assert (log.transition, log.source_state, log.target_state) == ("require_reapproval", state,
                                                                     State.AWAITING_APPROVAL)
    # The earlier approval no longer counts: the approver decides again.
    again = take(edited, "approve", crew.approver)
    assert again.state == State.APPROVED and again.votes.count() == 2


def test_the_same_window_given_in_another_time_zone_is_no_edit(crew: ChangeCrew) -> None:
    """Forms and the API give times in local time; the instant approved is what counts."""
    from zoneinfo import ZoneInfo

    change = change_in_state(State.APPROVED, crew)
    taipei = ZoneInfo("Asia/Taipei")
    kept = change_update(change, user=crew.requester, changes={
        "planned_start": change.planned_start.astimezone(taipei), "planned_end": change.planned_end.astimezone(taipei),
        "title": change.title})
    assert (kept.state, kept.approval_round, field_changes(change)) == (State.APPROVED, 1, [])


def test_the_diff_is_on_the_timeline(crew: ChangeCrew) -> None:
    change = change_in_state(State.APPROVED, crew)
    change_update(change, user=crew.requester, changes={"title": "New title"})
    (row,) = field_changes(change)
    assert (row.field, row.old_value, row.new_value, row.actor) == (
        "title", "Upgrade the ERP database to 16.4", "New title", crew.requester)


def test_a_plan_written_first_after_approval_does_not_need_approval(crew: ChangeCrew) -> None:
    change = change_in_state(State.APPROVED, crew, rollback_plan="", contingency_plan="", steps=None)
    kept = change_update(change, user=crew.implementer, changes={"rollback_plan": "Restore the snapshot.",
                                                                  "contingency_plan": "Call the vendor."},
                         steps=["Snapshot", "Upgrade"])
    assert kept.state == State.APPROVED and kept.approval_round == 1
    scheduled = schedule(kept, crew)
    assert scheduled.state == State.SCHEDULED
    # Once scheduled, the plan is part of what was agreed: editing it needs approval again.
    edited = change_update(scheduled, user=crew.implementer, changes={"rollback_plan": "Rebuild from backup."})
    assert (edited.state, edited.approval_round) == (State.AWAITING_APPROVAL, 2)


@pytest.mark.parametrize("edit", [{"rollback_plan": "Rebuild instead."}, {"contingency_plan": "Pray."}])
def test_editing_a_plan_that_was_approved_needs_approval(crew: ChangeCrew, edit: dict) -> None:
    change = change_in_state(State.APPROVED, crew)
    assert change_update(change, user=crew.implementer, changes=edit).state == State.AWAITING_APPROVAL


def test_rewriting_approved_steps_needs_approval(crew: ChangeCrew) -> None:
    change = change_in_state(State.APPROVED, crew)
    edited = change_update(change, user=crew.implementer, changes={}, steps=["Only one step"])
    assert edited.state == State.AWAITING_APPROVAL


def test_linking_an_incident_is_not_approved_content(crew: ChangeCrew) -> None:
    change = change_in_state(State.APPROVED, crew)
    kept = change_update(change, user=crew.requester, changes={"related_incidents": []})
    assert kept.state == State.APPROVED


def test_linking_an_incident_to_a_scheduled_change_keeps_it_scheduled(crew: ChangeCrew) -> None:
    """The plan was written after approval and then scheduled; linking an incident edits neither."""
    from incidents.tests.factories import incident_in_state

    change = change_in_state(State.APPROVED, crew, rollback_plan="", contingency_plan="")
    change = change_update(change, user=crew.implementer, changes={"rollback_plan": "Restore.",
                                                                    "contingency_plan": "Vendor."})
    scheduled = schedule(change, crew)
    incident = incident_in_state("reported")
    kept = change_update(scheduled, user=crew.requester, changes={"related_incidents": [incident]})
    assert (kept.state, kept.approval_round) == (State.SCHEDULED, 1)
    assert list(kept.related_incidents.all()) == [incident]


def test_a_standard_change_edited_after_approval_needs_a_change_approver(crew: ChangeCrew) -> None:
    change = approved(crew, STANDARD)
    edited = change_update(change, user=crew.requester, changes={"title": "Swap two disks"})
    assert (edited.state, edited.approval_mode, edited.approvals_required) == (
        State.AWAITING_APPROVAL, ApprovalMode.APPROVER, 1)
    refused(lambda: take(edited, "approve", crew.engineer), 403, "permission_denied")
    assert take(edited, "approve", crew.approver).state == State.APPROVED


# --- Implementation -----------------------------------------------------------------------------------------


def test_implementation_does_not_start_before_the_window_opens(crew: ChangeCrew) -> None:
    change = change_in_state(State.SCHEDULED, crew)
    error = refused(lambda: take(change, "start", crew.implementer), 409, "condition_failed")
    assert "window" in str(error.detail)
    open_window(change)
    assert take(change, "start", crew.implementer).state == State.IMPLEMENTING


@pytest.fixture
def implementing(crew: ChangeCrew) -> Change:
    return change_in_state(State.IMPLEMENTING, crew)


def test_steps_are_recorded_done_or_skipped_with_a_reason(crew: ChangeCrew, implementing: Change) -> None:
    done = change_record_step(implementing, user=crew.implementer, position=1, status=StepStatus.DONE)
    assert (done.status, done.done_by) == (StepStatus.DONE, crew.implementer) and done.done_at
    error = refused(lambda: change_record_step(implementing, user=crew.implementer, position=2,
                                               status=StepStatus.SKIPPED), 400, "invalid")
    assert "note" in error.detail
    skipped = change_record_step(implementing, user=crew.implementer, position=2, status=StepStatus.SKIPPED,
                                 note="Already at 16.4 on this node.")
    assert (skipped.status, skipped.note) == (StepStatus.SKIPPED, "Already at 16.4 on this node.")
    refused(lambda: change_record_step(implementing, user=crew.implementer, position=1, status=StepStatus.DONE),
            409, "already_recorded")
    refused(lambda: change_record_step(implementing, user=crew.implementer, position=9, status=StepStatus.DONE),
            400, "invalid")
    refused(lambda: change_record_step(implementing, user=crew.implementer, position=3, status="pending"),
            400, "invalid")
    refused(lambda: change_record_step(implementing, user=crew.engineer, position=3, status=StepStatus.DONE),
            403, "permission_denied")
    assert [f.field for f in field_changes(implementing)] == ["step 1", "step 2"]


def test_steps_are_recorded_only_while_implementing(crew: ChangeCrew) -> None:
    change = change_in_state(State.SCHEDULED, crew)
    refused(lambda: change_record_step(change, user=crew.implementer, position=1, status=StepStatus.DONE),
            409, "invalid_state")


def test_verification_waits_for_every_step(crew: ChangeCrew, implementing: Change) -> None:
    checks = {"function": "ok", "performance": "ok", "data_integrity": "ok"}
    for position in (1, 2):
        change_record_step(implementing, user=crew.implementer, position=position, status=StepStatus.DONE)
    refused(lambda: take(implementing, "verify", crew.implementer, **checks), 409, "condition_failed")
    change_record_step(implementing, user=crew.implementer, position=3, status=StepStatus.SKIPPED, note="Not needed.")
    verified = take(implementing, "verify", crew.implementer, **checks)
    assert verified.state == State.VERIFYING and verified.verified_at


@pytest.mark.parametrize("state", [State.IMPLEMENTING, State.VERIFYING])
def test_a_failure_records_what_happened_and_the_rollback_its_log(crew: ChangeCrew, state: str) -> None:
    change = change_in_state(state, crew)
    error = refused(lambda: take(change, "fail", crew.implementer, what_happened="  "), 400, "invalid")
    assert "what_happened" in error.detail and reload(change).state == state
    failed = take(change, "fail", crew.implementer, what_happened="The cluster did not come back.")
    assert (failed.state, failed.failure_description) == (State.FAILED, "The cluster did not come back.")
    assert failed.failed_at and failed.needs_review
    refused(lambda: take(failed, "roll_back", crew.implementer, rollback_log=""), 400, "invalid")
    rolled = take(failed, "roll_back", crew.implementer, rollback_log="Snapshot restored.")
    assert (rolled.state, rolled.rollback_log, rolled.outcome) == (State.ROLLED_BACK, "Snapshot restored.",
                                                                   Outcome.ROLLED_BACK)
    refused(lambda: take(rolled, "close", crew.supervisor, review="Reviewed."), 409, "condition_failed")
    record_review(rolled, crew)
    closed = take(rolled, "close", crew.supervisor, review="Reviewed.")
    assert (closed.state, closed.outcome) == (State.CLOSED, Outcome.ROLLED_BACK)


def test_the_review_is_recorded_by_a_supervisor_after_implementation(crew: ChangeCrew) -> None:
    change = change_in_state(State.SCHEDULED, crew)
    refused(lambda: record_review(change, crew), 409, "invalid_state")
    failed = change_in_state(State.FAILED, crew)
    refused(lambda: change_record_review(failed, user=crew.implementer, data={}), 403, "permission_denied")
    refused(lambda: change_record_review(failed, user=crew.supervisor, data={"held_on": timezone.localdate()}),
            400, "invalid")
    assert not failed.reviews.exists()


# --- Opinions -----------------------------------------------------------------------------------------------


def test_opinions_are_invited_by_the_supervisor_and_given_once_while_assessing(crew: ChangeCrew) -> None:
    change = to_assessing(crew)
    security = UserFactory(roles=[roles.NETWORK_ENGINEER])
    refused(lambda: change_invite_opinions(change, user=crew.engineer, reviewers=[security]), 403,
            "permission_denied")
    invited = change_invite_opinions(change, user=crew.supervisor, reviewers=[security, crew.engineer])
    assert {o.reviewer for o in invited} == {security, crew.engineer}
    assert {n.recipient for n in Notification.objects.filter(event="change.opinion_requested",
                                                             channel=Channel.IN_APP)} == {security, crew.engineer}
    refused(lambda: change_invite_opinions(change, user=crew.supervisor, reviewers=[]), 400, "invalid")
    refused(lambda: change_invite_opinions(change, user=crew.supervisor,
                                           reviewers=[UserFactory(roles=[roles.DEPARTMENT_USER])]), 400, "invalid")

    given = change_give_opinion(change, user=security, recommendation="concerns", opinion="Patch the firewall first.")
    assert (given.recommendation, given.opinion, given.requested_by) == (
        "concerns", "Patch the firewall first.", crew.supervisor) and given.given_at
    refused(lambda: change_give_opinion(change, user=security, recommendation="support", opinion="Fine now."),
            409, "already_given")
    refused(lambda: change_give_opinion(change, user=crew.engineer, recommendation="maybe", opinion="Hm."),
            400, "invalid")
    refused(lambda: change_give_opinion(change, user=crew.requester, recommendation="support", opinion="Mine."),
            403, "permission_denied")

    assessed = assess(change, crew)
    refused(lambda: change_give_opinion(assessed, user=crew.engineer, recommendation="support", opinion="Late."),
            409, "invalid_state")
    refused(lambda: change_invite_opinions(assessed, user=crew.supervisor, reviewers=[crew.engineer]), 409,
            "invalid_state")
    assert change.opinions.exclude(given_at=None).count() == 1


def test_the_requester_is_not_asked_for_an_opinion_on_their_own_change(crew: ChangeCrew) -> None:
    change = to_assessing(crew)
    error = refused(lambda: change_invite_opinions(change, user=crew.supervisor, reviewers=[crew.requester]),
                    400, "invalid")
    assert "reviewers" in error.detail and not change.opinions.exists()


# --- Templates ----------------------------------------------------------------------------------------------

TEMPLATE = {"name": "Rotate the TLS certificate", "category": "other", "description": "Install the new cert.",
            "purpose": "Expiry.", "impact_scope": "None.", "risk_assessment": "Low.", "risk_mitigation": "Old cert.",
            "steps": ["Upload", "Reload the proxy"], "rollback_plan": "Restore the old cert.",
            "contingency_plan": "Call the CA."}


def test_a_template_is_approved_by_a_supervisor_other_than_its_proposer(crew: ChangeCrew) -> None:
    refused(lambda: template_propose(user=UserFactory(roles=[roles.DEPARTMENT_USER]), data=dict(TEMPLATE)), 403,
            "permission_denied")
    template = template_propose(user=crew.supervisor, data=dict(TEMPLATE))
    assert template.state == TemplateState.PROPOSED
    refused(lambda: perform_transition(template, "approve", user=crew.engineer), 403, "permission_denied")
    error = refused(lambda: perform_transition(template, "approve", user=crew.supervisor), 403,
                    "segregation_of_duties")
    assert "proposed" in str(error.detail)
    other_supervisor = UserFactory(roles=[roles.SUPERVISOR])
    approved_one = perform_transition(template, "approve", user=other_supervisor)
    assert (approved_one.state, approved_one.approved_by) == (TemplateState.APPROVED, other_supervisor)
    refused(lambda: perform_transition(approved_one, "approve", user=other_supervisor), 409, "invalid_state")


def test_a_template_without_steps_is_not_approved(crew: ChangeCrew) -> None:
    template = template_propose(user=crew.engineer, data={**TEMPLATE, "steps": []})
    error = refused(lambda: perform_transition(template, "approve", user=crew.supervisor), 400, "invalid")
    assert "steps" in error.detail


def test_no_new_standard_changes_from_a_retired_template(crew: ChangeCrew) -> None:
    template = approved_template(crew)
    draft = draft_change(crew, change_type=STANDARD, template=template)
    retired = perform_transition(template, "retire", user=crew.supervisor)
    assert retired.state == TemplateState.RETIRED and retired.is_read_only
    error = refused(lambda: draft_change(crew, change_type=STANDARD, template=retired), 400, "invalid")
    assert "template" in error.detail
    refused(lambda: change_transition(draft, "submit", user=crew.requester), 409, "condition_failed")
    refused(lambda: perform_transition(retired, "retire", user=crew.supervisor), 409, "invalid_state")


# --- Notifications ------------------------------------------------------------------------------------------


def recipients(event: str) -> set:
    return {n.recipient for n in Notification.objects.filter(event=event, channel=Channel.IN_APP)}


def test_each_step_notifies_the_people_it_concerns(crew: ChangeCrew) -> None:
    other_supervisor = UserFactory(roles=[roles.SUPERVISOR])
    change = advance(draft_change(crew), crew)
    assert recipients("change.submitted") == {crew.supervisor, other_supervisor}
    change = advance(advance(change, crew), crew)
    assert recipients("change.awaiting_approval") == {crew.approver, crew.approver2}
    change = advance(change, crew)
    assert recipients("change.approved") == {crew.requester, crew.implementer}
    rejected = change_in_state(State.REJECTED, crew)
    assert recipients("change.rejected") == {crew.requester, crew.implementer}
    assert rejected.state == State.REJECTED
    change_in_state(State.FAILED, crew)
    assert recipients("change.failed") == {crew.supervisor, other_supervisor}


def test_a_joint_review_notifies_the_named_members_only(crew: ChangeCrew) -> None:
    change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)
    assert recipients("change.awaiting_approval") == set(crew.cab)


def test_an_emergency_change_notifies_the_approvers_when_submitted(crew: ChangeCrew) -> None:
    with_roles(crew.requester, roles.CHANGE_APPROVER)
    change_in_state(State.AWAITING_APPROVAL, crew, change_type=EMERGENCY)
    assert recipients("change.awaiting_approval") == {crew.approver, crew.approver2}
    assert recipients("change.submitted") == set()


# --- Bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start_in", "hours", "field"), [
    (timedelta(days=8), -1, "planned_end"), (timedelta(days=8), 0, "planned_end"),
    (timedelta(days=-1), 2, "planned_start")])
def test_a_window_that_ends_before_it_starts_or_lies_in_the_past_is_refused(crew: ChangeCrew, start_in: timedelta,
                                                                             hours: int, field: str) -> None:
    error = refused(lambda: draft_change(crew, start_in=start_in, hours=hours), 400, "invalid")
    assert field in error.detail and not Change.objects.exists()
    change = draft_change(crew)
    start = timezone.now() + start_in
    error = refused(lambda: change_update(change, user=crew.requester, changes={
        "planned_start": start, "planned_end": start + timedelta(hours=hours)}), 400, "invalid")
    assert field in error.detail
    assert Change.objects.values_list("planned_start", flat=True).get(pk=change.pk) == change.planned_start


def test_cis_the_requester_cannot_see_are_refused(crew: ChangeCrew) -> None:
    from opscenter.core.tests.factories import DepartmentFactory

    department = DepartmentFactory()
    requester = UserFactory(roles=[roles.DEPARTMENT_USER], department=department)
    own = ci_of(ServiceFactory(owner_department=department))
    foreign = ci_of(ServiceFactory())
    error = refused(lambda: draft_change(crew, requester=requester, implementer=None,
                                         configuration_items=[own, foreign]), 400, "invalid")
    assert "configuration_items" in error.detail and not Change.objects.exists()
    change = draft_change(crew, requester=requester, implementer=None, configuration_items=[own])
    assert list(change.configuration_items.all()) == [own]
