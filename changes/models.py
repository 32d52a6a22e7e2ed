"""Changes and their state machine (DESIGN §4 "Change"), standard-change templates, the risk
questionnaire, approval rules by risk level, CAB votes, assessment opinions, implementation steps,
post-implementation reviews, and freeze and maintenance windows."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from changes.choices import (
    BEFORE_APPROVAL,
    ApprovalMode,
    Category,
    ChangeType,
    Decision,
    Outcome,
    Recommendation,
    RiskLevel,
    State,
    StepStatus,
    TemplateState,
)
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, TransitionForbidden
from opscenter.core.models import AppendOnlyModel, Ticket, TicketQuerySet, append_only_triggers
from opscenter.core.roles import has_role
from opscenter.core.workflow import condition, roles_allowed


def frozen_text(value: object) -> str:
    """A field as approval records it: an instant reads the same whatever time zone it was given in."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = value.astimezone(UTC)
    return str(value or "")


def _localized(obj: models.Model, field: str) -> str:
    from django.utils.translation import get_language

    zh = getattr(obj, f"{field}_zh_hant", "")
    return zh if zh and (get_language() or "").startswith("zh") else getattr(obj, field)


# --- Standard-change templates -------------------------------------------------------------------------


def _template_approval_refusal(template: "ChangeTemplate", user) -> Exception | None:  # noqa: ANN001
    if not (user and getattr(user, "is_authenticated", False) and user.is_active and has_role(user, roles.SUPERVISOR)):
        return TransitionForbidden()
    if user.pk == template.proposed_by_id:
        return TransitionForbidden(_("Whoever proposed a template cannot approve it (segregation of duties)."),
                                   code="segregation_of_duties")
    return None


def may_approve_template(template: "ChangeTemplate", user) -> bool:  # noqa: ANN001
    return _template_approval_refusal(template, user) is None


may_approve_template.refusal = _template_approval_refusal  # type: ignore[attr-defined]


class ChangeTemplate(models.Model):
    """A standard change approved once by a supervisor; changes made from it go straight to approved."""

    STATE_FIELD = "state"

    name = models.CharField(_("name"), max_length=160, unique=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    description = models.TextField(_("content"))
    purpose = models.TextField(_("purpose"))
    impact_scope = models.TextField(_("impact scope"))
    risk_assessment = models.TextField(_("risk assessment"))
    risk_mitigation = models.TextField(_("risk mitigation"))
    steps = models.JSONField(_("implementation steps"), default=list, blank=True,
                             help_text=_("The ordered steps, one text per step."))
    rollback_plan = models.TextField(_("rollback plan"))
    contingency_plan = models.TextField(_("contingency plan"))
    services = models.ManyToManyField("core.Service", verbose_name=_("services"), blank=True, related_name="+")
    state = FSMField(_("state"), default=TemplateState.PROPOSED, choices=TemplateState.choices, protected=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"),
                                    on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("standard change template")
        verbose_name_plural = _("standard change templates")

    def __str__(self) -> str:
        return self.name

    @property
    def is_read_only(self) -> bool:
        return self.state == TemplateState.RETIRED

    def clean(self) -> None:
        if not isinstance(self.steps, list) or not all(isinstance(s, str) and s.strip() for s in self.steps):
            raise ValidationError({"steps": _("Give the steps as a list of texts.")})

    @transition(field=state, source=TemplateState.PROPOSED, target=TemplateState.APPROVED,
                permission=may_approve_template,
                custom={"label": _("Approve the template"),
                        "description": _("Approve the standard change once; changes made from it need no further "
                                         "approval. Its proposer cannot approve it.")})
    def approve(self, *, by) -> None:  # noqa: ANN001
        """A supervisor other than its proposer approves the template once; its changes need no further approval."""
        if not self.steps:
            raise ValidationError({"steps": _("A standard change template needs its implementation steps.")})
        self.approved_by = by
        self.approved_at = timezone.now()

    @transition(field=state, source=[TemplateState.PROPOSED, TemplateState.APPROVED], target=TemplateState.RETIRED,
                permission=roles_allowed(roles.SUPERVISOR),
                custom={"label": _("Retire the template"),
                        "description": _("No new changes are made from a retired template.")})
    def retire(self, *, by) -> None:  # noqa: ANN001
        """No new changes are made from a retired template."""


# --- Risk ---------------------------------------------------------------------------------------------


class RiskQuestion(models.Model):
    """One question of the risk questionnaire; each answer carries a weight."""

    text = models.CharField(_("question"), max_length=255)
    text_zh_hant = models.CharField(_("question (Traditional Chinese)"), max_length=255, blank=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["ordering", "pk"]
        verbose_name = _("risk question")
        verbose_name_plural = _("risk questionnaire")

    def __str__(self) -> str:
        return _localized(self, "text")


class RiskOption(models.Model):
    """An answer to a risk question and its weight in the risk score."""

    question = models.ForeignKey(RiskQuestion, verbose_name=_("question"), on_delete=models.CASCADE,
                                 related_name="options")
    label = models.CharField(_("answer"), max_length=160)
    label_zh_hant = models.CharField(_("answer (Traditional Chinese)"), max_length=160, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=0)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["question", "ordering", "pk"]
        verbose_name = _("risk answer")
        verbose_name_plural = _("risk answers")

    def __str__(self) -> str:
        return f"{_localized(self, 'label')} ({self.weight})"


class ApprovalRule(models.Model):
    """Per risk level: from which questionnaire score it applies, and who approves (更高級別的審批人,
    聯合評審)."""

    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, unique=True)
    min_score = models.PositiveSmallIntegerField(
        _("from score"), default=0, help_text=_("A questionnaire score at or above this gives at least this level."))
    mode = models.CharField(_("approval"), max_length=8, choices=ApprovalMode.choices, default=ApprovalMode.APPROVER)
    approvals_required = models.PositiveSmallIntegerField(
        _("approvals required"), default=1,
        help_text=_("With change approvers: how many different approvers must approve."))
    default_cab_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("default CAB members"), blank=True, related_name="+",
        help_text=_("Joint review: the members named on a change unless the supervisor names others."))

    class Meta:
        ordering = ["min_score"]
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")

    def __str__(self) -> str:
        return f"{self.get_risk_level_display()}: {self.get_mode_display()}"

    def clean(self) -> None:
        if self.approvals_required < 1:
            raise ValidationError({"approvals_required": _("At least one approval is required.")})


# --- Windows ------------------------------------------------------------------------------------------


class FreezeWindow(models.Model):
    """A blackout period: no normal or standard change may be scheduled inside it (global, or for the
    services named)."""

    name = models.CharField(_("name"), max_length=160)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.TextField(_("reason"), blank=True)
    services = models.ManyToManyField("core.Service", verbose_name=_("services"), blank=True, related_name="+",
                                      help_text=_("Leave empty for a freeze on every service."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("freeze window")
        verbose_name_plural = _("freeze windows")
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="freezewindow_period")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The window must end after it starts.")})


class MaintenanceWindow(models.Model):
    """When a service may be changed: a recurrence (RFC 5545 rule) of periods in local time.
    Scheduling outside every window of an affected service is a warning, not a refusal."""

    service = models.ForeignKey("core.Service", verbose_name=_("service"), on_delete=models.CASCADE,
                                related_name="maintenance_windows")
    name = models.CharField(_("name"), max_length=160)
    recurrence = models.CharField(
        _("recurrence"), max_length=200, default="FREQ=WEEKLY;BYDAY=SA",
        help_text=_("An iCalendar RRULE, for example FREQ=WEEKLY;BYDAY=SA or FREQ=MONTHLY;BYDAY=1SU."))
    start_time = models.TimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["service", "name"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")

    def __str__(self) -> str:
        return f"{self.service} · {self.name}"

    def clean(self) -> None:
        if self.duration_minutes is not None and not 0 < self.duration_minutes <= 7 * 24 * 60:
            raise ValidationError({"duration_minutes": _("Give a duration between 1 minute and 7 days.")})
        try:
            self.rule(timezone.now())
        except (ValueError, TypeError) as exc:
            raise ValidationError({"recurrence": _("This is not a valid recurrence rule: %(error)s") % {
                "error": exc}}) from exc

    def rule(self, around: datetime):  # noqa: ANN201
        from dateutil.rrule import rrulestr

        tz = timezone.get_current_timezone()
        dtstart = datetime.combine((timezone.localtime(around, tz) - timedelta(days=400)).date(),
                                   self.start_time).replace(tzinfo=tz)
        return rrulestr(self.recurrence, dtstart=dtstart)

    def covers(self, start: datetime, end: datetime) -> bool:
        """True when one occurrence of the window contains the whole period."""
        duration = timedelta(minutes=self.duration_minutes)
        rule = self.rule(start)
        occurrence = rule.before(timezone.localtime(start) + timedelta(seconds=1), inc=True)
        return bool(occurrence) and occurrence <= start and occurrence + duration >= end


# --- Changes ------------------------------------------------------------------------------------------


class ChangeQuerySet(TicketQuerySet):
    def visible_to(self, user) -> "ChangeQuerySet":  # noqa: ANN001
        """IT staff and auditors see every change; anyone else sees the changes they requested and
        those on services their department owns."""
        qs = super().visible_to(user)
        if not getattr(user, "is_authenticated", False):
            return qs
        if has_role(user, *roles.IT_STAFF, roles.AUDITOR):
            return qs
        mine = Q(created_by=user)
        if user.department_id:
            mine |= Q(pk__in=Change.services.through.objects.filter(
                service__owner_department_id=user.department_id).values("change_id"))
        return qs.filter(mine)


def _authenticated(user) -> bool:  # noqa: ANN001
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active)


def is_requester(change: "Change", user) -> bool:  # noqa: ANN001
    return _authenticated(user) and change.created_by_id == user.pk


def may_submit(change: "Change", user) -> bool:  # noqa: ANN001
    return is_requester(change, user) and not has_role(user, roles.AUDITOR) or (
        _authenticated(user) and user.is_superuser)


def may_cancel(change: "Change", user) -> bool:  # noqa: ANN001
    """The requester withdraws their change; a supervisor cancels any."""
    return is_requester(change, user) or (_authenticated(user) and has_role(user, roles.SUPERVISOR))


def _approver_refusal(change: "Change", user) -> Exception | None:  # noqa: ANN001
    """Why this user may not approve or reject the change now (None when they may)."""
    if not _authenticated(user):
        return TransitionForbidden()
    if change.created_by_id == user.pk:
        return TransitionForbidden(_("The requester cannot approve or vote on their own change "
                                     "(segregation of duties)."), code="segregation_of_duties")
    if change.implementer_id == user.pk:
        return TransitionForbidden(_("The implementer of a change cannot approve it (segregation of duties)."),
                                   code="segregation_of_duties")
    if change.state == State.ASSESSING:  # the supervisor rejects at assessment
        return None if has_role(user, roles.SUPERVISOR) else TransitionForbidden()
    if change.approval_mode == ApprovalMode.JOINT:
        if user.pk not in change.cab_member_ids():
            return TransitionForbidden(_("Only the CAB members named for this joint review vote on it."),
                                       code="not_a_cab_member")
    elif not has_role(user, roles.CHANGE_APPROVER):
        return TransitionForbidden(_("Only a change approver approves this change."))
    if change.state == State.AWAITING_APPROVAL and change.assessed_by_id == user.pk:
        # Two people, not two hats: whoever assessed the change does not also decide it, whatever roles they hold.
        return TransitionForbidden(_("Whoever assessed a change cannot approve or reject it (segregation of "
                                     "duties)."), code="segregation_of_duties")
    if change.state == State.AWAITING_APPROVAL and change.has_voted(user):
        return ConditionFailed(_("You have already voted on this change."), code="already_voted")
    return None


def may_approve(change: "Change", user) -> bool:  # noqa: ANN001
    return _approver_refusal(change, user) is None


may_approve.refusal = _approver_refusal  # type: ignore[attr-defined]


def is_implementer(change: "Change", user) -> bool:  # noqa: ANN001
    """The named implementer; while none is named, an engineer who did not approve it takes the change by
    scheduling it (a requester may implement their own change)."""
    if not _authenticated(user):
        return False
    if change.implementer_id:
        return change.implementer_id == user.pk
    return has_role(user, *roles.ENGINEERS) and not change.has_approved(user)


def _implementer_refusal(change: "Change", user) -> Exception | None:  # noqa: ANN001
    if _authenticated(user) and change.has_approved(user) and (
            change.implementer_id in (None, user.pk)):
        return TransitionForbidden(_("Whoever approved a change cannot implement it (segregation of duties)."),
                                   code="segregation_of_duties")
    return None


def may_implement(change: "Change", user) -> bool:  # noqa: ANN001
    return is_implementer(change, user) and _implementer_refusal(change, user) is None


may_implement.refusal = _implementer_refusal  # type: ignore[attr-defined]


def may_roll_back(change: "Change", user) -> bool:  # noqa: ANN001
    return may_implement(change, user) or (_authenticated(user) and has_role(user, roles.SUPERVISOR))


may_roll_back.refusal = _implementer_refusal  # type: ignore[attr-defined]


@condition(_("The change cannot start before its planned window opens."))
def window_has_opened(change: "Change") -> bool:
    return change.planned_start is not None and change.planned_start <= timezone.now()


@condition(_("Every implementation step must be done or skipped before verification."))
def steps_finished(change: "Change") -> bool:
    steps = change.prefetched("steps")
    if steps is not None:
        return all(s.status != StepStatus.PENDING for s in steps)
    return not change.steps.filter(status=StepStatus.PENDING).exists()


@condition(_("Emergency and failed changes need their post-implementation review before they close."))
def has_review_if_required(change: "Change") -> bool:
    return not change.needs_review or change.reviews.exists()


@condition(_("A standard change is made from an approved template."))
def template_is_approved(change: "Change") -> bool:
    return change.change_type != ChangeType.STANDARD or (
        change.template_id is not None and change.template.state == TemplateState.APPROVED)


# What the requester must have filled in before a change can be submitted (變更申請表).
REQUIRED_TO_SUBMIT = ("title", "category", "description", "purpose", "impact_scope", "planned_start",
                      "planned_end", "risk_assessment", "risk_mitigation")

# What approval covers: editing any of it after approval sends the change back (approved content is frozen).
FROZEN_FIELDS = ("title", "category", "description", "purpose", "impact_scope", "planned_start", "planned_end",
                 "risk_assessment", "risk_mitigation", "rollback_tested", "services", "configuration_items")
PLAN_FIELDS = ("rollback_plan", "contingency_plan", "steps")


class Change(Ticket):
    """A request to change hardware, software or the network, worked from request to close."""

    NUMBER_PREFIX = "CHG"

    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True)
    change_type = models.CharField(_("type"), max_length=16, choices=ChangeType.choices, default=ChangeType.NORMAL)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    template = models.ForeignKey(ChangeTemplate, verbose_name=_("template"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="changes")

    # the request (變更申請表)
    description = models.TextField(_("content"), blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    impact_scope = models.TextField(_("impact scope"), blank=True)
    services = models.ManyToManyField("core.Service", verbose_name=_("affected services"), blank=True,
                                      related_name="changes")
    configuration_items = models.ManyToManyField("core.ConfigurationItem", verbose_name=_("affected CIs"),
                                                 blank=True, related_name="changes")
    related_incidents = models.ManyToManyField("incidents.Incident", verbose_name=_("related incidents"),
                                               blank=True, related_name="changes")
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True, db_index=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    risk_assessment = models.TextField(_("requester's risk assessment"), blank=True)
    risk_mitigation = models.TextField(_("risk mitigation"), blank=True)
    rollback_tested = models.BooleanField(_("rollback tested"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    # risk: questionnaire answers + rules → computed level; the supervisor may override with a reason
    risk_answers = models.JSONField(_("risk questionnaire answers"), default=dict, blank=True)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0)
    risk_reasons = models.JSONField(_("risk rules applied"), default=list, blank=True)
    computed_risk_level = models.CharField(_("computed risk"), max_length=8, choices=RiskLevel.choices, blank=True)
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, blank=True,
                                  db_index=True)
    risk_override_reason = models.TextField(_("risk override justification"), blank=True)

    # assessment by the supervisor
    necessity = models.TextField(_("necessity"), blank=True)
    feasibility = models.TextField(_("feasibility"), blank=True)
    assessment = models.TextField(_("assessment opinion"), blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assessed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)

    # approval
    approval_mode = models.CharField(_("approval"), max_length=8, choices=ApprovalMode.choices, blank=True)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    approval_round = models.PositiveSmallIntegerField(_("approval round"), default=1)
    cab_members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("CAB members"), blank=True,
                                         related_name="cab_changes")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_content = models.JSONField(_("approved content"), default=dict, blank=True, editable=False)

    # plan and schedule
    implementer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("implementer"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="changes_implemented")
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    contingency_plan = models.TextField(_("contingency plan"), blank=True)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    freeze_exception = models.BooleanField(_("inside a freeze window"), default=False,
                                           help_text=_("An emergency change scheduled inside a freeze window."))
    outside_maintenance = models.BooleanField(_("outside maintenance windows"), default=False)
    conflicts_acknowledged = models.JSONField(_("conflicts acknowledged"), default=list, blank=True)

    # implementation, verification, report
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    failure_description = models.TextField(_("what happened"), blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    rollback_log = models.TextField(_("rollback log"), blank=True)
    rolled_back_at = models.DateTimeField(_("rolled back at"), null=True, blank=True)
    verify_function = models.TextField(_("function test"), blank=True)
    verify_performance = models.TextField(_("performance test"), blank=True)
    verify_data = models.TextField(_("data integrity test"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    implementation_report = models.TextField(_("implementation report"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    close_review = models.TextField(_("supervisor's review"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            models.Index(fields=["created_at", "id"], name="change_newest"),
            models.Index(fields=["state", "created_at", "id"], name="change_state_newest"),
            models.Index(fields=["planned_start", "planned_end"], name="change_window"),
            models.Index(fields=["implementer", "state"], name="change_implementer"),
        ]

    def clean(self) -> None:
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValidationError({"planned_end": _("The window must end after it starts.")})

    # --- reading ---

    @property
    def is_read_only(self) -> bool:
        return self.state in (State.CLOSED, State.REJECTED, State.CANCELLED)

    @property
    def needs_review(self) -> bool:
        """A post-implementation review is required for emergency and failed changes."""
        return self.change_type == ChangeType.EMERGENCY or self.failed_at is not None

    def prefetched(self, name: str) -> list | None:
        """The related rows prefetched under `name` (lists and pages ask every row), None when not."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        return list(cache[name]) if name in cache else None

    def cab_member_ids(self) -> set[int]:
        members = self.prefetched("cab_members")
        if members is not None:
            return {u.pk for u in members}
        return set(self.cab_members.values_list("pk", flat=True))

    def current_votes(self) -> models.QuerySet:
        return self.votes.filter(round=self.approval_round)

    def has_voted(self, user) -> bool:  # noqa: ANN001
        votes = self.prefetched("votes")
        if votes is not None:
            return any(v.round == self.approval_round and v.voter_id == user.pk for v in votes)
        return self.current_votes().filter(voter_id=user.pk).exists()

    def has_approved(self, user) -> bool:  # noqa: ANN001
        """Approved this change in any round (segregation of duties with implementing it)."""
        votes = self.prefetched("votes")
        if votes is not None:
            return any(v.voter_id == user.pk and v.decision == Decision.APPROVE for v in votes)
        return self.votes.filter(voter_id=user.pk, decision=Decision.APPROVE).exists()

    def window_overlaps(self, start: datetime, end: datetime) -> bool:
        return bool(self.planned_start and self.planned_end and self.planned_start < end and start < self.planned_end)

    # --- transitions: each sets fields on its own row; services do everything around them ---

    @transition(field=state, source=State.DRAFT,
                target=RETURN_VALUE(State.SUBMITTED, State.AWAITING_APPROVAL, State.APPROVED),
                conditions=[template_is_approved], permission=may_submit,
                custom={"label": _("Submit the request"),
                        "description": _("Hand the request to the supervisor. A standard change from an approved "
                                         "template is approved at once; an emergency change goes straight to "
                                         "expedited approval.")})
    def submit(self, *, by) -> str:  # noqa: ANN001
        """Hand the request to the supervisor. A standard change from an approved template is approved at
        once; an emergency change goes straight to expedited approval."""
        from changes.risk import assess_risk
        from changes.rules import approval_rule_for

        self.check_request_complete()
        if self.planned_start < timezone.now():
            raise ValidationError({"planned_start": _("The planned window cannot start in the past.")})
        self.submitted_at = timezone.now()  # the lead time counts from this submission, not an earlier one
        result = assess_risk(self)
        self.risk_score, self.risk_reasons = result.score, result.reasons
        self.computed_risk_level = self.risk_level = result.level
        if self.change_type == ChangeType.STANDARD:
            self.approval_mode = ""
            self._mark_approved()
            return State.APPROVED
        if self.change_type == ChangeType.EMERGENCY:
            # Expedited approval: one change approver, whatever the risk; reviewed after the fact.
            self.approval_mode, self.approvals_required = ApprovalMode.APPROVER, 1
            return State.AWAITING_APPROVAL
        rule = approval_rule_for(self.risk_level)
        self.approval_mode, self.approvals_required = rule.mode, rule.approvals_required
        return State.SUBMITTED

    def check_request_complete(self) -> None:
        missing = [f for f in REQUIRED_TO_SUBMIT if getattr(self, f) in (None, "")]
        errors = {f: [_("This field is required to submit the change.")] for f in missing}
        if self.pk and not self.services.exists() and not self.configuration_items.exists():
            errors["services"] = [_("Name the affected services or configuration items.")]
        if errors:
            raise ValidationError(errors)

    @transition(field=state, source=State.SUBMITTED, target=State.ASSESSING,
                permission=roles_allowed(roles.SUPERVISOR),
                custom={"label": _("Start assessment"),
                        "description": _("Take up the request; opinions may be asked of engineers and security.")})
    def start_assessment(self, *, by) -> None:  # noqa: ANN001
        """The supervisor takes up the request and may invite opinions from engineers and security."""

    @transition(field=state, source=[State.SUBMITTED, State.ASSESSING], target=State.DRAFT,
                permission=roles_allowed(roles.SUPERVISOR),
                custom={"label": _("Send back to requester"), "comment_required": _("Say what the request needs."),
                        "description": _("The request is incomplete: the requester edits it and submits it again.")})
    def send_back(self, *, by) -> None:  # noqa: ANN001
        """The request is incomplete; the requester edits and submits it again (the reason is the comment)."""

    @transition(field=state, source=State.ASSESSING, target=State.AWAITING_APPROVAL,
                permission=roles_allowed(roles.SUPERVISOR),
                custom={"label": _("Record assessment"),
                        "description": _("Record necessity, feasibility and the risk level, and pass the change to "
                                         "its approvers (the CAB members are named for a joint review).")})
    def assess(self, *, by, necessity: str, feasibility: str, assessment: str, risk_level: str = "",  # noqa: ANN001
               override_reason: str = "", cab_members=None, implementer=None) -> None:
        """Record necessity, feasibility and the risk level, and pass the change to its approvers.

        A risk level other than the computed one needs a justification. For a joint review the CAB
        members are named here (the rule's default members otherwise)."""
        from changes.rules import approval_rule_for

        errors = {f: [_("This field is required.")] for f, v in
                  (("necessity", necessity), ("feasibility", feasibility), ("assessment", assessment))
                  if not (v or "").strip()}
        level = risk_level or self.computed_risk_level
        if level not in RiskLevel.values:
            errors["risk_level"] = [_("Choose a risk level.")]
        elif level != self.computed_risk_level and not (override_reason or "").strip():
            errors["override_reason"] = [_("Justify a risk level other than the computed one.")]
        if errors:
            raise ValidationError(errors)
        self.necessity, self.feasibility, self.assessment = necessity, feasibility, assessment
        if level != self.risk_level or override_reason:
            self.risk_override_reason = override_reason if level != self.computed_risk_level else ""
        self.risk_level = level
        self.assessed_by, self.assessed_at = by, timezone.now()
        if implementer is not None:
            self._set_implementer(implementer)
        rule = approval_rule_for(level)
        self.approval_mode, self.approvals_required = rule.mode, rule.approvals_required
        if rule.mode == ApprovalMode.JOINT:
            # The members are written by change_transition: a transition sets fields on its own row only.
            self._check_cab_members(self.joint_review_members(cab_members))

    def _set_implementer(self, implementer) -> None:  # noqa: ANN001
        if not implementer.is_active or not has_role(implementer, *roles.ENGINEERS, roles.SUPERVISOR):
            raise ValidationError({"implementer": _("The implementer must be an active engineer.")})
        if self.pk and (self.has_approved(implementer) or implementer.pk in self.cab_member_ids()):
            raise ValidationError({"implementer": _(
                "Whoever approves a change cannot implement it (segregation of duties).")})
        self.implementer = implementer

    def joint_review_members(self, chosen: list | None = None) -> list:
        """The CAB members of a joint review: those chosen at assessment, else the rule's default members."""
        from changes.rules import approval_rule_for

        if chosen:
            return list(chosen)
        return list(approval_rule_for(self.risk_level).default_cab_members.filter(is_active=True)
                    .exclude(pk=self.assessed_by_id or 0))

    def _check_cab_members(self, members: list) -> None:
        if not members:
            raise ValidationError({"cab_members": _("Name the CAB members of the joint review.")})
        refused = [str(u) for u in members if not u.is_active or not has_role(u, roles.CAB_MEMBER)]
        if refused:
            raise ValidationError({"cab_members": _("Not active CAB members: %(names)s") % {
                "names": ", ".join(refused)}})
        if any(u.pk in (self.created_by_id, self.implementer_id) for u in members):
            raise ValidationError({"cab_members": _(
                "The requester and the implementer cannot sit on the change's joint review.")})
        if any(u.pk == self.assessed_by_id for u in members):
            raise ValidationError({"cab_members": _(
                "Whoever assessed the change cannot sit on its joint review.")})

    @transition(field=state, source=State.AWAITING_APPROVAL,
                target=RETURN_VALUE(State.AWAITING_APPROVAL, State.APPROVED), permission=may_approve,
                custom={"label": _("Approve the change"),
                        "description": _("Your approval (your vote, in a joint review). The change is approved "
                                         "when every CAB member named, or the approvers required, have approved.")})
    def approve(self, *, by) -> str:  # noqa: ANN001
        """One approval (a vote, in a joint review). The change is approved when every named CAB member,
        or the required number of change approvers, has approved in this round."""
        approvers = set(self.current_votes().filter(decision=Decision.APPROVE).values_list("voter_id", flat=True))
        approvers.add(by.pk)
        if self.approval_mode == ApprovalMode.JOINT:
            done = self.cab_member_ids() <= approvers
        else:
            done = len(approvers) >= max(1, self.approvals_required)
        if done:
            self._mark_approved()
            return State.APPROVED
        return State.AWAITING_APPROVAL

    def _mark_approved(self) -> None:
        self.approved_at = timezone.now()
        self.approved_content = self.content_snapshot()

    def content_snapshot(self) -> dict:
        """What approval covers, as text: compared on every later edit (approved content is frozen)."""
        snapshot = {f: frozen_text(getattr(self, f)) for f in FROZEN_FIELDS
                    if f not in ("services", "configuration_items")}
        snapshot["services"] = sorted(self.services.values_list("pk", flat=True))
        snapshot["configuration_items"] = sorted(self.configuration_items.values_list("pk", flat=True))
        snapshot["rollback_plan"] = self.rollback_plan
        snapshot["contingency_plan"] = self.contingency_plan
        snapshot["steps"] = list(self.steps.order_by("position").values_list("description", flat=True))
        return snapshot

    @transition(field=state, source=[State.ASSESSING, State.AWAITING_APPROVAL], target=State.REJECTED,
                permission=may_approve,
                custom={"label": _("Reject the change"), "comment_required": _("Give the reason for rejecting."),
                        "description": _("Refuse the change, with the reason. In a joint review one rejection "
                                         "rejects.")})
    def reject(self, *, by) -> None:  # noqa: ANN001
        """Refuse the change (the reason is the comment). In a joint review any rejection rejects."""
        self.closed_at = timezone.now()

    @transition(field=state, source=[State.APPROVED, State.SCHEDULED], target=State.AWAITING_APPROVAL,
                custom={"label": _("Send back for approval"), "internal": True})
    def require_reapproval(self, *, by) -> None:  # noqa: ANN001
        """Approved content was edited: the approvals of this round no longer hold."""
        self.approval_round += 1
        self.approved_at = None
        self.scheduled_at = None
        if not self.approval_mode:  # a standard change that left its template is approved like a normal one
            self.approval_mode, self.approvals_required = ApprovalMode.APPROVER, 1

    @transition(field=state, source=State.APPROVED, target=State.SCHEDULED, permission=may_implement,
                custom={"label": _("Schedule the change"),
                        "description": _("Fix the window with the implementation plan. Freeze windows refuse it; "
                                         "conflicts with other changes must be acknowledged.")})
    def schedule(self, *, by, acknowledge_conflicts: bool = False) -> None:  # noqa: ANN001
        """Fix the window with the implementation plan (steps, rollback, contingency). Freeze windows refuse
        a normal or standard change; conflicts with other changes must be acknowledged."""
        from changes.rules import schedule_check

        errors = {}
        if not self.rollback_plan.strip():
            errors["rollback_plan"] = [_("The implementation plan needs a rollback plan.")]
        if not self.contingency_plan.strip():
            errors["contingency_plan"] = [_("The implementation plan needs a contingency plan.")]
        if not self.steps.exists():
            errors["steps"] = [_("The implementation plan needs its steps.")]
        if errors:
            raise ValidationError(errors)
        if self.implementer_id is None:  # whoever schedules takes the change: their bookings count below
            self._set_implementer(by)
        check = schedule_check(self)
        check.enforce(acknowledge_conflicts=acknowledge_conflicts)
        self.freeze_exception = bool(check.freezes)
        self.outside_maintenance = bool(check.maintenance_warnings)
        self.conflicts_acknowledged = [c.as_dict() for c in check.conflicts]
        self.scheduled_at = timezone.now()

    @transition(field=state, source=State.SCHEDULED, target=State.IMPLEMENTING, conditions=[window_has_opened],
                permission=may_implement,
                custom={"label": _("Start implementation"),
                        "description": _("Begin the work inside the window; each step is then recorded done or "
                                         "skipped.")})
    def start(self, *, by) -> None:  # noqa: ANN001
        """Begin the work inside the window; each step is then recorded done or skipped."""
        self.started_at = timezone.now()

    @transition(field=state, source=[State.IMPLEMENTING, State.VERIFYING], target=State.FAILED,
                permission=may_implement,
                custom={"label": _("Record failure"),
                        "description": _("The change did not work: record what happened; the rollback follows.")})
    def fail(self, *, by, what_happened: str) -> None:  # noqa: ANN001
        """The change did not work: record what happened; the rollback follows."""
        if not (what_happened or "").strip():
            raise ValidationError({"what_happened": _("Record what happened.")})
        self.failure_description = what_happened
        self.failed_at = timezone.now()

    @transition(field=state, source=State.FAILED, target=State.ROLLED_BACK, permission=may_roll_back,
                custom={"label": _("Record the rollback"),
                        "description": _("The rollback plan was carried out: record its log.")})
    def roll_back(self, *, by, rollback_log: str) -> None:  # noqa: ANN001
        """The rollback plan was carried out: record its log."""
        if not (rollback_log or "").strip():
            raise ValidationError({"rollback_log": _("Record the rollback log.")})
        self.rollback_log = rollback_log
        self.rolled_back_at = timezone.now()
        self.outcome = Outcome.ROLLED_BACK

    @transition(field=state, source=State.IMPLEMENTING, target=State.VERIFYING, conditions=[steps_finished],
                permission=may_implement,
                custom={"label": _("Record verification"),
                        "description": _("Record the function, performance and data integrity tests.")})
    def verify(self, *, by, function: str, performance: str, data_integrity: str) -> None:  # noqa: ANN001
        """Record the verification: function, performance and data integrity tests (變更驗證)."""
        errors = {name: [_("Record the result of this test.")] for name, value in
                  (("function", function), ("performance", performance), ("data_integrity", data_integrity))
                  if not (value or "").strip()}
        if errors:
            raise ValidationError(errors)
        self.verify_function, self.verify_performance, self.verify_data = function, performance, data_integrity
        self.verified_at = timezone.now()

    @transition(field=state, source=State.VERIFYING, target=State.COMPLETED, permission=may_implement,
                custom={"label": _("Submit the implementation report"),
                        "description": _("Submit the implementation report to the supervisor.")})
    def complete(self, *, by, report: str) -> None:  # noqa: ANN001
        """Submit the implementation report (變更實施報告) to the supervisor."""
        if not (report or "").strip():
            raise ValidationError({"report": _("Write the implementation report.")})
        self.implementation_report = report
        self.completed_at = timezone.now()
        self.outcome = Outcome.SUCCESSFUL

    @transition(field=state, source=[State.COMPLETED, State.ROLLED_BACK], target=State.CLOSED,
                conditions=[has_review_if_required], permission=roles_allowed(roles.SUPERVISOR),
                custom={"label": _("Close the change"),
                        "description": _("Review the implementation report and close the change.")})
    def close(self, *, by, review: str) -> None:  # noqa: ANN001
        """The supervisor reviews the report and closes the change (變更關閉)."""
        if not (review or "").strip():
            raise ValidationError({"review": _("Write your review of the report.")})
        self.close_review = review
        self.closed_at = timezone.now()

    @transition(field=state, source=[*BEFORE_APPROVAL, State.APPROVED, State.SCHEDULED], target=State.CANCELLED,
                permission=may_cancel,
                custom={"label": _("Cancel the change"), "comment_required": _("Give the reason for cancelling."),
                        "description": _("Withdraw the change before implementation starts, with the reason.")})
    def cancel(self, *, by) -> None:  # noqa: ANN001
        """Withdraw the change before implementation starts (the reason is the comment)."""
        self.closed_at = timezone.now()


class ChangeVote(AppendOnlyModel):
    """One approval decision: an approver's, or a CAB member's vote in a joint review (聯合評審)."""

    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.PROTECT, related_name="votes")
    round = models.PositiveSmallIntegerField(_("approval round"))
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("voter"), on_delete=models.PROTECT,
                              related_name="+")
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    is_joint_review = models.BooleanField(_("joint review vote"), default=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("approval vote")
        verbose_name_plural = _("approval votes")
        constraints = [models.UniqueConstraint(fields=["change", "round", "voter"], name="change_vote_once")]
        triggers = append_only_triggers()

    def __str__(self) -> str:
        return f"{self.change.number} · {self.voter} · {self.get_decision_display()}"


class ChangeOpinion(models.Model):
    """An assessment opinion invited by the supervisor from an engineer or the security team."""

    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.PROTECT, related_name="opinions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT,
                                 related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("invited by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("invited at"), default=timezone.now)
    recommendation = models.CharField(_("recommendation"), max_length=16, choices=Recommendation.choices,
                                      blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    given_at = models.DateTimeField(_("given at"), null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        verbose_name = _("assessment opinion")
        verbose_name_plural = _("assessment opinions")
        constraints = [models.UniqueConstraint(fields=["change", "reviewer"], name="change_opinion_once")]

    def __str__(self) -> str:
        return f"{self.change.number} · {self.reviewer}"


class ChangeStep(models.Model):
    """One ordered step of the implementation plan and what became of it."""

    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("step"))
    description = models.TextField(_("what to do"))
    status = models.CharField(_("status"), max_length=8, choices=StepStatus.choices, default=StepStatus.PENDING)
    note = models.TextField(_("note"), blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        ordering = ["change", "position"]
        verbose_name = _("implementation step")
        verbose_name_plural = _("implementation steps")
        constraints = [models.UniqueConstraint(fields=["change", "position"], name="change_step_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.description[:60]}"


class ChangeReview(models.Model):
    """The post-implementation review of an emergency or failed change."""

    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.PROTECT, related_name="reviews")
    held_on = models.DateField(_("review date"))
    participants = models.TextField(_("participants"))
    summary = models.TextField(_("what happened and why"))
    lessons = models.TextField(_("lessons learned"))
    actions = models.TextField(_("follow-up actions and owners"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("post-implementation review")
        verbose_name_plural = _("post-implementation reviews")

    def __str__(self) -> str:
        return f"{self.change.number} · {self.held_on}"


# Re-exported for forms and serializers.
__all__ = ["ApprovalRule", "Change", "ChangeOpinion", "ChangeReview", "ChangeStep", "ChangeTemplate",
           "ChangeVote", "FreezeWindow", "MaintenanceWindow", "RiskOption", "RiskQuestion", "Decision",
           "Recommendation"]
