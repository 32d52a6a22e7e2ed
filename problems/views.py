"""Problem pages: the queue, identify a problem (from an incident's page too), edit it, and the problem page with
its investigation, root-cause analysis (fishbone and 5 whys), solution plan, linked incidents and changes,
verification, report, transition forms and timeline.

Views are thin: a selector, a form, one service call; refusals from the services (OpsCenterError) are shown on
the page with their HTTP status and change nothing.
"""

from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from incidents.models import Incident
from incidents.selectors import incident_search as find_incidents
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.extensions import detail_sections
from opscenter.core.forms import apply_service_errors
from opscenter.core.roles import has_role
from opscenter.core.ticket_views import (
    TicketAttachmentView,
    TicketCommentView,
    TicketDetailView,
    TicketEditView,
    TicketListView,
    TicketPostView,
    TicketTransitionView,
)
from opscenter.core.workflow import available_transitions
from problems import selectors, services
from problems.analysis import fishbone_rows, worded
from problems.choices import ActionState, State
from problems.forms import (
    DANGER_TRANSITIONS,
    FORWARD_TRANSITIONS,
    TRANSITION_FORMS,
    ActionForm,
    AnalysisForm,
    InvestigationForm,
    LinkIncidentsForm,
    ProblemFilterForm,
    ProblemForm,
    ReportForm,
)
from problems.models import READERS, ActionItem, Problem
from problems.services import ANALYSIS, EDITABLE, INVESTIGATION, REPORT

QUEUES = {
    "mine": gettext_lazy("My problems"),
    "open": gettext_lazy("Open"),
    "overdue": gettext_lazy("Overdue actions"),
    "all": gettext_lazy("All"),
}


def _check_reader(user: Any) -> None:
    if not has_role(user, *READERS):
        raise PermissionDenied(_("Problems are read by the IT center."))


class ProblemListView(TicketListView):
    """The queue: tabs, filters, sort and pagination; a constant number of queries whatever the rows."""

    template_name = "problems/problem_list.html"
    queues = QUEUES
    filter_form = ProblemFilterForm

    def get(self, request: HttpRequest) -> HttpResponse:
        _check_reader(request.user)
        return super().get(request)

    def default_queue(self, user: Any) -> str:
        """Engineers work the problems they own; problem managers, supervisors and auditors watch what is open."""
        if has_role(user, roles.PROBLEM_MANAGER, roles.SUPERVISOR, roles.AUDITOR):
            return "open"
        return "mine"

    def rows(self, form: ProblemFilterForm, user: Any, queue: str) -> Any:
        return form.order(form.filter(selectors.problem_queue(user=user, queue=queue)))

    def page_loaded(self, page: Any, form: Any) -> None:
        """Each row's actions counted from the prefetched ones: unfinished, overdue, done."""
        today = timezone.localdate()
        for problem in page:
            unfinished = [a for a in problem.actions.all() if a.state in (ActionState.OPEN, ActionState.IN_PROGRESS)]
            problem.open_actions = len(unfinished)
            problem.overdue_actions = sum(1 for a in unfinished if a.due_date and a.due_date < today)
            problem.done_actions = sum(1 for a in problem.actions.all() if a.state == ActionState.DONE)

    def extra_context(self, user: Any) -> dict[str, Any]:
        return {"may_identify": services.may_work(user)}


problem_list = ProblemListView.as_view()


# --- Identify and edit ---------------------------------------------------------------------------------------


def _incident_from(request: HttpRequest) -> Incident | None:
    """The incident a problem is identified from (`?incident=<id>`): one the user may see (404 otherwise)."""
    value = request.GET.get("incident", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Http404
    try:
        return Incident.objects.visible_to(request.user).select_related("service", "configuration_item",
                                                                         "category", "team").get(pk=int(value))
    except Incident.DoesNotExist:
        raise Http404 from None


def _from_incident(incident: Incident | None) -> dict[str, Any] | None:
    """A problem identified from an incident: its title, phenomenon, service, CI, category and team, and the link."""
    if incident is None:
        return None
    return {"title": incident.title[:200], "description": incident.description, "incidents": [incident.pk],
            "service": incident.service_id, "configuration_item": incident.configuration_item_id,
            "category": incident.category_id, "team": incident.team_id}


@login_required
@require_http_methods(["GET", "POST"])
def problem_create(request: HttpRequest) -> HttpResponse:
    """Identify a problem (問題識別): from incidents (`?incident=<id>` starts from one), a monitoring alarm or user
    feedback; problem managers, engineers and supervisors."""
    user = request.user
    if not services.may_work(user):
        raise PermissionDenied(_("Only problem managers, engineers and supervisors identify problems."))
    incident = _incident_from(request)
    form = ProblemForm(request.POST or None, user=user, initial=_from_incident(incident))
    if request.method == "POST" and form.is_valid():
        data, incidents = form.create_data()
        try:
            problem = services.problem_create(user=user, data=data, incidents=incidents)
        except InvalidInput as exc:
            apply_service_errors(form, exc.detail)
        except OpsCenterError as exc:
            messages.error(request, detail_text(exc.detail))
        else:
            messages.success(request, _("%(number)s was identified.") % {"number": problem.number})
            return redirect("problems:problem-detail", pk=problem.pk)
    return render(request, "problems/problem_form.html", {"form": form, "mode": "new", "incident": incident},
                  status=400 if form.is_bound else 200)


class ProblemEditView(TicketEditView):
    """Edit what was identified (title, description, service, CI, category, team, owner) while the state allows."""

    template_name = "problems/problem_form.html"
    detail_route = "problems:problem-detail"
    object_name = "problem"
    refusal = gettext_lazy("You may not edit this problem now.")
    saved_text = gettext_lazy("The problem was saved.")

    def get_object(self, user: Any, pk: int) -> Problem:
        return selectors.problem_get(user=user, pk=pk)

    @staticmethod
    def editable(problem: Problem) -> frozenset[str]:
        return EDITABLE.get(problem.state, frozenset()) - INVESTIGATION - ANALYSIS - REPORT

    def may_edit(self, obj: Problem, user: Any) -> bool:
        return services.may_edit(obj, user) and bool(self.editable(obj))

    def get_form(self, request: HttpRequest, obj: Problem) -> ProblemForm:
        return ProblemForm(request.POST or None, user=request.user, problem=obj, editable=self.editable(obj))

    def save(self, obj: Problem, user: Any, form: ProblemForm) -> Problem:
        return services.problem_update(obj, user=user, changes=form.changed_values())


problem_edit = ProblemEditView.as_view()


@login_required
@require_GET
def incident_search(request: HttpRequest) -> JsonResponse:
    """The incidents a problem may be linked to, found by number or title (the forms' search box)."""
    _check_reader(request.user)
    found = find_incidents(user=request.user, text=request.GET.get("q", ""))
    return JsonResponse({"results": [{"id": i["pk"], "text": f"{i['number']} {i['title']}"} for i in found]})


# --- The problem page --------------------------------------------------------------------------------------

MAIN_PATH = [State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING, State.VERIFYING,
             State.UNDER_REVIEW, State.CLOSED]
# The sections edited in place, by the form's key: the form and the fields it writes.
SECTIONS: dict[str, tuple[type, frozenset[str]]] = {
    "investigation": (InvestigationForm, INVESTIGATION),
    "analysis": (AnalysisForm, ANALYSIS),
    "report": (ReportForm, REPORT),
}
TIMELINE_FIELDS = {"actions": gettext_lazy("Action items"), "incidents": gettext_lazy("Linked incidents"),
                   "changes": gettext_lazy("Changes")}


def _progress(problem: Problem) -> list[dict[str, Any]]:
    if problem.state not in MAIN_PATH:
        return []
    return [{"label": state.label, "active": state == problem.state} for state in MAIN_PATH]


def _shown(problem: Problem, actions: list[Any], changes: list[Any]) -> dict[str, bool]:
    """The sections the page shows: those the process has reached, and any that holds something (a cancelled
    problem shows what it had)."""
    reached = MAIN_PATH.index(problem.state) if problem.state in MAIN_PATH else -1
    return {
        "investigation": reached >= 1 or any(getattr(problem, f) for f in INVESTIGATION),
        "analysis": reached >= 2 or bool(problem.root_cause or problem.fishbone or problem.five_whys),
        "plan": reached >= 2 or bool(actions or changes),
        "report": reached >= 4 or any(getattr(problem, f) for f in REPORT),
    }


def _observation(problem: Problem) -> dict[str, Any] | None:
    """The observation window: when it started and ends, and the whole days left."""
    if not problem.observation_ends_at:
        return None
    left = problem.observation_ends_at - timezone.now()
    return {"started": problem.observation_started_at, "ends": problem.observation_ends_at,
            "over": left.total_seconds() <= 0, "days_left": max(0, left.days + (1 if left.seconds else 0))}


class ProblemDetailView(TicketDetailView):
    """The problem page: what was identified, the incidents linked, the investigation, the root cause (a fishbone and
    a 5-whys chain), the solution plan and its changes, the observation window, the report, and the transitions the
    user may take."""

    model = Problem
    template_name = "problems/problem_detail.html"
    transition_forms = TRANSITION_FORMS
    forward_transitions = FORWARD_TRANSITIONS
    danger_transitions = DANGER_TRANSITIONS
    created_transition = "identify"
    created_label = gettext_lazy("Identified")

    def get_object(self, user: Any, pk: int) -> Problem:
        return selectors.problem_get(user=user, pk=pk)

    def perform(self, obj: Problem, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Problem:
        return services.problem_transition(obj, name, user=user, comment=comment, data=data)

    def field_label(self, name: str) -> str:
        return str(TIMELINE_FIELDS[name]) if name in TIMELINE_FIELDS else super().field_label(name)

    def change_values(self, record: Any) -> tuple[str, str]:
        """The analysis's and the actions' records, kept as data, in the reader's words."""
        if record.field in ("fishbone", "five_whys", "actions"):
            return worded(record.field, record.old_value), worded(record.field, record.new_value)
        return super().change_values(record)

    def section_forms(self, obj: Problem, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        """The forms of the sections the user may edit in the problem's state (None for the others)."""
        editable = EDITABLE.get(obj.state, frozenset()) if services.may_edit(obj, user) else frozenset()
        return {f"{key}_form": (bound.get(key) or form_class(problem=obj, prefix=key)) if fields <= editable
                else None for key, (form_class, fields) in SECTIONS.items()}

    def action_rows(self, obj: Problem, user: Any, bound: dict[str, Any],
                    owners: list[tuple[Any, str]] | None) -> list[dict[str, Any]]:
        """Each action with what the user may do with it: its transitions, and its edit form (given `owners`, the
        choices of the page's action forms, when the user plans the actions)."""
        plan = owners is not None
        today = timezone.localdate()
        rows = []
        for action in selectors.problem_actions(obj):
            unfinished = action.state in (ActionState.OPEN, ActionState.IN_PROGRESS)
            key = f"action-{action.pk}"
            rows.append({
                "action": action,
                "overdue": unfinished and action.due_date is not None and action.due_date < today,
                "moves": [t for t in available_transitions(action, user) if t.allowed] if unfinished else [],
                "edit_form": (bound.get(key) or ActionForm(action=action, prefix=key, owners=owners))
                if plan and unfinished else None,
            })
        return rows

    def detail_context(self, obj: Problem, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        work = services.may_work(user) and not obj.is_read_only
        plan = services.may_plan(obj, user)
        changes = selectors.problem_changes(user=user, problem=obj)
        owners = ActionForm.owner_choices() if plan else None
        action_rows = self.action_rows(obj, user, bound, owners)
        return {
            "incidents": selectors.problem_incidents(user=user, problem=obj),
            "changes": changes,
            "action_rows": action_rows,
            "show": _shown(obj, action_rows, changes),
            "action_form": (bound.get("action") or ActionForm(prefix="action", owners=owners)) if plan else None,
            "link_form": (bound.get("link") or LinkIncidentsForm(user=user, prefix="link")) if work else None,
            "may_unlink": work,
            "may_edit": services.may_edit(obj, user) and bool(
                EDITABLE.get(obj.state, frozenset()) - INVESTIGATION - ANALYSIS - REPORT),
            "may_raise_change": obj.state in services.CHANGE_STATES and plan,
            "fishbone": fishbone_rows(obj.fishbone),
            "five_whys": list(obj.five_whys or []),
            "progress": _progress(obj),
            "observation": _observation(obj),
            "sections": detail_sections(obj, user),  # what else is recorded from the problem (its known errors)
            **self.section_forms(obj, user, bound),
        }


class ProblemTransitionView(ProblemDetailView, TicketTransitionView):
    """Perform one transition from its form, through problems.services.problem_transition."""


class ProblemCommentView(ProblemDetailView, TicketCommentView):
    """Add a comment to the problem's timeline."""


class ProblemAttachmentView(ProblemDetailView, TicketAttachmentView):
    """Attach a file (logs, metrics, screenshots) to the problem."""


class ProblemPostView(ProblemDetailView, TicketPostView):
    """A post of the problem page besides the transitions (the kernel's TicketPostView on the problem page)."""


class ProblemSectionView(ProblemPostView):
    """Save a section edited in place: the investigation, the analysis, the report."""

    def form(self, request: HttpRequest, problem: Problem, section: str = "") -> tuple[str, Any]:
        if section not in SECTIONS:
            raise Http404
        self.anchor = f"#{section}"
        return section, SECTIONS[section][0](request.POST, problem=problem, prefix=section)

    def check(self, problem: Problem, user: Any) -> None:
        services.check_may_edit(problem, user)

    def act(self, request: HttpRequest, problem: Problem, form: Any, section: str = "") -> str:
        services.problem_update(problem, user=request.user, changes=form.changed_values())
        return _("Saved.")


class ProblemLinkView(ProblemPostView):
    """Link incidents the user may see."""

    anchor = "#incidents"

    def form(self, request: HttpRequest, problem: Problem) -> tuple[str, Any]:
        return "link", LinkIncidentsForm(request.POST, user=request.user, prefix="link")

    def check(self, problem: Problem, user: Any) -> None:
        services.check_may_link(problem, user)

    def act(self, request: HttpRequest, problem: Problem, form: Any) -> str:
        added = services.problem_link_incidents(problem, user=request.user,
                                                incidents=list(form.cleaned_data["incidents"]))
        if not added:
            return _("Those incidents were linked already.")
        return _("Linked: %(numbers)s.") % {"numbers": ", ".join(i.number for i in added)}


class ProblemUnlinkView(ProblemPostView):
    """Unlink an incident."""

    anchor = "#incidents"

    def act(self, request: HttpRequest, problem: Problem, form: Any, incident: int = 0) -> str:
        services.problem_unlink_incident(problem, user=request.user, incident=incident)
        return _("The incident was unlinked.")


class ActionAddView(ProblemPostView):
    """Add an action to the solution plan."""

    anchor = "#plan"

    def form(self, request: HttpRequest, problem: Problem) -> tuple[str, Any]:
        return "action", ActionForm(request.POST, prefix="action")

    def check(self, problem: Problem, user: Any) -> None:
        services.check_may_plan(problem, user)

    def act(self, request: HttpRequest, problem: Problem, form: Any) -> str:
        services.action_add(problem, user=request.user, data=form.cleaned_data)
        return _("The action was added to the plan.")


def _action_of(problem: Problem, pk: int) -> ActionItem:
    try:
        return problem.actions.select_related("owner").get(pk=pk)
    except ActionItem.DoesNotExist:
        raise Http404 from None


class ActionEditView(ProblemPostView):
    """Edit an unfinished action."""

    anchor = "#plan"

    def form(self, request: HttpRequest, problem: Problem, action: int = 0) -> tuple[str, Any]:
        item = _action_of(problem, action)
        return f"action-{item.pk}", ActionForm(request.POST, action=item, prefix=f"action-{item.pk}")

    def check(self, problem: Problem, user: Any) -> None:
        services.check_may_plan(problem, user)

    def act(self, request: HttpRequest, problem: Problem, form: Any, action: int = 0) -> str:
        services.action_update(_action_of(problem, action), user=request.user, changes=form.changed_values())
        return _("The action was saved.")


class ActionMoveView(ProblemPostView):
    """Start, complete or drop an action (its note: what it achieved, or why it is dropped)."""

    anchor = "#plan"

    def act(self, request: HttpRequest, problem: Problem, form: Any, action: int = 0, name: str = "") -> str:
        item = _action_of(problem, action)
        note = (request.POST.get("note") or "").strip()[:4000]
        data, comment = ({"result": note}, "") if name == "complete" else ({}, note)
        moved = services.action_transition(item, name, user=request.user, comment=comment, data=data)
        return _("%(measure)s: %(state)s.") % {"measure": moved.measure, "state": moved.get_state_display()}


class RaiseChangeView(ProblemDetailView):
    """Raise a change from the problem: a draft filled from it, linked both ways, opened for editing."""

    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        problem = self.object_or_404(request.user, pk)
        try:
            change = services.problem_raise_change(problem, user=request.user)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        messages.success(request, _("%(number)s was raised from this problem as a draft: complete it and submit it.")
                         % {"number": change.number})
        return redirect("changes:change-edit", pk=change.pk)


problem_detail = ProblemDetailView.as_view()
problem_transition = ProblemTransitionView.as_view()
problem_comment = ProblemCommentView.as_view()
problem_attachment = ProblemAttachmentView.as_view()
problem_section = ProblemSectionView.as_view()
problem_link = ProblemLinkView.as_view()
problem_unlink = ProblemUnlinkView.as_view()
action_add = ActionAddView.as_view()
action_edit = ActionEditView.as_view()
action_move = ActionMoveView.as_view()
raise_change = RaiseChangeView.as_view()
