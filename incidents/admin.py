"""Admin of incident management: incidents with transition buttons that go through the transition
service, categories, the priority matrix and major-incident review meetings."""

import inspect
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import Transition
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition, FSMTransitionContext

from incidents.choices import CancelReason, HoldReason, Level, State
from incidents.models import Category, Incident, MajorIncidentReview, PriorityRule
from incidents.services import (
    EDITABLE,
    incident_record_review,
    incident_transition,
    incident_update,
)
from opscenter.core import roles
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import Team, TransitionLog, User
from opscenter.core.workflow import available_transitions, comment_requirement, is_transition, transition_label


def error_text(exc: OpsCenterError) -> str:
    """A refusal's detail (a sentence, a list, or errors by field) as one line for an admin message."""
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list | tuple) else [msgs]))}"
                         for field, msgs in detail.items())
    if isinstance(detail, list | tuple):
        return " ".join(str(m) for m in detail)
    return str(detail)


class ServiceErrorsAsMessages:
    """A refusal raised by a service while the admin saves (an OpsCenterError) becomes an error
    message on the same page instead of a server error; the transaction of the save is rolled back."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except OpsCenterError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# --- The forms of the transitions that need data (django-fsm-2 shows one per transition) ---

class TransitionForm(forms.Form):
    """What every transition may carry: a comment for the timeline."""

    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(TransitionForm):
    """Return a report or reopen an incident: the comment is the reason the policy asks for."""

    comment = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ClassifyForm(TransitionForm):
    category = forms.ModelChoiceField(label=_("category"), queryset=Category.objects.all())
    impact = forms.TypedChoiceField(label=_("impact"), choices=Level.choices, coerce=int)
    urgency = forms.TypedChoiceField(label=_("urgency"), choices=Level.choices, coerce=int)


def _engineers() -> Any:
    return User.objects.filter(is_active=True, groups__name__in=[*roles.ENGINEERS, roles.SUPERVISOR]).distinct()


class AssignForm(TransitionForm):
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.filter(is_active=True), required=False)
    assignee = forms.ModelChoiceField(label=_("assignee"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _engineers()


class StartHandlingForm(TransitionForm):
    cause = forms.CharField(label=_("cause"), widget=forms.Textarea(attrs={"rows": 3}))
    scope = forms.CharField(label=_("scope"), widget=forms.Textarea(attrs={"rows": 3}))


class RestoreForm(TransitionForm):
    measures = forms.CharField(label=_("measures taken"), widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmRecoveryForm(TransitionForm):
    function_ok = forms.BooleanField(label=_("function test passed"), required=False)
    function_note = forms.CharField(label=_("function test"), widget=forms.Textarea(attrs={"rows": 2}))
    performance_ok = forms.BooleanField(label=_("performance test passed"), required=False)
    performance_note = forms.CharField(label=_("performance test"), widget=forms.Textarea(attrs={"rows": 2}))
    data_ok = forms.BooleanField(label=_("data integrity test passed"), required=False)
    data_note = forms.CharField(label=_("data integrity test"), widget=forms.Textarea(attrs={"rows": 2}))
    resolution = forms.CharField(label=_("resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("Required when every test passed."))
    resolve_children = forms.BooleanField(label=_("resolve the open child incidents with this resolution"),
                                          required=False)


class SubmitReportForm(TransitionForm):
    cause = forms.CharField(label=_("report: cause"), widget=forms.Textarea(attrs={"rows": 3}))
    process = forms.CharField(label=_("report: process"), widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label=_("report: measures"), widget=forms.Textarea(attrs={"rows": 3}))
    result = forms.CharField(label=_("report: result"), widget=forms.Textarea(attrs={"rows": 3}))


class HoldForm(TransitionForm):
    reason = forms.ChoiceField(label=_("hold reason"), choices=HoldReason.choices)


class CancelForm(TransitionForm):
    reason = forms.ChoiceField(label=_("cancel reason"), choices=CancelReason.choices)
    duplicate_of = forms.CharField(label=_("duplicate of"), required=False, max_length=24,
                                   help_text=_("The number of the incident this one duplicates (INC-…)."))

    def clean_duplicate_of(self) -> Incident | None:
        number = self.cleaned_data["duplicate_of"].strip()
        if not number:
            return None
        try:
            return Incident.objects.get(number=number)
        except Incident.DoesNotExist:
            raise forms.ValidationError(_("There is no incident numbered %(number)s.") % {"number": number}) from None


TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "classify": ClassifyForm,
    "assign": AssignForm,
    "reassign": AssignForm,
    "start_handling": StartHandlingForm,
    "restore": RestoreForm,
    "confirm_recovery": ConfirmRecoveryForm,
    "submit_report": SubmitReportForm,
    "return_report": ReasonForm,
    "reopen": ReasonForm,
    "hold": HoldForm,
    "cancel": CancelForm,
}


def needs_data(name: str) -> bool:
    """The transition takes arguments without defaults (besides its actor) or a required reason."""
    parameters = inspect.signature(getattr(Incident, name)).parameters.values()
    return bool(comment_requirement(Incident, name)) or any(
        p.kind is p.KEYWORD_ONLY and p.default is p.empty and p.name != "by" for p in parameters)


# --- Incidents ---

# What the change form shows, grouped; only what EDITABLE allows for the state is an input.
INCIDENT_FIELDSETS = [
    (None, ["number", "title", "state", "priority", "is_major"]),
    (_("Report"), ["description", "occurred_at", "impact_scope", "channel", "caller", "caller_name",
                   "caller_contact", "department", "service", "configuration_item", "created_by", "created_at"]),
    (_("Classification"), ["category", "impact", "urgency", "classified_at", "assign_due_at"]),
    (_("Assignment and work"), ["team", "assignee", "assigned_at", "first_response_at", "diagnosis_cause",
                                "diagnosis_scope", "measures", "test_function_note", "test_performance_note",
                                "test_data_note", "resolution", "resolved_at", "resolved_by"]),
    (_("Hold and cancellation"), ["held_from", "hold_reason", "cancel_reason", "duplicate_of"]),
    (_("Incident report"), ["report_cause", "report_process", "report_measures", "report_result",
                            "report_submitted_at", "closed_at"]),
    (_("Major incident and relations"), ["major_declared_at", "parent"]),
    (_("Timeline"), ["timeline"]),
]
INCIDENT_FIELDS = [name for _title, names in INCIDENT_FIELDSETS for name in names]


@admin.register(Incident)
class IncidentAdmin(ServiceErrorsAsMessages, FSMAdminMixin, admin.ModelAdmin):
    """Incidents: transition buttons and the fields the state allows; every change goes through
    incidents.services so that it is checked and appears on the timeline."""

    fsm_fields = ["state"]
    fsm_forms = TRANSITION_FORMS
    list_display = ["number", "title", "state", "priority", "team", "assignee", "created_at"]
    list_select_related = ["team", "assignee"]
    list_filter = ["state", "priority", "is_major", "category", "team", "channel"]
    search_fields = ["number", "title", "caller_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [(title, {"fields": names}) for title, names in INCIDENT_FIELDSETS]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # incidents are reported on the report-a-fault page or the API (incident_report)

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False  # an incident and its timeline are records of what happened

    def has_change_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        if obj is not None and obj.is_read_only:
            return False  # closed and cancelled incidents are read-only everywhere
        return super().has_change_permission(request, obj)

    def editable_fields(self, obj: Incident | None) -> set[str]:
        if obj is None or obj.is_read_only:
            return set()
        return set(EDITABLE.get(obj.state, set()))

    def get_readonly_fields(self, request: HttpRequest, obj: Incident | None = None) -> tuple[str, ...]:
        editable = self.editable_fields(obj)
        fixed = [name for name in INCIDENT_FIELDS if name not in editable]
        return tuple(dict.fromkeys([*super().get_readonly_fields(request, obj), *fixed]))

    def save_model(self, request: HttpRequest, obj: Incident, form: forms.ModelForm, change: bool) -> None:
        """Field edits go through incident_update, which checks them and logs each one."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in self.editable_fields(obj)}
        if changes:
            incident_update(obj, user=request.user, changes=changes)

    @admin.display(description=_("timeline"))
    def timeline(self, obj: Incident) -> str:
        logs = TransitionLog.objects.filter(
            content_type__app_label="incidents", content_type__model="incident", object_id=obj.pk,
        ).select_related("actor")
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>", (
                (timezone.localtime(log.created_at).strftime("%Y-%m-%d %H:%M"), log.transition, log.source_state or "—",
                 log.target_state, log.actor or "—", log.comment) for log in logs)),
        )

    # --- django-fsm-2 hooks: which buttons, their labels, and the one way to perform them ---

    def get_fsm_label(self, transition: Transition) -> str:
        return transition_label(transition)

    def get_help_text(self, transition: Transition) -> str | None:
        doc = (transition.method.__doc__ or "").strip().splitlines()
        return doc[0] if doc else None

    def _get_fsm_extra_context(self, *, request: HttpRequest, obj: Incident | None) -> list[FSMObjectTransition]:
        """The buttons: the transitions this user may take from the current state (the kernel's list,
        so internal ones stay hidden); one a policy rule blocks is marked and says the rule."""
        if obj is None or not self.has_change_permission(request, obj):
            return []  # a view-only user gets no buttons
        buttons = []
        for choice in available_transitions(obj, request.user):
            label = choice.label if choice.allowed else gettext("%(label)s (blocked)") % {"label": choice.label}
            help_text = choice.reason or self.get_help_text(self._get_fsm_transition_by_name(
                obj=obj, transition_name=choice.name))
            buttons.append(FSMTransitionContext(name=choice.name, label=label, help_text=help_text))
        if not buttons:
            return []
        return [FSMObjectTransition(fsm_field="state", block_label=gettext("Transitions"),
                                    available_transitions=buttons)]

    def response_change(self, request: HttpRequest, obj: Incident) -> HttpResponse:
        name = request.POST.get(self.fsm_post_param)
        if name and not is_transition(Incident, name):
            self.message_user(request, gettext("“%(name)s” is not a transition of an incident.") % {"name": name},
                              messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def fsm_transition_view(self, request: HttpRequest, object_id: str, transition_name: str,
                            **kwargs: Any) -> HttpResponse:
        if not is_transition(Incident, transition_name):
            raise Http404(transition_name)
        if not self.has_change_permission(request, self.get_object(request, object_id)):
            self.message_user(request, gettext("You are not allowed to perform this transition."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[object_id]))
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def _apply_fsm_transition(self, *, obj: Incident, transition_name: str, request: HttpRequest,
                              kwargs: dict[str, Any] | None = None) -> bool:
        """Perform the transition through incidents.services.incident_transition, as the signed-in user;
        a refusal becomes an error message."""
        data = dict(kwargs or {})
        comment = data.pop("comment", "") or ""
        if not data and not comment and needs_data(transition_name):
            self.message_user(request, gettext(
                "“%(name)s” needs data the admin does not ask for: use the incident page.")
                % {"name": transition_name}, messages.ERROR)
            return False
        try:
            incident = incident_transition(obj, transition_name, user=request.user, comment=comment, data=data)
        except OpsCenterError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return False
        self.message_user(request, gettext("%(transition)s: %(number)s is now %(state)s.") % {
            "transition": transition_label(self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)),
            "number": incident.number, "state": incident.get_state_display()}, messages.SUCCESS)
        return True


# --- Categories, the priority matrix, review meetings ---

@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh_hant", "is_security", "default_team", "ordering"]
    list_select_related = ["default_team"]
    list_editable = ["default_team", "ordering"]
    search_fields = ["code", "name", "name_zh_hant"]

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return False  # incidents keep their category


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    """The impact × urgency matrix: supervisors change a cell's priority; new classifications use it,
    incidents already classified keep theirs."""

    list_display = ["impact", "urgency", "priority"]
    list_display_links = None
    list_editable = ["priority"]
    list_filter = ["impact", "urgency", "priority"]
    readonly_fields = ["impact", "urgency"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # every cell exists; the matrix is edited, not grown

    def has_delete_permission(self, request: HttpRequest, obj: PriorityRule | None = None) -> bool:
        return False


class ReviewForm(forms.ModelForm):
    class Meta:
        model = MajorIncidentReview
        fields = ["incident", "held_on", "attendees", "causes", "lessons", "preventive_measures", "owners"]


@admin.register(MajorIncidentReview)
class MajorIncidentReviewAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    """Review meetings of major incidents, recorded through incident_record_review; then read-only."""

    form = ReviewForm
    list_display = ["incident", "held_on", "recorded_by", "recorded_at"]
    list_select_related = ["incident", "recorded_by"]
    search_fields = ["incident__number", "incident__title"]
    date_hierarchy = "held_on"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "incident":
            kwargs["queryset"] = Incident.objects.filter(is_major=True).filter(
                ~Q(state__in=[State.CLOSED, State.CANCELLED]))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: MajorIncidentReview | None = None) -> bool:
        return False  # the record of a meeting is not rewritten

    def has_delete_permission(self, request: HttpRequest, obj: MajorIncidentReview | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: MajorIncidentReview, form: forms.ModelForm, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "incident"}
        review = incident_record_review(form.cleaned_data["incident"], user=request.user, data=data)
        obj.pk = review.pk
        obj.recorded_by = review.recorded_by
        obj.recorded_at = review.recorded_at
