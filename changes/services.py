"""Operations on changes: request, edit (approved content is frozen), transitions through the kernel's one
service, opinions, implementation steps, post-implementation reviews and templates."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changes.choices import FROZEN_STATES, ApprovalMode, ChangeType, Decision, State, StepStatus, TemplateState
from changes.models import (
    FROZEN_FIELDS,
    PLAN_FIELDS,
    Change,
    ChangeOpinion,
    ChangeReview,
    ChangeStep,
    ChangeTemplate,
    ChangeVote,
)
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput, InvalidState, ReadOnlyRecord, TransitionForbidden
from opscenter.core.models import ConfigurationItem, FieldChange, TransitionLog
from opscenter.core.roles import has_role
from opscenter.core.services import perform_transition, ticket_create, ticket_update

REQUEST_FIELDS = {"title", "change_type", "category", "description", "purpose", "impact_scope", "planned_start",
                  "planned_end", "risk_assessment", "risk_mitigation", "rollback_tested", "risk_answers",
                  "services", "configuration_items", "related_incidents", "implementer", "template"}
PLAN_TEXT_FIELDS = {"rollback_plan", "contingency_plan"}
M2M_FIELDS = {"services", "configuration_items", "related_incidents"}

# What may be edited, by state. In approved and scheduled states an edit of approved content sends the
# change back for approval; the plan may be written until implementation starts.
EDITABLE = {
    State.DRAFT: REQUEST_FIELDS | PLAN_TEXT_FIELDS,
    State.SUBMITTED: PLAN_TEXT_FIELDS | {"related_incidents"},
    State.ASSESSING: PLAN_TEXT_FIELDS | {"related_incidents"},
    State.AWAITING_APPROVAL: PLAN_TEXT_FIELDS | {"related_incidents"},
    State.APPROVED: (set(FROZEN_FIELDS) - {"rollback_tested"}) | PLAN_TEXT_FIELDS | {"related_incidents"},
    State.SCHEDULED: (set(FROZEN_FIELDS) - {"rollback_tested"}) | PLAN_TEXT_FIELDS | {"related_incidents"},
}


def configuration_items_visible_to(user: Any):  # noqa: ANN201
    """IT staff and auditors see every CI; others see the CIs of services their department owns."""
    qs = ConfigurationItem.objects.all()
    if has_role(user, *roles.IT_STAFF, roles.AUDITOR):
        return qs
    if not getattr(user, "department_id", None):
        return qs.none()
    return qs.filter(services__owner_department_id=user.department_id).distinct()


def _check_visible_cis(user: Any, cis: Any) -> None:
    if cis is None:
        return
    ids = {ci.pk for ci in cis}
    visible = set(configuration_items_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    if ids - visible:
        raise InvalidInput({"configuration_items": [_("You cannot choose configuration items you cannot see.")]})


def _validation(exc: ValidationError) -> InvalidInput:
    return InvalidInput(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


def may_request(user: Any) -> bool:
    """Anyone signed in may request a change (任何需要對信息系統進行變更的人員或部門) but a read-only auditor."""
    from opscenter.core.services import is_read_only_user

    return bool(user and user.is_authenticated and user.is_active and not is_read_only_user(user))


def change_create(*, requester: Any, data: dict[str, Any], steps: list[str] | None = None) -> Change:
    """Create a change request in draft. A standard change copies its approved template."""
    if not may_request(requester):
        raise TransitionForbidden(_("You may not request changes."))
    data = dict(data)
    unknown = sorted(set(data) - REQUEST_FIELDS - PLAN_TEXT_FIELDS)
    if unknown:
        raise InvalidInput({f: [_("This field is not accepted here.")] for f in unknown})
    m2m = {f: data.pop(f) for f in list(data) if f in M2M_FIELDS}
    template = data.get("template")
    if data.get("change_type") == ChangeType.STANDARD or template is not None:
        if template is None:
            raise InvalidInput({"template": [_("A standard change is made from an approved template.")]})
        if template.state != TemplateState.APPROVED:
            raise InvalidInput({"template": [_("This template is not approved.")]})
        data["change_type"] = ChangeType.STANDARD
        for f in ("category", "description", "purpose", "impact_scope", "rollback_plan", "contingency_plan"):
            data.setdefault(f, getattr(template, f))
        data.setdefault("risk_assessment", template.risk_assessment)
        data.setdefault("risk_mitigation", template.risk_mitigation)
        data.setdefault("rollback_tested", True)
        if "services" not in m2m:
            m2m["services"] = list(template.services.all())
        if steps is None:
            steps = list(template.steps)
    _check_visible_cis(requester, m2m.get("configuration_items"))
    change = Change(created_by=requester, **data)
    if change.planned_start and change.planned_start < timezone.now() - timezone.timedelta(minutes=1):
        raise InvalidInput({"planned_start": [_("The planned window cannot start in the past.")]})
    if change.implementer_id:
        try:
            change._set_implementer(change.implementer)
        except ValidationError as exc:
            raise _validation(exc) from exc
    return ticket_create(change, user=requester, many=m2m, log_data={"type": change.change_type},
                         then=(lambda created: _write_steps(created, steps)) if steps else None)


def _write_steps(change: Change, steps: list[str]) -> None:
    texts = [str(s).strip() for s in steps]
    if any(not t for t in texts):
        raise InvalidInput({"steps": [_("A step cannot be empty.")]})
    change.steps.all().delete()
    ChangeStep.objects.bulk_create([ChangeStep(change=change, position=i, description=t)
                                    for i, t in enumerate(texts, start=1)])


def may_edit(change: Change, user: Any) -> bool:
    """The requester, the implementer and supervisors edit a change."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.pk in (change.created_by_id, change.implementer_id) or has_role(user, roles.SUPERVISOR)


def change_update(change: Change, *, user: Any, changes: dict[str, Any], steps: list[str] | None = None) -> Change:
    """Edit what the state allows, each old and new value on the timeline. Editing approved content (content,
    window, services, CIs, or a plan that was approved) sends the change back for approval."""
    if change.is_read_only:
        raise ReadOnlyRecord()
    if not may_edit(change, user):
        raise TransitionForbidden(_("You may not edit this change."))
    if "state" in changes or "risk_level" in changes:
        raise InvalidInput({k: [_("Set by assessment and transitions only.")]
                            for k in ("state", "risk_level") if k in changes})
    editable = EDITABLE.get(change.state, set())
    if steps is not None and change.state not in EDITABLE:
        raise InvalidInput({f: [_("This field cannot be changed now.")] for f in [*sorted(set(changes) - editable),
                                                                                   "steps"]})
    _check_visible_cis(user, changes.get("configuration_items"))

    def prepare(locked: Change) -> list[tuple[str, str, str]]:
        """The steps of the plan, and the checks of a new implementer or window."""
        records = []
        if steps is not None:
            old = list(locked.steps.order_by("position").values_list("description", flat=True))
            if old != [str(s).strip() for s in steps]:
                if locked.steps.exclude(status=StepStatus.PENDING).exists():
                    raise InvalidInput({"steps": [_("Steps already recorded cannot be rewritten.")]})
                _write_steps(locked, steps)
                records.append(("steps", "\n".join(old), "\n".join(str(s).strip() for s in steps)))
        if changes.get("implementer") is not None and changes["implementer"] != change.implementer:
            try:
                locked._set_implementer(changes["implementer"])
            except ValidationError as exc:
                raise _validation(exc) from exc
        if ("planned_start" in changes and changes["planned_start"] != change.planned_start
                and locked.planned_start and locked.planned_start < timezone.now()):
            raise InvalidInput({"planned_start": [_("The planned window cannot start in the past.")]})
        return records

    def then(locked: Change, fields: list[str]) -> Change:
        """Approved content edited: the approvals of this round no longer hold."""
        if locked.state in FROZEN_STATES and _approved_content_changed(locked):
            return perform_transition(locked, "require_reapproval", user=user, allow_internal=True,
                                      comment=_("Approved content edited: %(fields)s") % {"fields": ", ".join(fields)})
        return locked

    return ticket_update(change, user=user, changes=changes, editable=editable, prepare=prepare, then=then)


def _approved_content_changed(change: Change) -> bool:
    approved = change.approved_content or {}
    now = change.content_snapshot()
    for field in FROZEN_FIELDS:
        if field in approved and approved[field] != now[field]:
            return True
    # A plan first written after approval is not approved content; once scheduled, editing it is.
    approved_plan_edited = any(approved.get(f) not in (None, "", []) and approved.get(f) != now[f]
                               for f in PLAN_FIELDS)
    if change.state == State.SCHEDULED:
        return approved_plan_edited or _plan_changed_since_schedule(change)
    return approved_plan_edited


def _plan_changed_since_schedule(change: Change) -> bool:
    return FieldChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Change), object_id=change.pk,
        field__in=PLAN_FIELDS, created_at__gte=change.scheduled_at or timezone.now()).exists()


def change_transition(change: Change, name: str, *, user: Any, comment: str = "",
                      data: dict[str, Any] | None = None) -> Change:
    """Perform one change transition through the kernel's transition service, and write what it decides
    beside the change: each approval decision as a vote, the members of a joint review."""
    data = dict(data or {})

    def then(locked: Change, log: TransitionLog) -> None:
        if name in ("approve", "reject") and log.source_state == State.AWAITING_APPROVAL:
            # Every approval decision is kept: who, when, what, why (the unique row refuses a second vote).
            ChangeVote.objects.create(
                change=locked, round=locked.approval_round, voter=user,
                decision=Decision.APPROVE if name == "approve" else Decision.REJECT, comment=comment,
                is_joint_review=locked.approval_mode == ApprovalMode.JOINT)
        elif name == "assess" and locked.approval_mode == ApprovalMode.JOINT:
            locked.cab_members.set(locked.joint_review_members(data.get("cab_members")))

    return perform_transition(change, name, user=user, comment=comment, data=data, then=then)


# --- Opinions, steps, reviews --------------------------------------------------------------------------


def change_invite_opinions(change: Change, *, user: Any, reviewers: list[Any]) -> list[ChangeOpinion]:
    """The supervisor invites engineers and security staff to give their opinion during assessment."""
    if not has_role(user, roles.SUPERVISOR):
        raise TransitionForbidden(_("Only a supervisor invites assessment opinions."))
    if change.state not in (State.SUBMITTED, State.ASSESSING):
        raise InvalidState(_("Opinions are invited while the change is being assessed."))
    if not reviewers:
        raise InvalidInput({"reviewers": [_("Choose whom to ask.")]})
    wrong = [str(r) for r in reviewers
             if not r.is_active or not has_role(r, *roles.IT_STAFF) or r.pk == change.created_by_id]
    if wrong:
        raise InvalidInput({"reviewers": [_("Only active IT staff other than the requester give assessment "
                                            "opinions: %(names)s") % {
            "names": ", ".join(wrong)}]})
    from changes.receivers import opinion_invited

    created = []
    with transaction.atomic():
        for reviewer in reviewers:
            opinion, new = ChangeOpinion.objects.get_or_create(change=change, reviewer=reviewer,
                                                               defaults={"requested_by": user})
            if new:
                created.append(opinion)
        opinion_invited(change, [o.reviewer for o in created], actor=user)
    return created


def change_give_opinion(change: Change, *, user: Any, recommendation: str, opinion: str) -> ChangeOpinion:
    """An invited reviewer (or any engineer) records their opinion once, while the change is assessed."""
    from changes.choices import Recommendation

    if change.state not in (State.SUBMITTED, State.ASSESSING):
        raise InvalidState(_("Opinions are given while the change is being assessed."))
    if not has_role(user, *roles.IT_STAFF) or user.pk == change.created_by_id:
        raise TransitionForbidden(_("Only IT staff other than the requester give assessment opinions."))
    errors = {}
    if recommendation not in Recommendation.values:
        errors["recommendation"] = [_("Choose a recommendation.")]
    if not (opinion or "").strip():
        errors["opinion"] = [_("Write your opinion.")]
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        record, _new = ChangeOpinion.objects.select_for_update().get_or_create(change=change, reviewer=user)
        if record.given_at:
            raise ConditionFailed(_("You have already given your opinion on this change."), code="already_given")
        record.recommendation, record.opinion, record.given_at = recommendation, opinion, timezone.now()
        record.save()
    return record


def change_record_step(change: Change, *, user: Any, position: int, status: str, note: str = "") -> ChangeStep:
    """The implementer records a step of the plan done, or skipped with the reason."""
    from changes.models import may_implement

    if change.state != State.IMPLEMENTING:
        raise InvalidState(_("Steps are recorded while the change is being implemented."))
    if not may_implement(change, user):
        # Whoever approved the change is told why (segregation of duties), as on the transitions.
        raise may_implement.refusal(change, user) or TransitionForbidden(_("Only the implementer records the steps."))
    if status not in (StepStatus.DONE, StepStatus.SKIPPED):
        raise InvalidInput({"status": [_("A step is recorded done or skipped.")]})
    if status == StepStatus.SKIPPED and not (note or "").strip():
        raise InvalidInput({"note": [_("Say why the step was skipped.")]})
    with transaction.atomic():
        step = ChangeStep.objects.select_for_update().filter(change=change, position=position).first()
        if step is None:
            raise InvalidInput({"position": [_("The plan has no such step.")]})
        if step.status != StepStatus.PENDING:
            raise ConditionFailed(_("This step is already recorded."), code="already_recorded")
        step.status, step.note, step.done_by, step.done_at = status, note, user, timezone.now()
        step.save()
        FieldChange.objects.create(
            content_type=ContentType.objects.get_for_model(Change), object_id=change.pk,
            field=f"step {position}", old_value=StepStatus.PENDING.label,
            new_value=f"{step.get_status_display()}{': ' + note if note else ''}", actor=user)
    return step


def check_may_record_review(change: Change, *, user: Any) -> None:
    """Refuse a review from anyone but a supervisor (403), or before the implementation (409)."""
    if not has_role(user, roles.SUPERVISOR):
        raise TransitionForbidden(_("Only a supervisor records the post-implementation review."))
    if change.state not in (State.COMPLETED, State.FAILED, State.ROLLED_BACK, State.VERIFYING):
        raise InvalidState(_("The review follows the implementation."))


def change_record_review(change: Change, *, user: Any, data: dict[str, Any]) -> ChangeReview:
    """The supervisor records the post-implementation review (required for emergency and failed changes)."""
    check_may_record_review(change, user=user)
    review = ChangeReview(change=change, recorded_by=user, **data)
    try:
        review.full_clean(exclude=["change", "recorded_by"])
    except ValidationError as exc:
        raise _validation(exc) from exc
    review.save()
    return review


def template_propose(*, user: Any, data: dict[str, Any]) -> ChangeTemplate:
    """IT staff propose a standard change; a supervisor approves it once."""
    if not has_role(user, *roles.IT_STAFF):
        raise TransitionForbidden(_("Only IT staff propose standard changes."))
    services = data.pop("services", None)
    template = ChangeTemplate(proposed_by=user, **data)
    try:
        template.full_clean(exclude=["state", "proposed_by"])
    except ValidationError as exc:
        raise _validation(exc) from exc
    try:
        with transaction.atomic():
            template.save()
            if services:
                template.services.set(services)
    except IntegrityError as exc:
        raise InvalidInput({"name": [_("A template with this name exists.")]}) from exc
    return template
