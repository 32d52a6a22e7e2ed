"""Forms of the problem pages: the queue's filters, identifying and editing a problem, the investigation, the
root-cause analysis (a fishbone: causes per category, one a line; a 5-whys chain: a question and its answer a
step), the report, the solution's actions, linking incidents, and one form per transition. Forms only collect
input; services decide."""

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from incidents.models import Category, Incident
from opscenter.core.forms import (
    ConfirmForm,
    DateInput,
    EngineerChoiceField,
    QueueFilterForm,
    ReasonForm,
    SearchSelectMultiple,
    StyledForm,
    TransitionForm,
    choice_order,
    textarea,
)
from opscenter.core.models import ConfigurationItem, Service, Team, User
from problems.analysis import MAX_WHYS
from problems.choices import FishboneCategory, Source, State
from problems.models import WORKERS, Problem


def problem_workers() -> QuerySet[User]:
    """Active problem managers, engineers and supervisors, with their teams: who may own a problem or an action."""
    return (User.objects.filter(is_active=True, groups__name__in=WORKERS).distinct()
            .prefetch_related("teams").order_by("display_name", "username"))


def lines(text: str) -> list[str]:
    """One entry per line; blank lines are dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- The queue ---------------------------------------------------------------------------------------------

SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "state": (choice_order("state", State.values).asc(), "-created_at", "-pk"),
    "-state": (choice_order("state", State.values).desc(), "-created_at", "-pk"),
}


class ProblemFilterForm(QueueFilterForm):
    """The filter bar and sort order of the problem queue."""

    sorts = SORTS
    default_sort = "-created"

    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.SearchInput(attrs={"placeholder": _("Number or title")}))
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *State.choices])
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", _("Any source")), *Source.choices])
    service = forms.ModelChoiceField(label=_("Service"), required=False, queryset=Service.objects.all(),
                                     empty_label=_("Any service"))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("-created", _("Newest first")), ("created", _("Oldest first")),
        ("state", _("State, in process order")), ("-state", _("State, reverse order"))])

    def filter(self, qs: QuerySet[Problem]) -> QuerySet[Problem]:
        values = self.values()
        if values.get("q"):
            text = values["q"].strip()
            qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text))
        for name in ("state", "source", "service"):
            if values.get(name):
                qs = qs.filter(**{name: values[name]})
        return qs


# --- Identify and edit ---------------------------------------------------------------------------------------


class ProblemForm(StyledForm):
    """Identify a problem (問題識別) — from incidents, a monitoring alarm or user feedback — or edit what was
    identified."""

    class Media:
        js = ("js/problem-form.js",)

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=textarea(4),
                                  help_text=_("What is seen to go wrong, and since when."))
    source = forms.ChoiceField(label=_("Identified from"), choices=Source.choices, initial=Source.INCIDENTS)
    incidents = forms.ModelMultipleChoiceField(
        label=_("Incidents"), required=False, queryset=Incident.objects.none(),
        widget=SearchSelectMultiple(reverse_lazy("problems:incident-search")),
        help_text=_("Type a number or words of the title to find an incident."))
    source_reference = forms.CharField(label=_("Alarm or feedback"), required=False, max_length=255,
                                       help_text=_("The monitoring alarm (its system and identifier), or who gave "
                                                   "the feedback and where."))
    service = forms.ModelChoiceField(label=_("Service"), required=False, queryset=Service.objects.filter(
        is_active=True).order_by("name"))
    configuration_item = forms.ModelChoiceField(label=_("Configuration item"), required=False,
                                                queryset=ConfigurationItem.objects.order_by("name"))
    category = forms.ModelChoiceField(label=_("Category"), required=False, queryset=Category.objects.all())
    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.filter(is_active=True))
    owner = EngineerChoiceField(label=_("Owner"), required=False, queryset=User.objects.none(),
                                help_text=_("Left empty, you own it; the investigation may name another."))

    def __init__(self, *args: Any, user: Any, problem: Problem | None = None, editable: frozenset[str] = frozenset(),
                 **kwargs: Any) -> None:
        self.problem = problem
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = problem_workers()
        self.fields["incidents"].queryset = Incident.objects.visible_to(user).order_by("-created_at", "-pk")
        if problem is not None:
            for name in [n for n in self.fields if n not in editable]:
                del self.fields[name]
            for name in self.fields:
                self.initial.setdefault(name, getattr(problem, f"{name}_id", None) if name in (
                    "service", "configuration_item", "category", "team", "owner") else getattr(problem, name))

    def create_data(self) -> tuple[dict[str, Any], list[Incident]]:
        """What problems.services.problem_create takes: the data and the incidents."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "incidents" and v not in (None, "")}
        return data, list(self.cleaned_data.get("incidents") or [])

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class SectionForm(StyledForm):
    """A section of the problem page edited in place: its fields filled from the problem."""

    def __init__(self, *args: Any, problem: Problem, **kwargs: Any) -> None:
        self.problem = problem
        super().__init__(*args, **kwargs)
        for name in self.fields:
            if hasattr(problem, name):
                self.initial.setdefault(name, getattr(problem, name))

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class InvestigationForm(SectionForm):
    """問題調查: how often, how far, how bad, and what was gathered (files go to the timeline)."""

    frequency = forms.CharField(label=_("Frequency"), required=False, widget=textarea(2),
                                help_text=_("How often it happens, and when."))
    scope = forms.CharField(label=_("Scope"), required=False, widget=textarea(2),
                            help_text=_("Which services, configuration items, departments and users."))
    impact = forms.CharField(label=_("Impact"), required=False, widget=textarea(2),
                             help_text=_("What it costs the business each time."))
    data_collected = forms.CharField(label=_("Data collected"), required=False, widget=textarea(3),
                                     help_text=_("Logs, metrics and user feedback gathered; attach files below."))


class AnalysisForm(SectionForm):
    """問題分析: the root cause in a sentence, the fishbone's causes per category (one a line) and the 5-whys chain
    (a question and its answer per step)."""

    root_cause = forms.CharField(label=_("Root cause"), required=False, widget=textarea(2),
                                 help_text=_("The cause that, removed, keeps the incidents from coming back."))

    def __init__(self, *args: Any, problem: Problem, **kwargs: Any) -> None:
        super().__init__(*args, problem=problem, **kwargs)
        fishbone = problem.fishbone or {}
        for value, label in FishboneCategory.choices:
            name = f"fishbone_{value}"
            self.fields[name] = forms.CharField(label=label, required=False, widget=textarea(2))
            self.initial.setdefault(name, "\n".join(fishbone.get(value, [])))
        whys = list(problem.five_whys or [])
        # The steps written, and room for the next ones: five at first, one more than written after.
        self.why_rows = min(MAX_WHYS, max(5, len(whys) + 1))
        for n in range(1, self.why_rows + 1):
            step = whys[n - 1] if n <= len(whys) else {}
            self.fields[f"why_{n}"] = forms.CharField(label=_("Why? (%(n)d)") % {"n": n}, required=False,
                                                      max_length=500)
            self.fields[f"because_{n}"] = forms.CharField(label=_("Because (%(n)d)") % {"n": n}, required=False,
                                                          max_length=500)
            self.initial.setdefault(f"why_{n}", step.get("why", ""))
            self.initial.setdefault(f"because_{n}", step.get("because", ""))
        for name in self.fields:  # the fields added here get Tabler's class too
            self.fields[name].widget.attrs.setdefault("class", "form-control")

    @property
    def fishbone_fields(self) -> list[forms.BoundField]:
        return [self[f"fishbone_{value}"] for value in FishboneCategory.values]

    @property
    def why_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"why_{n}"], self[f"because_{n}"]) for n in range(1, self.why_rows + 1)]

    def changed_values(self) -> dict[str, Any]:
        """What problems.services.problem_update takes: the root cause, and the fishbone and the chain whole
        when any of their fields was changed."""
        changed = set(self.changed_data)
        values: dict[str, Any] = {}
        if "root_cause" in changed:
            values["root_cause"] = self.cleaned_data["root_cause"]
        if any(name.startswith("fishbone_") for name in changed):
            values["fishbone"] = {value: lines(self.cleaned_data[f"fishbone_{value}"])
                                  for value in FishboneCategory.values}
        if any(name.startswith(("why_", "because_")) for name in changed):
            values["five_whys"] = [{"why": self.cleaned_data[f"why_{n}"], "because": self.cleaned_data[f"because_{n}"]}
                                   for n in range(1, self.why_rows + 1)]
        return values


class ReportForm(SectionForm):
    """問題解決報告: cause, solution, result and lessons, for the problem manager's approval."""

    report_cause = forms.CharField(label=_("Cause"), required=False, widget=textarea(2))
    report_solution = forms.CharField(label=_("Solution"), required=False, widget=textarea(2))
    report_result = forms.CharField(label=_("Result"), required=False, widget=textarea(2))
    report_lessons = forms.CharField(label=_("Lessons learned"), required=False, widget=textarea(2))

    def __init__(self, *args: Any, problem: Problem, **kwargs: Any) -> None:
        super().__init__(*args, problem=problem, **kwargs)
        # A first report starts from the analysis and the plan: the author corrects rather than copies.
        if not problem.report_cause:
            self.initial["report_cause"] = problem.root_cause
        if not problem.report_solution:
            self.initial["report_solution"] = "\n".join(
                f"- {a.measure}" for a in problem.actions.all() if a.state == "done")


# --- Linked incidents and the solution plan -------------------------------------------------------------


class LinkIncidentsForm(StyledForm):
    incidents = forms.ModelMultipleChoiceField(
        label=_("Link incidents"), queryset=Incident.objects.none(),
        widget=SearchSelectMultiple(reverse_lazy("problems:incident-search")),
        help_text=_("Type a number or words of the title to find an incident."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incidents"].queryset = Incident.objects.visible_to(user)


class ActionForm(StyledForm):
    """An action of the solution plan (措施): what, how, who and by when."""

    measure = forms.CharField(label=_("Measure"), max_length=200)
    steps = forms.CharField(label=_("Steps"), required=False, widget=textarea(2))
    owner = EngineerChoiceField(label=_("Owner"), queryset=User.objects.none())
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())

    def __init__(self, *args: Any, action: Any = None, owners: list[tuple[Any, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = problem_workers()
        if owners is not None:  # the page's one list, drawn by each action's form (validation still asks the query)
            self.fields["owner"].widget.choices = owners
        if action is not None:
            for name in self.fields:
                self.initial.setdefault(name, getattr(action, f"{name}_id" if name == "owner" else name))

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}

    @classmethod
    def owner_choices(cls) -> list[tuple[Any, str]]:
        """The owners the forms offer, read once for a page of them."""
        field = cls.base_fields["owner"]
        return [("", field.empty_label), *((user.pk, field.label_from_instance(user)) for user in problem_workers())]


# --- One form per transition -------------------------------------------------------------------------------


class InvestigateForm(TransitionForm):
    data_fields = ("owner",)
    submit_label = _("Start the investigation")
    owner = EngineerChoiceField(label=_("Owner"), required=False, queryset=User.objects.none(),
                                help_text=_("Who investigates and solves the problem from now on."))
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = problem_workers()
        self.initial.setdefault("owner", self.obj.owner_id)


class AnalyzeForm(ConfirmForm):
    submit_label = _("Start the analysis")
    confirm = forms.BooleanField(label=_("Frequency, scope and impact are investigated"), required=True)


class SolveForm(ConfirmForm):
    submit_label = _("Start solving")
    confirm = forms.BooleanField(label=_("The root cause is found and the actions are planned"), required=True)


class VerifyForm(ConfirmForm):
    submit_label = _("Start the observation window")
    confirm = forms.BooleanField(label=_("Every action is done"), required=True)


class SubmitReportForm(ConfirmForm):
    submit_label = _("Submit the report")
    confirm = forms.BooleanField(label=_("The report is complete; hand it to the problem manager"), required=True)


class ApproveReportForm(TransitionForm):
    submit_label = _("Approve and close")
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=textarea(2))


class ReturnReportForm(ReasonForm):
    submit_label = _("Return the report")
    comment = forms.CharField(label=_("What the report lacks"), widget=textarea(3))


class ReopenForm(ReasonForm):
    submit_label = _("Back to solving")
    comment = forms.CharField(label=_("What recurred or what is missing"), widget=textarea(3))


class CancelForm(ReasonForm):
    submit_label = _("Cancel the problem")
    comment = forms.CharField(label=_("Reason for cancelling"), widget=textarea(3))


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "investigate": InvestigateForm,
    "analyze": AnalyzeForm,
    "solve": SolveForm,
    "verify": VerifyForm,
    "reopen": ReopenForm,
    "submit_report": SubmitReportForm,
    "approve_report": ApproveReportForm,
    "return_report": ReturnReportForm,
    "cancel": CancelForm,
}
# The next step of the process: its form is shown open; the others stay folded.
FORWARD_TRANSITIONS = ("investigate", "analyze", "solve", "verify", "submit_report", "approve_report")
DANGER_TRANSITIONS = ("cancel", "return_report", "reopen")
