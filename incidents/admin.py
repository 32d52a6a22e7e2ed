"""Admin of incident management: incidents with transition buttons that go through the transition
service, categories, the priority matrix and major-incident review meetings."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from incidents.choices import CancelReason, HoldReason, Level, State
from incidents.models import Category, Incident, MajorIncidentReview, PriorityRule, readers
from incidents.services import (
    EDITABLE,
    incident_record_review,
    incident_transition,
    incident_update,
)
from opscenter.core import roles
from opscenter.core.admin import (
    ReasonForm,
    ServiceErrorsAsMessages,
    ServiceRecordAdmin,
    TicketAdminMixin,
    TransitionAdminMixin,
    TransitionForm,
)
from opscenter.core.models import Team, User

# --- The forms of the transitions that need data (django-fsm-2 shows one per transition) ---

class ClassifyForm(TransitionForm):
    category = forms.ModelChoiceField(label=_("category"), queryset=Category.objects.all())
    impact = forms.TypedChoiceField(label=_("impact"), choices=Level.choices, coerce=int)
    urgency = forms.TypedChoiceField(label=_("urgency"), choices=Level.choices, coerce=int)


class ReclassifyForm(ReasonForm):
    impact = forms.TypedChoiceField(label=_("impact"), choices=Level.choices, coerce=int)
    urgency = forms.TypedChoiceField(label=_("urgency"), choices=Level.choices, coerce=int)
    field_order = ["impact", "urgency", "comment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.obj is not None:
            self.initial.setdefault("impact", self.obj.impact)
            self.initial.setdefault("urgency", self.obj.urgency)


def _engineers() -> Any:
    return User.objects.filter(is_active=True, groups__name__in=[*roles.ENGINEERS, roles.SUPERVISOR]).distinct()


class AssignForm(TransitionForm):
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.filter(is_active=True), required=False)
    assignee = forms.ModelChoiceField(label=_("assignee"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only people who may see the incident (a security incident: the security team and the supervisors).
        self.fields["assignee"].queryset = readers(self.obj, _engineers()) if self.obj is not None else _engineers()


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
    "reclassify": ReclassifyForm,
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


@admin.register(Incident)
class IncidentAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, TicketAdminMixin, admin.ModelAdmin):
    """Incidents: transition buttons and the fields the state allows; every change goes through
    incidents.services so that it is checked and appears on the timeline. Incidents are reported on the
    report-a-fault page or the API (incident_report)."""

    fsm_forms = TRANSITION_FORMS
    list_display = ["number", "title", "state", "priority", "team", "assignee", "created_at"]
    list_select_related = ["team", "assignee"]
    list_filter = ["state", "priority", "is_major", "category", "team", "channel"]
    search_fields = ["number", "title", "caller_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [(title, {"fields": names}) for title, names in INCIDENT_FIELDSETS]
    editable = EDITABLE  # what each state allows; closed and cancelled incidents are read-only

    def update(self, request: HttpRequest, obj: Incident, changes: dict[str, Any]) -> Incident:
        """Field edits go through incident_update, which checks them and logs each one."""
        return incident_update(obj, user=request.user, changes=changes)

    def perform(self, obj: Incident, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Incident:
        return incident_transition(obj, name, user=user, comment=comment, data=data)


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
class MajorIncidentReviewAdmin(ServiceRecordAdmin):
    """Review meetings of major incidents, recorded through incident_record_review; then read-only."""

    form = ReviewForm
    ticket_field = "incident"
    list_display = ["incident", "held_on", "recorded_by", "recorded_at"]
    list_select_related = ["incident", "recorded_by"]
    search_fields = ["incident__number", "incident__title"]
    date_hierarchy = "held_on"

    def ticket_queryset(self) -> Any:
        return Incident.objects.filter(is_major=True).filter(~Q(state__in=[State.CLOSED, State.CANCELLED]))

    def record(self, ticket: Incident, *, user: Any, data: dict[str, Any]) -> MajorIncidentReview:
        return incident_record_review(ticket, user=user, data=data)
