"""Factories of change management: the people a change meets, complete requests, and changes walked
through the real services to any state (standard, normal, emergency; low risk or joint review)."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from changes.choices import ChangeType, RiskLevel, State
from changes.models import Change, ChangeTemplate, RiskQuestion
from changes.services import change_create, change_record_review, change_record_step, change_transition
from opscenter.core import roles
from opscenter.core.choices import Criticality
from opscenter.core.models import Service, User
from opscenter.core.services import perform_transition
from opscenter.core.tests.factories import ServiceFactory, UserFactory


@dataclass
class ChangeCrew:
    """Requester, supervisor, change approvers, three CAB members and an implementer (all distinct)."""

    requester: User
    supervisor: User
    approver: User
    approver2: User
    cab: list[User]
    implementer: User
    engineer: User  # another engineer, neither requester nor implementer
    service: Service
    extra: dict[str, Any] = field(default_factory=dict)


def make_crew(*, service: Service | None = None) -> ChangeCrew:
    return ChangeCrew(
        requester=UserFactory(roles=[roles.SYSTEM_ENGINEER]),
        supervisor=UserFactory(roles=[roles.SUPERVISOR]),
        approver=UserFactory(roles=[roles.CHANGE_APPROVER]),
        approver2=UserFactory(roles=[roles.CHANGE_APPROVER]),
        cab=[UserFactory(roles=[roles.CAB_MEMBER]) for _ in range(3)],
        implementer=UserFactory(roles=[roles.NETWORK_ENGINEER]),
        engineer=UserFactory(roles=[roles.DESKTOP_ENGINEER]),
        service=service or ServiceFactory(criticality=Criticality.LOW),
    )


def risk_answers(level: str = RiskLevel.LOW) -> dict[str, int]:
    """Questionnaire answers: the lightest answer to each question for low, the heaviest for major."""
    answers = {}
    for question in RiskQuestion.objects.filter(is_active=True).prefetch_related("options"):
        options = sorted(question.options.all(), key=lambda o: o.weight)
        answers[str(question.pk)] = (options[-1] if level in (RiskLevel.HIGH, RiskLevel.MAJOR) else options[0]).pk
    return answers


def local_hour_in(days: int, hour: int = 10) -> timedelta:
    """How far from now `hour` o'clock local time is, `days` days ahead: a window placed there stays within one
    day of the calendar whatever the hour a test runs (a window from now + 2 h can cross midnight)."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone()) - timezone.now()


def request_data(crew: ChangeCrew, *, change_type: str = ChangeType.NORMAL, risk: str = RiskLevel.LOW,
                 start_in: timedelta = timedelta(days=7), hours: int = 2, **overrides: Any) -> dict[str, Any]:
    """A complete change request (変更申請表): everything submit asks for."""
    start = timezone.now() + start_in
    data = {
        "title": "Upgrade the ERP database to 16.4",
        "change_type": change_type,
        "category": "software_upgrade",
        "description": "Apply the 16.4 minor release to the ERP database cluster.",
        "purpose": "Security fixes from the vendor.",
        "impact_scope": "ERP unavailable for 30 minutes.",
        "planned_start": start,
        "planned_end": start + timedelta(hours=hours),
        "risk_assessment": "Low: minor release, tested in staging.",
        "risk_mitigation": "Backup before; rollback by restoring the snapshot.",
        "rollback_tested": risk == RiskLevel.LOW,
        "risk_answers": risk_answers(risk),
        "services": [crew.service],
        "implementer": crew.implementer,
        "rollback_plan": "Restore the pre-change snapshot.",
        "contingency_plan": "Call the vendor's support line; keep the old node warm.",
    }
    data.update(overrides)
    return data


STEPS = ["Take a snapshot", "Apply the release", "Restart the cluster"]


def draft_change(crew: ChangeCrew, **kwargs: Any) -> Change:
    steps = kwargs.pop("steps", STEPS)
    return change_create(requester=kwargs.pop("requester", crew.requester), data=request_data(crew, **kwargs),
                         steps=steps)


def approved_template(crew: ChangeCrew, **fields: Any) -> ChangeTemplate:
    template = ChangeTemplate.objects.create(
        name=fields.pop("name", "Replace a failed disk in a RAID set"), category="hardware_replacement",
        description="Swap the failed disk and let the array rebuild.", purpose="Restore redundancy.",
        impact_scope="None; the array keeps serving.", risk_assessment="Low.", risk_mitigation="Hot spare.",
        steps=["Identify the disk", "Swap it", "Watch the rebuild"], rollback_plan="Reinsert the old disk.",
        contingency_plan="Call the hardware vendor.", proposed_by=crew.engineer, **fields)
    return perform_transition(template, "approve", user=crew.supervisor)


def open_window(change: Change, *, minutes_ago: int = 1) -> Change:
    """Move the planned window so it has opened (tests cannot wait for it)."""
    length = change.planned_end - change.planned_start
    start = timezone.now() - timedelta(minutes=minutes_ago)
    Change.objects.filter(pk=change.pk).update(planned_start=start, planned_end=start + length)
    change.refresh_from_db()
    return change


def _approve(change: Change, crew: ChangeCrew) -> Change:
    voters = list(change.cab_members.all()) if change.approval_mode == "joint" else [crew.approver]
    for voter in voters:
        change = change_transition(change, "approve", user=voter, comment="Agreed.")
    return change


# The main road: how each state is reached from the one before.
MAIN_ROAD = [State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED, State.SCHEDULED,
             State.IMPLEMENTING, State.VERIFYING, State.COMPLETED, State.CLOSED]


def advance(change: Change, crew: ChangeCrew) -> Change:
    """Take the next step of the main road from the change's current state."""
    state = change.state
    if state == State.DRAFT:
        return change_transition(change, "submit", user=change.created_by)
    if state == State.SUBMITTED:
        return change_transition(change, "start_assessment", user=crew.supervisor)
    if state == State.ASSESSING:
        data = {"necessity": "Vendor security fix.", "feasibility": "Tested in staging.",
                "assessment": "Proceed in the Saturday window."}
        if change.risk_level in (RiskLevel.HIGH, RiskLevel.MAJOR):
            data["cab_members"] = crew.cab
        return change_transition(change, "assess", user=crew.supervisor, data=data)
    if state == State.AWAITING_APPROVAL:
        return _approve(change, crew)
    if state == State.APPROVED:
        return change_transition(change, "schedule", user=crew.implementer, data={"acknowledge_conflicts": True})
    if state == State.SCHEDULED:
        open_window(change)
        return change_transition(change, "start", user=crew.implementer)
    if state == State.IMPLEMENTING:
        for step in change.steps.all():
            change_record_step(change, user=crew.implementer, position=step.position, status="done")
        return change_transition(change, "verify", user=crew.implementer, data={
            "function": "Logins work.", "performance": "Response times as before.",
            "data_integrity": "Checksums match."})
    if state == State.VERIFYING:
        return change_transition(change, "complete", user=crew.implementer, data={"report": "Done as planned."})
    if state in (State.COMPLETED, State.ROLLED_BACK):
        if change.needs_review and not change.reviews.exists():
            record_review(change, crew)
        return change_transition(change, "close", user=crew.supervisor, data={"review": "Report reviewed."})
    raise ValueError(f"no main-road step from {state}")


def record_review(change: Change, crew: ChangeCrew) -> None:
    change_record_review(change, user=crew.supervisor, data={
        "held_on": timezone.localdate(), "participants": "Supervisor, implementer", "summary": "As planned.",
        "lessons": "None new.", "actions": "None."})


def change_in_state(state: str, crew: ChangeCrew | None = None, **kwargs: Any) -> Change:
    """A change that went through the real services to `state`. Off the main road: rejected, cancelled,
    failed and rolled_back."""
    crew = crew or make_crew()
    change = draft_change(crew, **kwargs)
    if state == State.DRAFT:
        return change
    if state == State.REJECTED:
        while change.state != State.AWAITING_APPROVAL:
            change = advance(change, crew)
        voter = change.cab_members.first() if change.approval_mode == "joint" else crew.approver
        return change_transition(change, "reject", user=voter, comment="Too risky this month.")
    if state == State.CANCELLED:
        change = advance(change, crew)
        return change_transition(change, "cancel", user=change.created_by, comment="No longer needed.")
    if state in (State.FAILED, State.ROLLED_BACK):
        while change.state != State.IMPLEMENTING:
            change = advance(change, crew)
        change = change_transition(change, "fail", user=crew.implementer,
                                   data={"what_happened": "The cluster did not come back."})
        if state == State.ROLLED_BACK:
            change = change_transition(change, "roll_back", user=crew.implementer,
                                       data={"rollback_log": "Snapshot restored at 02:10; service back."})
        return change
    while change.state != state:
        if change.state in (State.CLOSED, State.REJECTED, State.CANCELLED):
            raise ValueError(f"{state} is not on the way")
        change = advance(change, crew)
    return change
