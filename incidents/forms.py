"""Forms of the incident pages: the queue filters, report-a-fault, one form per transition, notes,
files, the review meeting and the summary period. Forms only collect input; services decide."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from incidents.choices import CancelReason, Channel, HoldReason, Level, Priority, State
from incidents.filters import NONE, IncidentFilterSet
from incidents.models import Category, Incident, MajorIncidentReview, readers
from incidents.selectors import URGENT_FIRST, incident_assignable_users
from opscenter.core import roles
from opscenter.core.filters import names_a_filter
from opscenter.core.forms import (
    ConfirmForm,
    DateInput,
    DateTimeLocalInput,
    EngineerChoiceField,
    QueueFilterForm,
    ReasonForm,
    ReferenceChoiceField,
    StyledForm,
    TransitionForm,
    choice_order,
    textarea,
)
from opscenter.core.models import ConfigurationItem, Department, Service, Team, User
from opscenter.core.roles import has_role
from opscenter.core.selectors import configuration_items_visible_to

# --- The queue ---------------------------------------------------------------------------------------------

# Workflow order, so that sorting by state follows the process rather than the alphabet.
STATE_ORDER = choice_order("state", State.values)
# Unclassified incidents sort after P4.
PRIORITY_ORDER = choice_order("priority", Priority.values)
SORTS = {
    "urgency": URGENT_FIRST,
    "due": (F("next_due_at").asc(nulls_last=True), "priority", "-created_at", "-pk"),
    "-due": (F("next_due_at").desc(nulls_last=True), "priority", "-created_at", "-pk"),
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "priority": (PRIORITY_ORDER.asc(), "-created_at", "-pk"),
    "-priority": (PRIORITY_ORDER.desc(), "-created_at", "-pk"),
    "state": (STATE_ORDER.asc(), "-created_at", "-pk"),
    "-state": (STATE_ORDER.desc(), "-created_at", "-pk"),
}
# Every queue opens with the most urgent first (incidents.selectors.URGENT_FIRST: read in the order of its index).
DEFAULT_SORT = "urgency"


class IncidentFilterForm(QueueFilterForm):
    """The filter bar and sort order of the incident queue (the filtering itself is incidents.filters')."""

    sorts = SORTS
    default_sort = DEFAULT_SORT

    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.SearchInput(attrs={"placeholder": _("Number, title or phenomenon")}))
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *State.choices])
    priority = forms.ChoiceField(label=_("Priority"), required=False,
                                 choices=[("", _("Any priority")), *Priority.choices, (NONE, _("Not classified yet"))])
    category = ReferenceChoiceField(Category.objects.all(), cache_key="incident-filter-category", label=_("Category"),
                                    required=False, to_field_name="code", empty_label=_("Any category"))
    service = ReferenceChoiceField(Service.objects.all(), cache_key="incident-filter-service", label=_("Service"),
                                   required=False, empty_label=_("Any service"))
    team = ReferenceChoiceField(Team.objects.filter(is_active=True), cache_key="incident-filter-team",
                                label=_("Team"), required=False, empty_label=_("Any team"))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("urgency", _("Most urgent first")), ("due", _("Due soonest first")), ("-due", _("Due latest first")),
        ("-created", _("Newest first")), ("created", _("Oldest first")),
        ("priority", _("Priority, highest first")), ("-priority", _("Priority, lowest first")),
        ("state", _("State, in process order")), ("-state", _("State, reverse order")),
    ])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not has_role(user, *roles.IT_STAFF, roles.AUDITOR):
            del self.fields["team"]

    def narrowed(self) -> list[tuple[Any, str]]:
        """The filters of the request that the filter bar does not show (a link from the summary narrows the list to
        a period, a configuration item, incidents without a category …), as (label, value) to say so above it."""
        if not self.is_bound:
            return []
        shown = self.values()
        rows = []
        for name, spec in IncidentFilterSet.base_filters.items():
            value = (self.data.get(name) or "").strip()
            if not value or name in shown:
                continue
            if value == NONE:
                value = str(_("none"))
            elif name == "configuration_item" and value.isdigit():
                value = str(configuration_items_visible_to(self.user).filter(pk=int(value)).first() or value)
            rows.append((spec.label, value))
        return rows

    def filter(self, qs: QuerySet[Incident]) -> QuerySet[Incident]:
        """Narrow the queue with the FilterSet the API uses (same parameters); values that do not validate
        are left out of its cleaned data, so a bad link shows the unfiltered queue rather than an error. A request
        naming no filter (the tabs, the sort, the pages) leaves the queue as it is without building the filterset."""
        if not self.is_bound or not names_a_filter(self.data, IncidentFilterSet.base_filters):
            return qs
        return IncidentFilterSet(self.data, queryset=qs).qs



# --- Report a fault ----------------------------------------------------------------------------------------

STAFF_REPORT_FIELDS = ("caller", "caller_name", "caller_contact", "channel", "department", "title", "description",
                       "occurred_at", "impact_scope", "impact", "urgency", "service", "configuration_item")
DEPARTMENT_REPORT_FIELDS = ("title", "description", "occurred_at", "impact_scope", "service")


def may_report_for_others(user: Any) -> bool:
    """Duty officers, engineers and the supervisor record faults for callers."""
    return has_role(user, roles.DUTY_OFFICER, roles.SUPERVISOR, *roles.ENGINEERS)


class IncidentReportForm(StyledForm):
    """Report a fault: the full form for IT staff recording a call, a short one for department users."""

    caller = forms.CharField(label=_("Caller"), required=False, max_length=150,
                             help_text=_("Type part of a name and choose the caller from the suggestions, or "
                                         "type their name and contact below."))
    caller_name = forms.CharField(label=_("Caller name"), required=False, max_length=120)
    caller_contact = forms.CharField(label=_("Caller contact"), required=False, max_length=120,
                                     help_text=_("Phone, email or IM account"))
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "---------"), *Channel.choices])
    department = forms.ModelChoiceField(label=_("Department"), required=False,
                                        queryset=Department.objects.filter(is_active=True),
                                        help_text=_("Left empty, the caller's department is used."))
    title = forms.CharField(label=_("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"placeholder": _("A short summary of the fault")}))
    description = forms.CharField(label=_("Phenomenon"), widget=textarea(5),
                                  help_text=_("What was seen: messages, symptoms, who noticed it."))
    occurred_at = forms.DateTimeField(label=_("Time it happened"), widget=DateTimeLocalInput())
    impact_scope = forms.CharField(label=_("Impact scope"), widget=textarea(3),
                                   help_text=_("Who or what is affected: users, sites, business processes."))
    impact = forms.TypedChoiceField(label=_("Impact"), required=False, coerce=int, empty_value=None,
                                    choices=[("", "---------"), *Level.choices])
    urgency = forms.TypedChoiceField(label=_("Urgency"), required=False, coerce=int, empty_value=None,
                                     choices=[("", "---------"), *Level.choices],
                                     help_text=_("With both impact and urgency, the priority is set now from the "
                                                 "priority matrix; leave both empty to classify it later."))
    service = forms.ModelChoiceField(label=_("Affected service"), required=False,
                                     queryset=Service.objects.filter(is_active=True))
    configuration_item = forms.ModelChoiceField(label=_("Configuration item"), required=False,
                                                queryset=ConfigurationItem.objects.all())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs["initial"] = dict(kwargs.get("initial") or {})
        kwargs["initial"].setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))
        super().__init__(*args, **kwargs)
        self.for_others = may_report_for_others(user)
        keep = STAFF_REPORT_FIELDS if self.for_others else DEPARTMENT_REPORT_FIELDS
        for name in [n for n in self.fields if n not in keep]:
            del self.fields[name]
        self.order_fields(keep)
        if "caller" in self.fields:
            # Suggestions as one types (htmx fills the datalist from incidents:caller-options).
            self.fields["caller"].widget.attrs.update({
                "list": "caller-options", "autocomplete": "off", "placeholder": _("Name or user name"),
                "hx-get": reverse("incidents:caller-options"), "hx-trigger": "input changed delay:250ms",
                "hx-target": "#caller-options", "hx-swap": "innerHTML"})
        if "configuration_item" in self.fields:
            # Only the CIs the user may read (as on the API); another one is refused as an invalid choice.
            self.fields["configuration_item"].queryset = configuration_items_visible_to(user)
            self.fields["service"].widget.attrs.update({
                "hx-get": reverse("incidents:configuration-item-options"), "hx-trigger": "change",
                "hx-target": f"#{self['configuration_item'].auto_id}", "hx-swap": "innerHTML"})
            service = self._service_id()
            if service:
                # Offer only the CIs of the chosen service (htmx refreshes them when it changes); any CI
                # still validates, so that a mismatch gets clean()'s clear message.
                field = self.fields["configuration_item"]
                field.widget.choices = [("", field.empty_label), *[
                    (ci.pk, str(ci)) for ci in field.queryset.filter(services=service)]]

    def _service_id(self) -> int | None:
        raw = (self.data if self.is_bound else self.initial).get("service")
        try:
            return int(getattr(raw, "pk", raw))
        except (TypeError, ValueError):
            return None

    def clean_caller(self) -> User | None:
        """The user named by their user name (what a suggestion fills in); empty for a caller who is not one."""
        name = (self.cleaned_data.get("caller") or "").strip()
        if not name:
            return None
        found = User.objects.filter(is_active=True, username__iexact=name).select_related("department").first()
        if found is None:
            raise forms.ValidationError(
                _("No user is called %(name)s: choose the caller from the suggestions, or leave this empty and type "
                  "their name below."), params={"name": name})
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.for_others and not data.get("caller") and not (data.get("caller_name") or "").strip() \
                and "caller" not in self.errors:
            self.add_error("caller_name", _("Name the caller, or choose them from the users."))
        if "impact" in self.fields and (data.get("impact") is None) != (data.get("urgency") is None):
            missing = "urgency" if data.get("urgency") is None else "impact"
            self.add_error(missing, _("Give both impact and urgency, or neither."))
        service, item = data.get("service"), data.get("configuration_item")
        if item and service and not item.services.filter(pk=service.pk).exists():
            self.add_error("configuration_item", _("This configuration item does not support the service."))
        return data

    def report_data(self) -> dict[str, Any]:
        """What incidents.services.incident_report takes."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


# --- One form per transition -------------------------------------------------------------------------------


class PriorityForm(TransitionForm):
    """Impact and urgency, whose cell of the priority matrix gives the priority (classify, reclassify)."""

    impact = forms.TypedChoiceField(label=_("Impact"), coerce=int, choices=[("", "---------"), *Level.choices])
    urgency = forms.TypedChoiceField(label=_("Urgency"), coerce=int, choices=[("", "---------"), *Level.choices],
                                     help_text=_("The priority follows from impact × urgency in the priority matrix."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("impact", self.obj.impact)
        self.initial.setdefault("urgency", self.obj.urgency)


class ClassifyForm(PriorityForm):
    data_fields = ("category", "impact", "urgency")
    field_order = data_fields
    submit_label = _("Classify")
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("category", self.obj.category_id)


class ReclassifyForm(PriorityForm):
    """A new impact × urgency for an incident being worked, with the reason it changes."""

    data_fields = ("impact", "urgency")
    submit_label = _("Reclassify")
    comment = forms.CharField(label=_("Reason for the new priority"), widget=textarea(3),
                              help_text=_("What grew or shrank: who or what is affected now."))


class AssignForm(TransitionForm):
    data_fields = ("team", "assignee")
    submit_label = _("Assign")
    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.filter(is_active=True))
    assignee = EngineerChoiceField(label=_("Engineer"), required=False, queryset=incident_assignable_users(),
                                   help_text=_("Choose a team, an engineer, or both."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        incident = self.obj
        # Only people who may see the incident (a security incident: the security team and the supervisors).
        self.fields["assignee"].queryset = readers(incident, incident_assignable_users())
        self.fields["team"].queryset = Team.objects.filter(
            is_active=True, members__in=readers(incident, User.objects.filter(is_active=True))).distinct()
        team_id = incident.team_id
        if team_id is None and incident.category_id and incident.category:
            team_id = incident.category.default_team_id
        if team_id is None and incident.service_id and incident.service:
            team_id = incident.service.support_team_id
        self.initial.setdefault("team", team_id)
        self.initial.setdefault("assignee", incident.assignee_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("team") and not data.get("assignee") and not self.errors:
            self.add_error("team", _("Choose a team or an engineer."))
        return data


class StartHandlingForm(TransitionForm):
    data_fields = ("cause", "scope")
    submit_label = _("Record diagnosis and start handling")
    cause = forms.CharField(label=_("Cause"), widget=textarea())
    scope = forms.CharField(label=_("Scope"), widget=textarea(), help_text=_("What the fault affects."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("cause", self.obj.diagnosis_cause)
        self.initial.setdefault("scope", self.obj.diagnosis_scope)


class RestoreForm(TransitionForm):
    data_fields = ("measures",)
    submit_label = _("Service restored")
    measures = forms.CharField(label=_("Measures taken"), widget=textarea(4))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("measures", self.obj.measures)


class ConfirmRecoveryForm(TransitionForm):
    data_fields = ("function_ok", "function_note", "performance_ok", "performance_note", "data_ok", "data_note",
                   "resolution")
    submit_label = _("Record the recovery tests")
    function_ok = forms.BooleanField(label=_("Function test passed"), required=False)
    function_note = forms.CharField(label=_("Function test note"), widget=textarea(2))
    performance_ok = forms.BooleanField(label=_("Performance test passed"), required=False)
    performance_note = forms.CharField(label=_("Performance test note"), widget=textarea(2))
    data_ok = forms.BooleanField(label=_("Data integrity test passed"), required=False)
    data_note = forms.CharField(label=_("Data integrity test note"), widget=textarea(2))
    resolution = forms.CharField(label=_("Resolution"), required=False, widget=textarea(3),
                                 help_text=_("Required when all three tests passed. A failed test sends the "
                                             "incident back to handling."))
    resolve_children = forms.BooleanField(label=_("Also resolve its open child incidents with this resolution"),
                                          required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.context.get("open_children"):
            del self.fields["resolve_children"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        passed = data.get("function_ok") and data.get("performance_ok") and data.get("data_ok")
        if passed and not (data.get("resolution") or "").strip():
            self.add_error("resolution", _("Describe the resolution."))
        return data

    def transition_data(self) -> dict[str, Any]:
        data = super().transition_data()
        data["resolution"] = data.get("resolution") or ""
        if self.cleaned_data.get("resolve_children"):
            data["resolve_children"] = True
        return data


class SubmitReportForm(TransitionForm):
    data_fields = ("cause", "process", "measures", "result")
    submit_label = _("Submit the report")
    cause = forms.CharField(label=_("Cause"), widget=textarea())
    process = forms.CharField(label=_("Process"), widget=textarea(4),
                              help_text=_("How the incident was handled, step by step."))
    measures = forms.CharField(label=_("Measures"), widget=textarea())
    result = forms.CharField(label=_("Result"), widget=textarea())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Start from what was recorded on the way (a returned report keeps its text).
        incident = self.obj
        self.initial.setdefault("cause", incident.report_cause or incident.diagnosis_cause)
        self.initial.setdefault("process", incident.report_process)
        self.initial.setdefault("measures", incident.report_measures or incident.measures)
        self.initial.setdefault("result", incident.report_result or incident.resolution)


class HoldForm(TransitionForm):
    data_fields = ("reason",)
    submit_label = _("Put on hold")
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *HoldReason.choices])


class CancelForm(TransitionForm):
    data_fields = ("reason", "duplicate_of")
    submit_label = _("Cancel the incident")
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *CancelReason.choices])
    duplicate_of = forms.CharField(label=_("Duplicate of"), required=False, max_length=24,
                                   widget=forms.TextInput(attrs={"placeholder": "INC-2026-000123"}),
                                   help_text=_("The number of the incident this one duplicates."))

    def clean_duplicate_of(self) -> Incident | None:
        number = (self.cleaned_data.get("duplicate_of") or "").strip()
        if not number:
            return None
        found = Incident.objects.visible_to(self.user).filter(number__iexact=number).first()
        if found is None:
            raise forms.ValidationError(_("There is no incident %(number)s that you can see."),
                                        params={"number": number})
        if found.pk == self.obj.pk:
            raise forms.ValidationError(_("An incident cannot duplicate itself."))
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("reason") == CancelReason.DUPLICATE and not data.get("duplicate_of") \
                and "duplicate_of" not in self.errors:
            self.add_error("duplicate_of", _("Name the incident this one duplicates."))
        return data


class ReopenForm(ReasonForm):
    submit_label = _("Reopen")
    comment = forms.CharField(label=_("Reason for reopening"), widget=textarea(3))


class ReturnReportForm(ReasonForm):
    submit_label = _("Return the report")
    comment = forms.CharField(label=_("What the report needs"), widget=textarea(3))


class ApproveReportForm(ConfirmForm):
    submit_label = _("Approve and close")
    confirm = forms.BooleanField(label=_("I have read the report and approve it"), required=True)


class StartDiagnosisForm(ConfirmForm):
    submit_label = _("Start diagnosis")
    confirm = forms.BooleanField(label=_("I am taking this incident up now"), required=True)


class ResumeForm(ConfirmForm):
    submit_label = _("Resume")


class DeclareMajorForm(ConfirmForm):
    submit_label = _("Declare major incident")
    confirm = forms.BooleanField(label=_("Declare a major incident and notify leadership"), required=True)


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "classify": ClassifyForm,
    "reclassify": ReclassifyForm,
    "assign": AssignForm,
    "reassign": AssignForm,
    "start_diagnosis": StartDiagnosisForm,
    "start_handling": StartHandlingForm,
    "restore": RestoreForm,
    "confirm_recovery": ConfirmRecoveryForm,
    "submit_report": SubmitReportForm,
    "approve_report": ApproveReportForm,
    "return_report": ReturnReportForm,
    "hold": HoldForm,
    "resume": ResumeForm,
    "cancel": CancelForm,
    "reopen": ReopenForm,
    "declare_major": DeclareMajorForm,
}
# The next step of the process: its form is shown open; the others (hold, cancel, …) stay folded.
FORWARD_TRANSITIONS = ("classify", "assign", "start_diagnosis", "start_handling", "restore", "confirm_recovery",
                       "submit_report", "approve_report", "resume")


# --- The review meeting ----------------------------------------------------------------------


def _review_label(name: str) -> Any:  # noqa: ANN401
    return MajorIncidentReview._meta.get_field(name).verbose_name


class ReviewForm(StyledForm):
    """The review meeting of a major incident (重大故障分析會議)."""

    held_on = forms.DateField(label=capfirst(_review_label("held_on")), widget=DateInput())
    attendees = forms.CharField(label=capfirst(_review_label("attendees")), widget=textarea(2))
    causes = forms.CharField(label=capfirst(_review_label("causes")), widget=textarea())
    lessons = forms.CharField(label=capfirst(_review_label("lessons")), widget=textarea())
    preventive_measures = forms.CharField(label=capfirst(_review_label("preventive_measures")), widget=textarea())
    owners = forms.CharField(label=capfirst(_review_label("owners")), widget=textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("held_on", timezone.localdate())


# --- The summary period ------------------------------------------------------------------------------------

PRESET_DAYS = (7, 30, 90)


class SummaryPeriodForm(StyledForm):
    """The period of the summary, both days included; this month by default."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period is before its start."))
        if start and end and (end - start).days > 3660:
            self.add_error("start", _("Choose a period of at most ten years."))
        return data

    def period(self) -> tuple[date, date]:
        today = timezone.localdate()
        start, end = today.replace(day=1), today
        if self.is_bound and self.is_valid():
            end = self.cleaned_data.get("end") or end
            start = self.cleaned_data.get("start") or min(start, end)
        return start, end


def preset_periods() -> list[tuple[int, date, date]]:
    today = timezone.localdate()
    return [(days, today - timedelta(days=days - 1), today) for days in PRESET_DAYS]
