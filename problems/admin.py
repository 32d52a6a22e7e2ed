"""Admin of problem management: problems with transition buttons that go through the problem services, their
linked incidents and actions shown as records, action items with their own transitions, and the policy."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opscenter.core.admin import (
    PolicyAdmin,
    ReasonForm,
    RecordInline,
    ServiceErrorsAsMessages,
    TicketAdminMixin,
    TransitionAdminMixin,
    TransitionForm,
)
from opscenter.core.models import User
from problems import known_errors
from problems.candidates import candidate_transition
from problems.models import WORKERS, ActionItem, Candidate, KnownError, Problem, ProblemIncident, ProblemPolicy
from problems.services import EDITABLE, action_transition, action_update, problem_transition, problem_update

# --- the problem's core: problems, their links and actions, the policy ---


class InvestigateForm(TransitionForm):
    owner = forms.ModelChoiceField(label=_("owner"), required=False, queryset=User.objects.none(),
                                   help_text=_("Who investigates and solves the problem from now on."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True, groups__name__in=WORKERS).distinct()


class CompleteForm(TransitionForm):
    result = forms.CharField(label=_("result"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


PROBLEM_FORMS: dict[str, type[forms.Form]] = {
    "investigate": InvestigateForm,
    "reopen": ReasonForm,
    "return_report": ReasonForm,
    "cancel": ReasonForm,
}

PROBLEM_FIELDSETS = [
    (None, ["number", "title", "state", "description", "source", "source_reference", "created_by", "created_at"]),
    (_("Owner and service"), ["owner", "team", "service", "configuration_item", "category"]),
    (_("Investigation"), ["frequency", "scope", "impact", "data_collected"]),
    (_("Root-cause analysis"), ["root_cause", "fishbone", "five_whys"]),
    (_("Verification"), ["observation_started_at", "observation_ends_at"]),
    (_("Problem report"), ["report_cause", "report_solution", "report_result", "report_lessons",
                           "report_submitted_at", "report_submitted_by", "closed_at"]),
    (_("Timeline"), ["timeline"]),
]


class IncidentLinkInline(RecordInline):
    model = ProblemIncident
    fields = ["incident", "linked_by", "linked_at"]
    select_related = ("incident", "linked_by")
    verbose_name_plural = _("linked incidents (linked and unlinked on the problem's page or the API)")


class ActionInline(RecordInline):
    model = ActionItem
    fields = ["measure", "owner", "due_date", "state", "done_at"]
    select_related = ("owner",)
    show_change_link = True


@admin.register(Problem)
class ProblemAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, TicketAdminMixin, admin.ModelAdmin):
    """Problems: transition buttons and the fields the state allows; every change goes through problems.services so
    that it is checked and appears on the timeline. Problems are identified on their page or the API."""

    fsm_forms = PROBLEM_FORMS
    danger_transitions = ("cancel", "return_report")
    list_display = ["number", "title", "state", "source", "owner", "service", "created_at"]
    list_select_related = ["owner", "service"]
    list_filter = ["state", "source", "service", "category"]
    search_fields = ["number", "title"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [(title, {"fields": names}) for title, names in PROBLEM_FIELDSETS]
    inlines = [IncidentLinkInline, ActionInline]
    editable = EDITABLE  # what each state allows; closed and cancelled problems are read-only

    def update(self, request: HttpRequest, obj: Problem, changes: dict[str, Any]) -> Problem:
        """Field edits go through problem_update, which checks them (the analysis's structure too) and logs each."""
        return problem_update(obj, user=request.user, changes=changes)

    def perform(self, obj: Problem, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Problem:
        return problem_transition(obj, name, user=user, comment=comment, data=data)


@admin.register(ActionItem)
class ActionItemAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """Action items of the solution plans: started, completed and dropped through their transitions; edited through
    action_update (on the problem's timeline). They are added on the problem's page or the API."""

    fsm_forms = {"complete": CompleteForm, "drop": ReasonForm}
    list_display = ["measure", "problem", "owner", "due_date", "state"]
    list_select_related = ["problem", "owner"]
    list_filter = ["state"]
    search_fields = ["measure", "problem__number"]
    date_hierarchy = "due_date"
    fields = ["problem", "measure", "steps", "owner", "due_date", "state", "result", "done_at", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ActionItem | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: ActionItem | None = None) -> tuple[str, ...]:
        return ("problem", "state", "result", "done_at", "created_at")

    def save_model(self, request: HttpRequest, obj: ActionItem, form: forms.ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data
                   if name in ("measure", "steps", "owner", "due_date")}
        if changes:
            action_update(ActionItem.objects.select_related("problem").get(pk=obj.pk), user=request.user,
                          changes=changes)

    def perform(self, obj: ActionItem, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> ActionItem:
        return action_transition(obj, name, user=user, comment=comment, data=data)


@admin.register(ProblemPolicy)
class ProblemPolicyAdmin(PolicyAdmin):
    """The rules of problem management, one row: problem managers and supervisors change them; new problems and
    sweeps use them at once."""

    list_display = ["__str__", "recurrence_threshold", "recurrence_window_days", "observation_days"]


# --- recurring-incident candidates ---


class AcceptCandidateForm(TransitionForm):
    title = forms.CharField(label=_("problem title"), max_length=200, required=False,
                            help_text=_("Left empty: what recurs, and where."))


@admin.register(Candidate)
class CandidateAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """Problem candidates, read only: accepted (a problem identified from their incidents) or dismissed (with the
    reason) through problems.candidates; proposed by the periodic task only."""

    fsm_forms = {"accept": AcceptCandidateForm, "dismiss": ReasonForm}
    danger_transitions = ("dismiss",)
    list_display = ["__str__", "state", "proposed_at", "problem", "decided_by"]
    list_select_related = ["service", "configuration_item", "category", "problem", "decided_by"]
    list_filter = ["state"]
    date_hierarchy = "proposed_at"
    fields = ["state", "service", "configuration_item", "category", "incidents", "proposed_at", "problem",
              "decided_by", "fingerprint", "timeline"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Candidate | None = None) -> bool:
        return False

    def perform(self, obj: Candidate, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Candidate:
        return candidate_transition(obj, name, user=user, comment=comment, data=data)

# --- the known-error database ---


@admin.register(KnownError)
class KnownErrorAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, TicketAdminMixin, admin.ModelAdmin):
    """Known errors: publish and retire as buttons, edits of a draft or published one through the known-error
    service (checked, on the timeline). They are recorded on the pages or the API (known_error_create: from a
    problem, or on their own), never added or deleted here."""

    fsm_forms = {"retire": ReasonForm}
    danger_transitions = ("retire",)
    list_display = ["number", "title", "state", "service", "configuration_item", "problem", "published_at"]
    list_select_related = ["service", "configuration_item", "problem"]
    list_filter = ["state", "service", "category"]
    search_fields = ["number", "title", "symptom", "workaround"]
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["number", "title", "state", "problem", "created_by", "created_at"]}),
        (_("Known error"), {"fields": ["symptom", "root_cause", "workaround", "permanent_fix"]}),
        (_("Where it applies"), {"fields": ["service", "configuration_item", "category"]}),
        (_("Lifecycle"), {"fields": ["published_at", "retired_at"]}),
        (_("Timeline"), {"fields": ["timeline"]}),
    ]

    editable = known_errors.EDITABLE  # a draft or a published one; a retired one is read-only
    select_related = ("problem",)

    def update(self, request: HttpRequest, obj: KnownError, changes: dict[str, Any]) -> KnownError:
        """Edits go through known_error_update, which checks them and puts each on the timeline."""
        return known_errors.known_error_update(obj, user=request.user, changes=changes)

    def perform(self, obj: KnownError, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> KnownError:
        return known_errors.known_error_transition(obj, name, user=user, comment=comment, data=data)
