"""Forms of the change pages: queue filters, the request (變更申請表) and its edit, one form per transition,
opinions, implementation steps and the post-implementation review. Forms only collect input; services decide."""

from typing import Any

from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from changes.choices import Category, ChangeType, Decision, Recommendation, RiskLevel, State, StepStatus, TemplateState
from changes.models import Change, ChangeTemplate, RiskQuestion
from changes.selectors import incidents_visible_to
from changes.services import EDITABLE, configuration_items_visible_to
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.forms import (
    ConfirmForm,
    DateInput,
    DateTimeLocalInput,
    EngineerChoiceField,
    QueueFilterForm,
    ReasonForm,
    SearchSelectMultiple,
    StyledForm,
    TransitionForm,
    choice_order,
    textarea,
)
from opscenter.core.models import Service, User


def users_with_role(*names: str) -> QuerySet[User]:
    return (User.objects.filter(is_active=True, groups__name__in=names).distinct()
            .prefetch_related("teams").order_by("display_name", "username"))


# --- The queue ---------------------------------------------------------------------------------------------

STATE_ORDER = choice_order("state", State.values)
RISK_ORDER = Case(*[When(risk_level=value, then=Value(i)) for i, value in enumerate(RiskLevel.values)],
                  default=Value(-1), output_field=IntegerField())
SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "window": ("planned_start", "pk"),
    "-window": ("-planned_start", "-pk"),
    "-risk": (RISK_ORDER.desc(), "-created_at", "-pk"),
    "risk": (RISK_ORDER.asc(), "-created_at", "-pk"),
    "state": (STATE_ORDER.asc(), "-created_at", "-pk"),
    "-state": (STATE_ORDER.desc(), "-created_at", "-pk"),
}
DEFAULT_SORT = "-created"


class ChangeFilterForm(QueueFilterForm):
    """The filter bar and sort order of the change queue."""

    sorts = SORTS
    default_sort = DEFAULT_SORT

    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.SearchInput(attrs={"placeholder": _("Number or title")}))
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *State.choices])
    change_type = forms.ChoiceField(label=_("Type"), required=False,
                                    choices=[("", _("Any type")), *ChangeType.choices])
    risk_level = forms.ChoiceField(label=_("Risk"), required=False,
                                   choices=[("", _("Any risk")), *RiskLevel.choices])
    service = forms.ModelChoiceField(label=_("Service"), required=False, queryset=Service.objects.all(),
                                     empty_label=_("Any service"))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("-created", _("Newest first")), ("created", _("Oldest first")),
        ("window", _("Window, soonest first")), ("-window", _("Window, latest first")),
        ("-risk", _("Risk, highest first")), ("risk", _("Risk, lowest first")),
        ("state", _("State, in process order")), ("-state", _("State, reverse order")),
    ])

    def filter(self, qs: QuerySet[Change]) -> QuerySet[Change]:
        values = self.values()
        if values.get("q"):
            text = values["q"].strip()
            qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text))
        for name in ("state", "change_type", "risk_level"):
            if values.get(name):
                qs = qs.filter(**{name: values[name]})
        if values.get("service"):
            qs = qs.filter(pk__in=Change.services.through.objects.filter(
                service_id=values["service"].pk).values("change_id"))
        return qs



# --- The request -------------------------------------------------------------------------------------------

RISK_PREFIX = "risk_q_"
MANY = ("services", "configuration_items", "related_incidents")  # the request's many-to-many fields


def _option_label(option: Any) -> str:
    """An answer as the requester reads it, in their language (its weight stays with the supervisor)."""
    chinese = (get_language() or "").startswith("zh")
    return (chinese and option.label_zh_hant) or option.label


def steps_from_text(text: str) -> list[str]:
    """One step per line; blank lines are dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ChangeRequestForm(StyledForm):
    """The change request (變更申請表): content, purpose, scope, services and CIs, window, the risk
    questionnaire and the requester's assessment, and the implementation plan."""

    change_type = forms.ChoiceField(label=_("Type"), choices=[(ChangeType.NORMAL, ChangeType.NORMAL.label),
                                                              (ChangeType.EMERGENCY, ChangeType.EMERGENCY.label)],
                                    help_text=_("A standard change is made from an approved template."))
    category = forms.ChoiceField(label=_("Category"), choices=[("", "---------"), *Category.choices])
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Content"), widget=textarea(4),
                                  help_text=_("What will be changed, on what."))
    purpose = forms.CharField(label=_("Purpose"), widget=textarea(2))
    impact_scope = forms.CharField(label=_("Impact scope"), widget=textarea(2),
                                   help_text=_("Who or what is affected while the change is made."))
    services = forms.ModelMultipleChoiceField(label=_("Affected services"), required=False,
                                              queryset=Service.objects.filter(is_active=True),
                                              widget=forms.SelectMultiple(attrs={"size": 5}))
    configuration_items = forms.ModelMultipleChoiceField(label=_("Affected configuration items"), required=False,
                                                         queryset=Service.objects.none(),
                                                         widget=forms.SelectMultiple(attrs={"size": 5}))
    related_incidents = forms.ModelMultipleChoiceField(
        label=_("Related incidents"), required=False, queryset=Incident.objects.none(),
        widget=SearchSelectMultiple(reverse_lazy("changes:incident-search")),
        help_text=_("Type a number or words of the title to find an incident."))
    planned_start = forms.DateTimeField(label=_("Planned start"), widget=DateTimeLocalInput())
    planned_end = forms.DateTimeField(label=_("Planned end"), widget=DateTimeLocalInput())
    risk_assessment = forms.CharField(label=_("Your risk assessment"), widget=textarea(3))
    risk_mitigation = forms.CharField(label=_("Risk mitigation"), widget=textarea(3))
    rollback_tested = forms.BooleanField(label=_("The rollback has been tested"), required=False)
    implementer = EngineerChoiceField(label=_("Implementer"), required=False, queryset=User.objects.none(),
                                      help_text=_("Left empty, the engineer who schedules the change implements it."))
    steps = forms.CharField(label=_("Implementation steps"), required=False, widget=textarea(5),
                            help_text=_("One step per line, in order."))
    rollback_plan = forms.CharField(label=_("Rollback plan"), required=False, widget=textarea(3))
    contingency_plan = forms.CharField(label=_("Contingency plan"), required=False, widget=textarea(3))

    def __init__(self, *args: Any, user: Any, change: Change | None = None, **kwargs: Any) -> None:
        self.user, self.change = user, change
        super().__init__(*args, **kwargs)
        self.fields["configuration_items"].queryset = configuration_items_visible_to(user).order_by("name")
        self.fields["implementer"].queryset = users_with_role(*roles.ENGINEERS)
        self.fields["related_incidents"].queryset = incidents_visible_to(user).order_by("-created_at", "-pk")
        self.questions = list(RiskQuestion.objects.filter(is_active=True).prefetch_related("options"))
        for question in self.questions:
            self.fields[f"{RISK_PREFIX}{question.pk}"] = forms.TypedChoiceField(
                label=str(question), coerce=int, widget=forms.RadioSelect, required=False,
                choices=[(o.pk, _option_label(o)) for o in question.options.all()])
        if change is not None:
            self._edit_only(change)

    def _edit_only(self, change: Change) -> None:
        """Keep what the state allows to be edited, filled with the change as it is."""
        editable = EDITABLE.get(change.state, set()) | {"steps"}  # the plan is written until implementation
        if "risk_answers" not in editable:
            for name in [n for n in self.fields if n.startswith(RISK_PREFIX)]:
                del self.fields[name]
            self.questions = []
        for name in [n for n in self.fields if not n.startswith(RISK_PREFIX) and n not in editable]:
            del self.fields[name]
        for name in self.fields:
            if name.startswith(RISK_PREFIX):
                self.initial.setdefault(name, (change.risk_answers or {}).get(name[len(RISK_PREFIX):]))
            elif name == "steps":
                self.initial.setdefault("steps", "\n".join(s.description for s in change.steps.all()))
            elif name in MANY:
                self.initial.setdefault(name, [o.pk for o in getattr(change, name).all()])
            elif name == "implementer":
                self.initial.setdefault(name, change.implementer_id)
            else:
                value = getattr(change, name)
                if name.startswith("planned_") and value:  # as the minute-precise input shows it
                    value = timezone.localtime(value).replace(second=0, microsecond=0)
                self.initial.setdefault(name, value)

    @property
    def risk_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n.startswith(RISK_PREFIX)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end <= start:
            self.add_error("planned_end", _("The window must end after it starts."))
        return data

    def _values(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith(RISK_PREFIX) and k != "steps"}
        if self.questions:
            data["risk_answers"] = {name[len(RISK_PREFIX):]: value for name, value in self.cleaned_data.items()
                                    if name.startswith(RISK_PREFIX) and value not in (None, "")}
        return data

    def request_data(self) -> tuple[dict[str, Any], list[str]]:
        """What changes.services.change_create takes: the data and the steps."""
        data = {k: v for k, v in self._values().items() if v not in (None, "")}
        for name in MANY:
            data[name] = list(self.cleaned_data.get(name) or [])
        return data, steps_from_text(self.cleaned_data.get("steps", ""))

    def changed_values(self) -> tuple[dict[str, Any], list[str] | None]:
        """What changes.services.change_update takes: only the fields that were changed, and the steps
        when they were."""
        values = self._values()
        changed = {}
        for name, value in values.items():
            if name == "risk_answers":
                if value != {k: v for k, v in (self.change.risk_answers or {}).items()}:
                    changed[name] = value
            elif name in self.changed_data:
                changed[name] = list(value) if name in MANY else value
        if "related_incidents" in changed:  # links to incidents this user cannot see stay as they are
            hidden = Incident.objects.filter(changes=self.change).exclude(
                pk__in=self.fields["related_incidents"].queryset.values("pk"))
            changed["related_incidents"] += list(hidden)
        steps = None
        if "steps" in self.fields and "steps" in self.changed_data:
            steps = steps_from_text(self.cleaned_data.get("steps", ""))
        return changed, steps


class FromTemplateForm(StyledForm):
    """A standard change from an approved template: the template fills the request and the plan."""

    template = forms.ModelChoiceField(label=_("Approved template"),
                                      queryset=ChangeTemplate.objects.filter(state=TemplateState.APPROVED))
    title = forms.CharField(label=_("Title"), max_length=200)
    planned_start = forms.DateTimeField(label=_("Planned start"), widget=DateTimeLocalInput())
    planned_end = forms.DateTimeField(label=_("Planned end"), widget=DateTimeLocalInput())
    services = forms.ModelMultipleChoiceField(label=_("Affected services"), required=False,
                                              queryset=Service.objects.filter(is_active=True),
                                              widget=forms.SelectMultiple(attrs={"size": 5}),
                                              help_text=_("Left empty, the template's services."))
    configuration_items = forms.ModelMultipleChoiceField(label=_("Affected configuration items"), required=False,
                                                         queryset=Service.objects.none(),
                                                         widget=forms.SelectMultiple(attrs={"size": 5}))
    implementer = EngineerChoiceField(label=_("Implementer"), required=False, queryset=User.objects.none())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["configuration_items"].queryset = configuration_items_visible_to(user).order_by("name")
        self.fields["implementer"].queryset = users_with_role(*roles.ENGINEERS)
        self.fields["template"].queryset = ChangeTemplate.objects.filter(
            state=TemplateState.APPROVED).prefetch_related("services")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end <= start:
            self.add_error("planned_end", _("The window must end after it starts."))
        return data

    def request_data(self) -> tuple[dict[str, Any], None]:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        for name in ("services", "configuration_items"):  # no services chosen: the template's
            data.pop(name, None)
            if self.cleaned_data.get(name):
                data[name] = list(self.cleaned_data[name])
        return data, None


# --- One form per transition -------------------------------------------------------------------------------


class SubmitForm(ConfirmForm):
    submit_label = _("Submit the request")
    confirm = forms.BooleanField(label=_("The request is complete; hand it to the supervisor"), required=True)


class StartAssessmentForm(ConfirmForm):
    submit_label = _("Start assessment")
    confirm = forms.BooleanField(label=_("I am taking this request up for assessment"), required=True)


class SendBackForm(ReasonForm):
    submit_label = _("Send back to requester")
    comment = forms.CharField(label=_("What the request needs"), widget=textarea(3))


class AssessForm(TransitionForm):
    data_fields = ("necessity", "feasibility", "assessment", "risk_level", "override_reason", "cab_members",
                   "implementer")
    submit_label = _("Record assessment")
    necessity = forms.CharField(label=_("Necessity"), widget=textarea(2))
    feasibility = forms.CharField(label=_("Feasibility"), widget=textarea(2))
    assessment = forms.CharField(label=_("Assessment opinion"), widget=textarea(2))
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices,
                                   help_text=_("Another level than the computed one needs a justification."))
    override_reason = forms.CharField(label=_("Justification of the risk level"), required=False,
                                      widget=textarea(2))
    cab_members = forms.ModelMultipleChoiceField(
        label=_("CAB members (joint review)"), required=False, queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For a high or major risk: every member named votes. Left empty, the rule's default members."))
    implementer = EngineerChoiceField(label=_("Implementer"), required=False, queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cab_members"].queryset = users_with_role(roles.CAB_MEMBER)
        self.fields["implementer"].queryset = users_with_role(*roles.ENGINEERS)
        self.initial.setdefault("risk_level", self.obj.computed_risk_level or self.obj.risk_level)
        self.initial.setdefault("implementer", self.obj.implementer_id)

    def transition_data(self) -> dict[str, Any]:
        data = super().transition_data()
        data["cab_members"] = list(data["cab_members"] or []) or None
        data["override_reason"] = data["override_reason"] or ""
        return data


class ApproveForm(TransitionForm):
    submit_label = _("Approve")
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=textarea(2))


class RejectForm(ReasonForm):
    submit_label = _("Reject")
    comment = forms.CharField(label=_("Reason for rejecting"), widget=textarea(3))


class ScheduleForm(TransitionForm):
    data_fields = ("acknowledge_conflicts",)
    submit_label = _("Schedule")
    acknowledge_conflicts = forms.BooleanField(label=_("I acknowledge these conflicts"), required=False)
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.context.get("schedule") is not None and not self.context["schedule"].conflicts:
            del self.fields["acknowledge_conflicts"]

    def transition_data(self) -> dict[str, Any]:
        return {"acknowledge_conflicts": bool(self.cleaned_data.get("acknowledge_conflicts"))}


class StartForm(ConfirmForm):
    submit_label = _("Start implementation")
    confirm = forms.BooleanField(label=_("The window is open; I am starting the work"), required=True)


class FailForm(TransitionForm):
    data_fields = ("what_happened",)
    submit_label = _("Record failure")
    what_happened = forms.CharField(label=_("What happened"), widget=textarea(3))


class RollBackForm(TransitionForm):
    data_fields = ("rollback_log",)
    submit_label = _("Record the rollback")
    rollback_log = forms.CharField(label=_("Rollback log"), widget=textarea(4))


class VerifyForm(TransitionForm):
    data_fields = ("function", "performance", "data_integrity")
    submit_label = _("Record verification")
    function = forms.CharField(label=_("Function test"), widget=textarea(2))
    performance = forms.CharField(label=_("Performance test"), widget=textarea(2))
    data_integrity = forms.CharField(label=_("Data integrity test"), widget=textarea(2))


class CompleteForm(TransitionForm):
    data_fields = ("report",)
    submit_label = _("Submit the implementation report")
    report = forms.CharField(label=_("Implementation report"), widget=textarea(4))


class CloseForm(TransitionForm):
    data_fields = ("review",)
    submit_label = _("Close the change")
    review = forms.CharField(label=_("Your review of the report"), widget=textarea(3))


class CancelForm(ReasonForm):
    submit_label = _("Cancel the change")
    comment = forms.CharField(label=_("Reason for cancelling"), widget=textarea(3))


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "submit": SubmitForm,
    "start_assessment": StartAssessmentForm,
    "send_back": SendBackForm,
    "assess": AssessForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "schedule": ScheduleForm,
    "start": StartForm,
    "fail": FailForm,
    "roll_back": RollBackForm,
    "verify": VerifyForm,
    "complete": CompleteForm,
    "close": CloseForm,
    "cancel": CancelForm,
}
# The next step of the process: its form is shown open; the others stay folded.
FORWARD_TRANSITIONS = ("submit", "start_assessment", "assess", "approve", "schedule", "start", "roll_back",
                       "verify", "complete", "close")
DANGER_TRANSITIONS = ("cancel", "reject", "fail")


# --- Opinions, steps, the review ---------------------------------------------------------------------------


class InviteOpinionsForm(StyledForm):
    reviewers = forms.ModelMultipleChoiceField(label=_("Ask for the opinion of"), queryset=User.objects.none(),
                                               widget=forms.SelectMultiple(attrs={"size": 5}))

    def __init__(self, *args: Any, change: Change, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = users_with_role(*roles.IT_STAFF).exclude(pk=change.created_by_id)


class OpinionForm(StyledForm):
    recommendation = forms.ChoiceField(label=_("Recommendation"),
                                       choices=[("", "---------"), *Recommendation.choices])
    opinion = forms.CharField(label=_("Opinion"), widget=textarea(3))


class StepForm(StyledForm):
    position = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=[(StepStatus.DONE, StepStatus.DONE.label),
                                        (StepStatus.SKIPPED, StepStatus.SKIPPED.label)])
    note = forms.CharField(label=_("Note (why, when skipped)"), required=False, max_length=2000)


class ReviewForm(StyledForm):
    """The post-implementation review of an emergency or failed change."""

    held_on = forms.DateField(label=_("Review date"), widget=DateInput())
    participants = forms.CharField(label=_("Participants"), widget=textarea(2))
    summary = forms.CharField(label=_("What happened and why"), widget=textarea(3))
    lessons = forms.CharField(label=_("Lessons learned"), widget=textarea(2))
    actions = forms.CharField(label=_("Follow-up actions and owners"), widget=textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("held_on", timezone.localdate())


VOTE_LABELS = dict(Decision.choices)
