"""Admin of change management: changes with transition buttons and forms that go through the transition
service, approval and CAB votes from the change list, templates, windows, the risk questionnaire, approval
rules and post-implementation reviews."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from changes.choices import ApprovalMode, Decision, RiskLevel, State
from changes.models import (
    ApprovalRule,
    Change,
    ChangeOpinion,
    ChangeReview,
    ChangeStep,
    ChangeTemplate,
    ChangeVote,
    FreezeWindow,
    MaintenanceWindow,
    RiskOption,
    RiskQuestion,
)
from changes.risk import RULE_LABELS
from changes.rules import CONFLICT_LABELS, schedule_check
from changes.selectors import incidents_visible_to, questionnaire_answers, waiting_for
from changes.services import (
    EDITABLE,
    change_record_review,
    change_transition,
    change_update,
    configuration_items_visible_to,
    may_edit,
    template_propose,
)
from opscenter.core import roles
from opscenter.core.admin import (
    ReasonForm,
    RecordInline,
    ServiceErrorsAsMessages,
    ServiceRecordAdmin,
    TicketAdminMixin,
    TransitionAdminMixin,
    TransitionForm,
    error_text,
)
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.formatting import local_minute
from opscenter.core.models import User
from opscenter.core.selectors import load_relations
from opscenter.core.services import check_transition


def _users_with(*role_names: str) -> QuerySet:
    return User.objects.filter(is_active=True, groups__name__in=role_names).distinct().order_by("username")


# --- The forms of the transitions (each gets the change it is for) ---

class AssessForm(TransitionForm):
    necessity = forms.CharField(label=_("necessity"), widget=forms.Textarea(attrs={"rows": 3}))
    feasibility = forms.CharField(label=_("feasibility"), widget=forms.Textarea(attrs={"rows": 3}))
    assessment = forms.CharField(label=_("assessment opinion"), widget=forms.Textarea(attrs={"rows": 3}))
    risk_level = forms.ChoiceField(label=_("risk level"), choices=[("", _("as computed")), *RiskLevel.choices],
                                   required=False)
    override_reason = forms.CharField(label=_("risk override justification"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}),
                                      help_text=_("Required for a risk level other than the computed one."))
    cab_members = forms.ModelMultipleChoiceField(
        label=_("CAB members"), queryset=User.objects.none(), required=False,
        help_text=_("Joint review (high and major risk): the members who vote; the rule's default members "
                    "when none are chosen."))
    implementer = forms.ModelChoiceField(label=_("implementer"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cab_members"].queryset = _users_with(roles.CAB_MEMBER)
        self.fields["implementer"].queryset = _users_with(*roles.ENGINEERS, roles.SUPERVISOR)
        if self.obj is not None and self.obj.computed_risk_level:
            self.fields["risk_level"].help_text = gettext("Computed: %(level)s (score %(score)d).") % {
                "level": self.obj.get_computed_risk_level_display(), "score": self.obj.risk_score}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["cab_members"] = list(data.get("cab_members") or []) or None
        return data


class ScheduleForm(TransitionForm):
    acknowledge_conflicts = forms.BooleanField(label=_("I have seen the conflicts and proceed"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.obj is not None:
            self.fields["acknowledge_conflicts"].help_text = schedule_summary(self.obj)


def schedule_summary(change: Change) -> str:
    """What the scheduler must see before fixing the window: freezes, maintenance warnings, conflicts."""
    check = schedule_check(change)
    parts = []
    if check.freezes:
        parts.append(format_html("<p><strong>{}</strong> {}</p>", gettext("Freeze windows:"),
                                 ", ".join(str(f) for f in check.freezes)))
    if check.maintenance_warnings:
        parts.append(format_html("<p>{} {}</p>", gettext("Outside the maintenance windows of:"),
                                 ", ".join(str(s) for s in check.maintenance_warnings)))
    if check.conflicts:
        rows = format_html_join("", "<li>{} {} ({} – {}): {}</li>", (
            (c.change.number, c.change.title, local_minute(c.change.planned_start), local_minute(c.change.planned_end),
             ", ".join(c.reason_labels)) for c in check.conflicts))
        parts.append(format_html("<p><strong>{}</strong></p><ul id=\"conflicts\">{}</ul>",
                                 gettext("Conflicts with other changes:"), rows))
    else:
        parts.append(format_html("<p>{}</p>", gettext("No conflicts with other changes.")))
    return format_html_join("", "{}", ((p,) for p in parts))


class FailForm(TransitionForm):
    what_happened = forms.CharField(label=_("what happened"), widget=forms.Textarea(attrs={"rows": 4}))


class RollBackForm(TransitionForm):
    rollback_log = forms.CharField(label=_("rollback log"), widget=forms.Textarea(attrs={"rows": 4}))


class VerifyForm(TransitionForm):
    function = forms.CharField(label=_("function test"), widget=forms.Textarea(attrs={"rows": 2}))
    performance = forms.CharField(label=_("performance test"), widget=forms.Textarea(attrs={"rows": 2}))
    data_integrity = forms.CharField(label=_("data integrity test"), widget=forms.Textarea(attrs={"rows": 2}))


class CompleteForm(TransitionForm):
    report = forms.CharField(label=_("implementation report"), widget=forms.Textarea(attrs={"rows": 5}))


class CloseForm(TransitionForm):
    review = forms.CharField(label=_("supervisor's review"), widget=forms.Textarea(attrs={"rows": 4}))


class ApproveForm(TransitionForm):
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(ReasonForm):
    comment = forms.CharField(label=_("Reason for rejecting"), widget=forms.Textarea(attrs={"rows": 2}))


TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "send_back": ReasonForm,
    "assess": AssessForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "schedule": ScheduleForm,
    "fail": FailForm,
    "roll_back": RollBackForm,
    "verify": VerifyForm,
    "complete": CompleteForm,
    "close": CloseForm,
    "cancel": ReasonForm,
}


# --- Read-only records of a change: votes, opinions, steps, reviews ---

class VoteInline(RecordInline):
    model = ChangeVote
    fields = ["round", "voter", "decision", "comment", "is_joint_review", "created_at"]
    select_related = ("change", "voter")


class OpinionInline(RecordInline):
    model = ChangeOpinion
    fields = ["reviewer", "requested_by", "requested_at", "recommendation", "opinion", "given_at"]
    select_related = ("change", "reviewer", "requested_by")


class StepInline(RecordInline):
    model = ChangeStep
    fields = ["position", "description", "status", "note", "done_by", "done_at"]
    select_related = ("done_by",)


class ReviewInline(RecordInline):
    model = ChangeReview
    fields = ["held_on", "participants", "summary", "lessons", "actions", "recorded_by"]
    select_related = ("change", "recorded_by")


# --- Changes ---

CHANGE_FIELDSETS = [
    (None, ["number", "title", "state", "change_type", "category", "template", "risk_level", "outcome"]),
    (_("Request"), ["description", "purpose", "impact_scope", "services", "configuration_items",
                    "related_incidents", "planned_start", "planned_end", "risk_assessment", "risk_mitigation",
                    "rollback_tested", "created_by", "created_at", "submitted_at"]),
    (_("Risk"), ["questionnaire", "risk_score", "computed_risk_level", "risk_rules", "risk_override_reason"]),
    (_("Assessment"), ["necessity", "feasibility", "assessment", "assessed_by", "assessed_at"]),
    (_("Approval"), ["approval_mode", "approvals_required", "approval_round", "cab_members", "approved_at"]),
    (_("Plan and schedule"), ["implementer", "rollback_plan", "contingency_plan", "scheduled_at",
                              "freeze_exception", "outside_maintenance", "conflicts"]),
    (_("Implementation and verification"), ["started_at", "failure_description", "failed_at", "rollback_log",
                                            "rolled_back_at", "verify_function", "verify_performance",
                                            "verify_data", "verified_at"]),
    (_("Report and close"), ["implementation_report", "completed_at", "close_review", "closed_at"]),
    (_("Timeline"), ["timeline"]),
]


class DecisionForm(forms.Form):
    """The comment of approvals and rejections decided from the change list."""

    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reason_required:
            self.fields["comment"].required = True
            self.fields["comment"].label = _("reason")


class WaitingForMeFilter(admin.SimpleListFilter):
    """What waits for the signed-in user: their approvals and votes (a CAB agenda in the admin) and, for a
    supervisor, the requests to assess and the reports to close."""

    title = _("my decision")
    parameter_name = "awaiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", _("Waiting for me"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() != "me":
            return queryset
        return waiting_for(queryset, request.user)


# Where the decision panel shows what is decided: from the request to the fixed window.
DECISION_STATES = (State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED, State.SCHEDULED)


def decision_facts(change: Change) -> dict[str, Any]:
    """What an approver decides on: purpose, risk and its assessment, the window with its freezes and
    conflicts, the votes of this round, the requester and the assessor."""
    votes = [v for v in change.votes.all() if v.round == change.approval_round]
    members = sorted(change.cab_members.all(), key=str) if change.approval_mode == ApprovalMode.JOINT else []
    voted = {v.voter_id for v in votes}
    return {
        "change": change,
        "services": list(change.services.all()),
        "risk_reasons": [str(RULE_LABELS.get(r, r)) for r in change.risk_reasons or []],
        "check": schedule_check(change) if change.planned_start and change.planned_end else None,
        "votes": votes,
        "not_voted": [m for m in members if m.pk not in voted],
        "approvals": sum(1 for v in votes if v.decision == Decision.APPROVE),
        "needed": len(members) if members else max(1, change.approvals_required),
    }


@admin.register(Change)
class ChangeAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, TicketAdminMixin, admin.ModelAdmin):
    """Changes: transition buttons and the fields the state allows; every edit goes through
    changes.services so that it is checked, logged, and approved content stays frozen. Changes are requested
    on the request page or the API (change_create)."""

    fsm_forms = TRANSITION_FORMS
    decision_template = "admin/changes/change/decision.html"
    decision_title = _("Approval decision")
    decision_transitions = ("approve", "reject")
    danger_transitions = ("reject",)
    list_display = ["number", "title", "change_type", "state", "risk_level", "window", "created_by", "implementer"]
    list_select_related = ["created_by", "implementer"]
    autocomplete_fields = ["related_incidents"]
    list_filter = [WaitingForMeFilter, "state", "change_type", "risk_level", "category", "approval_mode"]
    search_fields = ["number", "title"]
    date_hierarchy = "planned_start"
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [(title, {"fields": names}) for title, names in CHANGE_FIELDSETS]
    editable = EDITABLE  # what each state allows; closed, rejected and cancelled changes are read-only
    inlines = [VoteInline, OpinionInline, StepInline, ReviewInline]
    actions = ["approve_selected", "reject_selected"]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Change | None:
        """The change with what its buttons and decision panel read (its votes, CAB members and people) loaded
        once: the page costs the same however many votes come in."""
        change = super().get_object(request, object_id, from_field)
        if change is not None and change.state in DECISION_STATES:
            prefetch_related_objects([change], "cab_members", "services",
                                     Prefetch("votes", queryset=ChangeVote.objects.select_related("voter")))
            load_relations([change], ("created_by", "assessed_by", "implementer"))
        return change

    def may_edit(self, request: HttpRequest, obj: Change) -> bool:
        """Those who may edit the change: requester, implementer, supervisor."""
        return may_edit(obj, request.user)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "configuration_items":
            kwargs["queryset"] = configuration_items_visible_to(request.user)
        elif db_field.name == "related_incidents":  # chosen by search (autocomplete_fields) among those they see
            kwargs["queryset"] = incidents_visible_to(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "implementer":
            kwargs["queryset"] = _users_with(*roles.ENGINEERS, roles.SUPERVISOR)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Change | None = None) -> Any:
        if request.method == "POST":
            return  # the inlines are records shown read-only: nothing of them is posted back
        yield from super().get_formsets_with_inlines(request, obj)

    def update(self, request: HttpRequest, obj: Change, changes: dict[str, Any]) -> Change:
        """Field edits go through change_update, which checks and logs each one; an edit of approved
        content sends the change back for approval, and the admin says so."""
        before = obj.state
        saved = change_update(obj, user=request.user, changes=changes)
        if before != saved.state and saved.state == State.AWAITING_APPROVAL:
            self.message_user(request, gettext(
                "Approved content was edited: %(number)s is awaiting approval again.") % {"number": saved.number},
                messages.WARNING)
        return saved

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """Related records change only through their services (save_model); nothing is saved directly."""

    def perform(self, obj: Change, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Change:
        return change_transition(obj, name, user=user, comment=comment, data=data)

    def decision_context(self, request: HttpRequest, obj: Change) -> dict[str, Any] | None:
        return decision_facts(obj) if obj.state in DECISION_STATES else None

    # --- what the list and the form show ---

    @admin.display(description=_("window"), ordering="planned_start")
    def window(self, obj: Change) -> str:
        if not obj.planned_start:
            return "—"
        return f"{local_minute(obj.planned_start)} – {local_minute(obj.planned_end)}"

    @admin.display(description=_("risk questionnaire answers"))
    def questionnaire(self, obj: Change) -> str:
        answers = questionnaire_answers(obj)
        if not answers:
            return "—"
        return format_html_join("", "<div>{}: <strong>{}</strong> ({})</div>", answers)

    @admin.display(description=_("risk rules applied"))
    def risk_rules(self, obj: Change) -> str:
        return format_html_join("", "<div>{}</div>", ((RULE_LABELS.get(r, r),) for r in obj.risk_reasons)) or "—"

    @admin.display(description=_("conflicts acknowledged"))
    def conflicts(self, obj: Change) -> str:
        if not obj.conflicts_acknowledged:
            return "—"
        return format_html_join("", "<div>{} {} ({} – {}): {}</div>", (
            (c.get("number"), c.get("title"), c.get("planned_start"), c.get("planned_end"),
             ", ".join(str(CONFLICT_LABELS.get(r, r)) for r in c.get("reasons", [])))
            for c in obj.conflicts_acknowledged))

    # --- approval from the change list ---

    @admin.action(description=_("Approve selected changes"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.decide(request, queryset, "approve")

    @admin.action(description=_("Reject selected changes"), permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.decide(request, queryset, "reject")

    def decide(self, request: HttpRequest, queryset: QuerySet, name: str) -> HttpResponse | None:
        """Approve or reject each selected change through change_transition, after a confirmation page
        that asks the comment (the reason, to reject); then one message per change says what happened."""
        changes = list(queryset.order_by("planned_start", "pk"))
        form = DecisionForm(request.POST if request.POST.get("confirm") else None, reason_required=name == "reject")
        if not form.is_valid():
            return self.decision_page(request, changes, name, form)
        for change in changes:
            self.decide_one(request, change, name, form.cleaned_data["comment"])
        return None

    def decide_one(self, request: HttpRequest, change: Change, name: str, comment: str) -> None:
        try:
            done = change_transition(change, name, user=request.user, comment=comment)
        except OpsCenterError as exc:
            self.message_user(request, gettext("%(number)s: refused: %(reason)s") % {
                "number": change.number, "reason": error_text(exc)}, messages.ERROR)
            return
        if done.state == State.AWAITING_APPROVAL:
            approvals = done.current_votes().filter(decision="approve").count()
            text = gettext("%(number)s: your vote is recorded (%(count)d approval(s) so far); "
                           "it still awaits approval.") % {"number": done.number, "count": approvals}
        else:
            text = gettext("%(number)s: %(state)s.") % {"number": done.number, "state": done.get_state_display()}
        self.message_user(request, text, messages.SUCCESS)

    def decision_page(self, request: HttpRequest, changes: list[Change], name: str,
                      form: DecisionForm) -> HttpResponse:
        rows = []
        for change in changes:
            try:
                check_transition(change, name, user=request.user)
                refusal = ""
            except OpsCenterError as exc:
                refusal = error_text(exc)
            rows.append((change, refusal))
        title = gettext("Approve selected changes") if name == "approve" else gettext("Reject selected changes")
        return render(request, "admin/changes/change/decide_selected.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "rows": rows,
            "form": form, "action": f"{name}_selected", "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0")})


# --- Templates of standard changes ---

class TemplateForm(forms.ModelForm):
    """A proposal: the steps one per line."""

    steps_text = forms.CharField(label=_("implementation steps"), widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text=_("One step per line, in order."))

    class Meta:
        model = ChangeTemplate
        fields = ["name", "category", "description", "purpose", "impact_scope", "risk_assessment",
                  "risk_mitigation", "rollback_plan", "contingency_plan", "services"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["steps"] = [line.strip() for line in (data.get("steps_text") or "").splitlines() if line.strip()]
        return data


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """IT staff propose templates here (template_propose); a supervisor other than the proposer approves
    or retires them with the buttons."""

    list_display = ["name", "category", "state", "proposed_by", "approved_by", "approved_at"]
    list_select_related = ["proposed_by", "approved_by"]
    list_filter = ["state", "category"]
    search_fields = ["name"]
    filter_horizontal = ["services"]

    def get_form(self, request: HttpRequest, obj: ChangeTemplate | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = TemplateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ChangeTemplate | None = None) -> list[str]:
        if obj is None:
            return [*TemplateForm.Meta.fields[:7], "steps_text", *TemplateForm.Meta.fields[7:]]
        return ["name", "state", "category", "description", "purpose", "impact_scope", "risk_assessment",
                "risk_mitigation", "step_list", "rollback_plan", "contingency_plan", "services", "proposed_by",
                "approved_by", "approved_at", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ChangeTemplate | None = None) -> Any:
        if obj is None:
            return ()
        return self.get_fields(request, obj)  # an approved standard change is not rewritten

    def has_delete_permission(self, request: HttpRequest, obj: ChangeTemplate | None = None) -> bool:
        return False  # changes keep their template; retire it instead

    def has_change_permission(self, request: HttpRequest, obj: ChangeTemplate | None = None) -> bool:
        if obj is not None and obj.is_read_only:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("implementation steps"))
    def step_list(self, obj: ChangeTemplate) -> str:
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((s,) for s in obj.steps)))

    def save_model(self, request: HttpRequest, obj: ChangeTemplate, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # nothing is edited on an existing template
        data = {name: form.cleaned_data[name] for name in TemplateForm.Meta.fields}
        data["services"] = list(data["services"])
        data["steps"] = form.cleaned_data["steps"]
        template = template_propose(user=request.user, data=data)
        obj.pk, obj.proposed_by = template.pk, template.proposed_by

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """template_propose has set the services."""


# --- Windows, the questionnaire, approval rules ---

@admin.register(FreezeWindow)
class FreezeWindowAdmin(admin.ModelAdmin):
    """Blackout periods: global when no service is named."""

    list_display = ["name", "starts_at", "ends_at", "scope", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["name", "reason"]
    date_hierarchy = "starts_at"
    fields = ["name", "starts_at", "ends_at", "reason", "services"]
    filter_horizontal = ["services"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("services")

    @admin.display(description=_("services"))
    def scope(self, obj: FreezeWindow) -> str:
        names = [str(s) for s in obj.services.all()]
        return ", ".join(names) if names else gettext("every service")

    def save_model(self, request: HttpRequest, obj: FreezeWindow, form: forms.ModelForm, change: bool) -> None:
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["service", "name", "recurrence", "start_time", "duration_minutes", "is_active"]
    list_select_related = ["service"]
    list_filter = ["is_active", "service"]
    search_fields = ["name", "service__name"]


class RiskOptionInline(admin.TabularInline):
    model = RiskOption
    extra = 0
    fields = ["label", "label_zh_hant", "weight", "ordering"]


@admin.register(RiskQuestion)
class RiskQuestionAdmin(admin.ModelAdmin):
    """The risk questionnaire: new submissions are scored with it; changes already scored keep their score."""

    list_display = ["text", "text_zh_hant", "ordering", "is_active"]
    list_editable = ["ordering", "is_active"]
    inlines = [RiskOptionInline]


class ApprovalRuleForm(forms.ModelForm):
    class Meta:
        model = ApprovalRule
        fields = ["risk_level", "min_score", "mode", "approvals_required", "default_cab_members"]

    def clean_default_cab_members(self) -> Any:
        members = self.cleaned_data["default_cab_members"]
        refused = [str(u) for u in members if not roles.has_role(u, roles.CAB_MEMBER)]
        if refused:
            raise forms.ValidationError(gettext("Not CAB members: %(names)s") % {"names": ", ".join(refused)})
        return members


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    """Who approves at each risk level (更高級別的審批人, 聯合評審)."""

    form = ApprovalRuleForm
    list_display = ["risk_level", "min_score", "mode", "approvals_required", "members"]
    filter_horizontal = ["default_cab_members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("default_cab_members")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "default_cab_members":
            kwargs["queryset"] = _users_with(roles.CAB_MEMBER)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("default CAB members"))
    def members(self, obj: ApprovalRule) -> str:
        return ", ".join(str(u) for u in obj.default_cab_members.all()) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: ApprovalRule | None = None) -> bool:
        return False  # every risk level keeps a rule


# --- Post-implementation reviews ---

class ReviewForm(forms.ModelForm):
    class Meta:
        model = ChangeReview
        fields = ["change", "held_on", "participants", "summary", "lessons", "actions"]


@admin.register(ChangeReview)
class ChangeReviewAdmin(ServiceRecordAdmin):
    """Post-implementation reviews, recorded through change_record_review; then read-only."""

    form = ReviewForm
    ticket_field = "change"
    list_display = ["change", "held_on", "recorded_by", "recorded_at"]
    list_select_related = ["change", "recorded_by"]
    search_fields = ["change__number", "change__title"]
    date_hierarchy = "held_on"

    def ticket_queryset(self) -> QuerySet:
        return Change.objects.filter(state__in=[State.VERIFYING, State.COMPLETED, State.FAILED, State.ROLLED_BACK])

    def record(self, ticket: Change, *, user: Any, data: dict[str, Any]) -> ChangeReview:
        return change_record_review(ticket, user=user, data=data)
