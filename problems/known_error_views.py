"""Known-error pages: the searchable list for IT staff, recording one (from a problem's page, filled from it, or on
its own), editing it, its page with publish and retire and the timeline; the suggestions the incident report form
asks for as one types (JSON), and what the incident and problem pages show of known errors (through the kernel's
extension points). Views are thin: a selector, a form, one call of problems.known_errors."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from incidents.models import Category
from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.forms import (
    QueueFilterForm,
    ReasonForm,
    StyledForm,
    TransitionForm,
    apply_service_errors,
    choice_order,
    textarea,
)
from opscenter.core.models import ConfigurationItem, Service
from opscenter.core.roles import has_role
from opscenter.core.ticket_views import (
    TicketAttachmentView,
    TicketCommentView,
    TicketDetailView,
    TicketListView,
    TicketTransitionView,
)
from problems import known_errors
from problems.choices import KNOWN_ERROR_STATES, KnownErrorState
from problems.models import READERS, KnownError, Problem
from problems.services import may_work

# --- forms -------------------------------------------------------------------------------------------------

SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "state": (choice_order("state", KnownErrorState.values).asc(), "-created_at", "-pk"),
}


class KnownErrorFilterForm(QueueFilterForm):
    """The search and filter bar of the known-error list."""

    sorts = SORTS
    default_sort = "-created"

    q = forms.CharField(label=_("Search"), required=False, max_length=200, widget=forms.SearchInput(
        attrs={"placeholder": gettext_lazy("Number, symptom, cause or workaround")}))
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False,
                              choices=[("", gettext_lazy("Any state")), *KnownErrorState.choices])
    service = forms.ModelChoiceField(label=gettext_lazy("Service"), required=False, queryset=Service.objects.all(),
                                     empty_label=gettext_lazy("Any service"))

    def filter(self, qs: QuerySet[KnownError]) -> QuerySet[KnownError]:
        values = self.values()
        qs = known_errors.known_error_search(qs, values.get("q", ""))
        for name in ("state", "service"):
            if values.get(name):
                qs = qs.filter(**{name: values[name]})
        return qs


class KnownErrorForm(StyledForm):
    """A known error (已知錯誤): what the user sees, why, and what to do meanwhile; where it applies."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    symptom = forms.CharField(label=gettext_lazy("Symptom"), widget=textarea(3),
                              help_text=gettext_lazy("What the user sees: the words an incident would use."))
    root_cause = forms.CharField(label=gettext_lazy("Root cause"), required=False, widget=textarea(3))
    workaround = forms.CharField(label=gettext_lazy("Workaround"), required=False, widget=textarea(4),
                                 help_text=gettext_lazy("What restores the service until the root cause is removed."))
    service = forms.ModelChoiceField(label=gettext_lazy("Service"), required=False,
                                     queryset=Service.objects.filter(is_active=True).order_by("name"))
    configuration_item = forms.ModelChoiceField(label=gettext_lazy("Configuration item"), required=False,
                                                queryset=ConfigurationItem.objects.order_by("name"))
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), required=False,
                                      queryset=Category.objects.all())

    def __init__(self, *args: Any, known_error: KnownError | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if known_error is not None:
            for name in self.fields:
                self.initial.setdefault(name, getattr(known_error, f"{name}_id", None) if name in (
                    "service", "configuration_item", "category") else getattr(known_error, name))

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class PublishForm(TransitionForm):
    submit_label = gettext_lazy("Publish")
    confirm = forms.BooleanField(label=gettext_lazy("The workaround is right; note it on the open incidents"),
                                 required=True)


class RetireForm(ReasonForm):
    submit_label = gettext_lazy("Retire")
    comment = forms.CharField(label=gettext_lazy("Why it is retired"), widget=textarea(3))


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {"publish": PublishForm, "retire": RetireForm}


# --- the list ----------------------------------------------------------------------------------------------

QUEUES = {"published": gettext_lazy("Published"), "draft": gettext_lazy("Drafts"), "all": gettext_lazy("All")}


def _check_reader(user: Any) -> None:
    if not has_role(user, *READERS):
        raise PermissionDenied(_("Known errors are read by the IT center."))


class KnownErrorListView(TicketListView):
    """The known-error database: published ones, drafts, all; searched by words of the symptom, cause or
    workaround; a constant number of queries whatever the rows."""

    template_name = "problems/known_error_list.html"
    queues = QUEUES
    filter_form = KnownErrorFilterForm

    def get(self, request: HttpRequest) -> HttpResponse:
        _check_reader(request.user)
        return super().get(request)

    def rows(self, form: KnownErrorFilterForm, user: Any, queue: str) -> Any:
        qs = known_errors.known_error_list(user=user)
        if queue in (KnownErrorState.PUBLISHED, KnownErrorState.DRAFT):
            qs = qs.filter(state=queue)
        return form.order(form.filter(qs))

    def extra_context(self, user: Any) -> dict[str, Any]:
        return {"may_record": may_work(user)}


known_error_list = KnownErrorListView.as_view()


# --- record and edit -----------------------------------------------------------------------------------------


def _problem_from(request: HttpRequest) -> Problem | None:
    value = request.GET.get("problem", "")
    if not value:
        return None
    try:
        return known_errors.find_problem(user=request.user, pk=value)
    except OpsCenterError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def known_error_create(request: HttpRequest) -> HttpResponse:
    """Record a known error: from a problem (`?problem=<id>`, from its analysis onward; filled from it) or on its
    own."""
    user = request.user
    if not may_work(user):
        raise PermissionDenied(_("Only problem managers, engineers and supervisors record known errors."))
    problem = _problem_from(request)
    if problem is not None:
        try:
            known_errors.check_problem(problem)
        except OpsCenterError as exc:
            messages.error(request, detail_text(exc.detail))
            return redirect("problems:problem-detail", pk=problem.pk)
    initial = known_errors.known_error_draft(problem) if problem is not None else None
    form = KnownErrorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        if problem is not None:
            data["problem"] = problem
        try:
            known_error = known_errors.known_error_create(user=user, data=data)
        except InvalidInput as exc:
            apply_service_errors(form, exc.detail)
        except OpsCenterError as exc:
            messages.error(request, detail_text(exc.detail))
        else:
            messages.success(request, _("%(number)s was recorded as a draft.") % {"number": known_error.number})
            return redirect("problems:knownerror-detail", pk=known_error.pk)
    return render(request, "problems/known_error_form.html", {"form": form, "mode": "new", "problem": problem},
                  status=400 if form.is_bound else 200)


def _get(user: Any, pk: int) -> KnownError:
    try:
        return known_errors.known_error_get(user=user, pk=pk)
    except KnownError.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def known_error_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft or published known error."""
    user = request.user
    known_error = _get(user, pk)
    if not known_errors.may_edit(known_error, user):
        raise PermissionDenied(_("You may not edit this known error now."))
    form = KnownErrorForm(request.POST or None, known_error=known_error)
    if request.method == "POST" and form.is_valid():
        try:
            known_errors.known_error_update(known_error, user=user, changes=form.changed_values())
        except InvalidInput as exc:
            apply_service_errors(form, exc.detail)
        except OpsCenterError as exc:
            messages.error(request, detail_text(exc.detail))
            return redirect("problems:knownerror-detail", pk=known_error.pk)
        else:
            messages.success(request, _("The known error was saved."))
            return redirect("problems:knownerror-detail", pk=known_error.pk)
    return render(request, "problems/known_error_form.html",
                  {"form": form, "mode": "edit", "known_error": known_error, "problem": known_error.problem},
                  status=400 if form.is_bound else 200)


# --- the known error's page ----------------------------------------------------------------------------------

TIMELINE_FIELDS = {known_errors.NOTED_FIELD: gettext_lazy("Workaround noted on incidents")}


class KnownErrorDetailView(TicketDetailView):
    """A known error: symptom, root cause, workaround, where it applies, the problem it came from, publish and
    retire, and its timeline."""

    model = KnownError
    template_name = "problems/known_error_detail.html"
    transition_forms = TRANSITION_FORMS
    forward_transitions = ("publish",)
    danger_transitions = ("retire",)
    created_transition = "record"
    created_label = gettext_lazy("Recorded")

    def get_object(self, user: Any, pk: int) -> KnownError:
        return known_errors.known_error_get(user=user, pk=pk)

    def perform(self, obj: KnownError, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> KnownError:
        return known_errors.known_error_transition(obj, name, user=user, comment=comment, data=data)

    def field_label(self, name: str) -> str:
        return str(TIMELINE_FIELDS[name]) if name in TIMELINE_FIELDS else super().field_label(name)

    def detail_context(self, obj: KnownError, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        return {"may_edit": known_errors.may_edit(obj, user)}


class KnownErrorTransitionView(KnownErrorDetailView, TicketTransitionView):
    """Publish or retire from its form."""


class KnownErrorCommentView(KnownErrorDetailView, TicketCommentView):
    """Add a comment to the known error's timeline."""


class KnownErrorAttachmentView(KnownErrorDetailView, TicketAttachmentView):
    """Attach a file (a vendor's bulletin, a screenshot) to the known error."""


known_error_detail = KnownErrorDetailView.as_view()
known_error_attachment = KnownErrorAttachmentView.as_view()
known_error_transition = KnownErrorTransitionView.as_view()
known_error_comment = KnownErrorCommentView.as_view()


# --- suggestions for the incident report form ---------------------------------------------------------------


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None


@login_required
@require_GET
def known_error_suggest(request: HttpRequest) -> JsonResponse:
    """The published known errors for an incident being typed (`text`, `service`, `configuration_item`), as JSON
    for the report form's panel; 403 for those who do not read known errors."""
    _check_reader(request.user)
    text = (request.GET.get("text") or "")[:2000]
    found = known_errors.known_error_suggestions(user=request.user, text=text,
                                                 service=_id(request.GET.get("service", "")),
                                                 configuration_item=_id(request.GET.get("configuration_item", "")))
    return JsonResponse({"results": [
        {"id": k.pk, "number": k.number, "title": k.title, "workaround": k.workaround,
         "service": str(k.service) if k.service_id else "",
         "url": reverse("problems:knownerror-detail", args=[k.pk])} for k in found]})


# --- what other pages show of known errors (registered in problems.apps) -----------------------------------


def incident_known_errors_section(incident: Any, user: Any) -> dict[str, Any] | None:
    """Published known errors that may explain the incident (its problems' own first); nothing for those who do not
    read known errors, nor when there is none."""
    if not has_role(user, *READERS):
        return None
    found = known_errors.incident_suggestions(user=user, incident=incident)
    return {"known_errors": found} if found else None


def incident_report_suggestions(user: Any) -> dict[str, Any] | None:
    """The panel of the incident report form that suggests published known errors as one types."""
    if not has_role(user, *READERS):
        return None
    return {"suggest_url": reverse("problems:knownerror-suggest")}


def problem_known_errors_section(problem: Problem, user: Any) -> dict[str, Any] | None:
    """The problem's known errors, and where to record one (from its analysis onward, for those who work
    problems)."""
    rows = known_errors.problem_known_errors(user=user, problem=problem)
    record = (may_work(user) and problem.state in KNOWN_ERROR_STATES)
    if not rows and not record:
        return None
    return {"known_errors": rows,
            "record_url": f"{reverse('problems:knownerror-create')}?problem={problem.pk}" if record else ""}
