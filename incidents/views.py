"""Incident pages: the queue, the detail page with its transition forms, report-a-fault and the summary.

Views are thin: a selector, a form, one service call; refusals from the services (OpsCenterError) are
shown on the page with their HTTP status, never as an error page.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from incidents import selectors
from incidents import services as incident_services
from incidents.choices import OPEN_STATES, Channel, Level, Priority, State
from incidents.filters import NONE
from incidents.forms import (
    FORWARD_TRANSITIONS,
    TRANSITION_FORMS,
    IncidentFilterForm,
    IncidentReportForm,
    ReviewForm,
    SummaryPeriodForm,
    may_report_for_others,
    preset_periods,
)
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.exceptions import (
    InvalidInput,
    ReadOnlyRecord,
    TransitionForbidden,
)
from opscenter.core.extensions import detail_sections, form_sections
from opscenter.core.formatting import humanise_duration
from opscenter.core.forms import apply_service_errors
from opscenter.core.models import User
from opscenter.core.roles import has_role, user_team_ids
from opscenter.core.selectors import configuration_items_visible_to
from opscenter.core.services import is_read_only_user
from opscenter.core.spreadsheets import csv_response
from opscenter.core.ticket_views import (
    TicketAttachmentView,
    TicketCommentView,
    TicketDetailView,
    TicketListView,
    TicketPostView,
    TicketTransitionView,
)
from opscenter.core.workflow import get_transition

QUEUES = {
    "mine": gettext_lazy("My incidents"),
    "team": gettext_lazy("My team's"),
    "unassigned": gettext_lazy("Unassigned"),
    "open": gettext_lazy("Open"),
    "all": gettext_lazy("All"),
}


class IncidentListView(TicketListView):
    """The queue: tabs, filters, sort and pagination; a constant number of queries whatever the rows."""

    template_name = "incidents/incident_list.html"
    queues = QUEUES
    filter_form = IncidentFilterForm

    def queues_for(self, user: Any) -> list[str]:
        """The queue tabs a user has: IT staff work queues; a department follows its own incidents."""
        if not has_role(user, *roles.IT_STAFF, roles.AUDITOR):
            return ["open", "all"]
        names = ["mine", "team", "unassigned", "open", "all"]
        if not user_team_ids(user):
            names.remove("team")
        return names

    def default_queue(self, user: Any) -> str:
        """The duty officer dispatches, engineers work their own, the supervisor watches what is open."""
        if has_role(user, roles.SUPERVISOR):
            return "open"
        if has_role(user, roles.DUTY_OFFICER):
            return "unassigned"
        if has_role(user, *roles.ENGINEERS):
            return "mine"
        if not has_role(user, *roles.IT_STAFF, roles.AUDITOR):
            return "all"
        return "open"

    def rows(self, form: IncidentFilterForm, user: Any, queue: str) -> Any:
        return selectors.queue_rows(form.order(form.filter(selectors.incident_queue(user=user, queue=queue))))

    def get_filter_form(self, request: HttpRequest) -> IncidentFilterForm:
        self.form = IncidentFilterForm(request.GET if request.GET else None, user=request.user)
        return self.form

    def extra_context(self, user: Any) -> dict[str, Any]:
        return {"may_report": not is_read_only_user(user), "narrowed": self.form.narrowed()}


# --- The detail page ---------------------------------------------------------------------------------------


def _open_children(children: list[Incident], user: Any) -> int:
    """Children that resolving the parent would resolve with it (as incident_transition does), offered only
    when this user may resolve every one of them (otherwise the whole resolution would be refused)."""
    open_children = [c for c in children if c.state in OPEN_STATES and c.state != State.ON_HOLD]
    for child in open_children:
        transition = get_transition(child, "resolve_with_parent")
        if transition is None or not transition.has_perm(child, user):
            return 0
    return len(open_children)


MAIN_PATH = [State.REPORTED, State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING,
             State.RECOVERING, State.RESOLVED, State.UNDER_REVIEW, State.CLOSED]


def _steps(incident: Incident) -> list[dict[str, Any]]:
    """The main path of the process with the step the incident is at (an on-hold one where it left)."""
    current = incident.held_from if incident.state == State.ON_HOLD else incident.state
    if current not in MAIN_PATH:
        return []
    return [{"label": state.label, "active": state == current} for state in MAIN_PATH]


class IncidentDetailView(TicketDetailView):
    """The incident page: what was reported and done, its relations and review meetings, the SLA clocks other
    apps add, and the transitions the user may take."""

    model = Incident
    template_name = "incidents/incident_detail.html"
    transition_forms = TRANSITION_FORMS
    forward_transitions = FORWARD_TRANSITIONS
    danger_transitions = ("cancel", "declare_major")
    created_transition = "report"
    created_label = gettext_lazy("Reported")

    def get_object(self, user: Any, pk: int) -> Incident:
        return selectors.incident_get(user=user, pk=pk)

    def perform(self, obj: Incident, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Incident:
        return incident_services.incident_transition(obj, name, user=user, comment=comment, data=data)

    def timeline_note(self, record: Any) -> str:
        data = record.data or {}
        if record.transition == "reclassify":
            levels = dict(Level.choices)
            return _("impact %(impact)s, urgency %(urgency)s") % {
                "impact": levels.get(data.get("impact"), "?"), "urgency": levels.get(data.get("urgency"), "?")}
        if record.transition != "report":
            return ""
        channel = data.get("channel", "")
        return str(dict(Channel.choices).get(channel, channel))

    def form_context(self, obj: Incident, user: Any, context: dict[str, Any] | None) -> dict[str, Any]:
        children = (context or {}).get("children")
        if children is None:
            children = selectors.incident_relations(user=user, incident=obj)["children"]
        return {"open_children": _open_children(children, user)}

    def detail_context(self, obj: Incident, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        selectors.complete_detail(obj)
        relations = selectors.incident_relations(user=user, incident=obj)
        review_allowed = obj.is_major and has_role(user, roles.SUPERVISOR) and not obj.is_read_only
        reviews = list(obj.reviews.select_related("recorded_by")) if obj.is_major else []
        return {
            "children": relations["children"],
            "duplicates": relations["duplicates"],
            "reviews": reviews,
            "review_form": (bound.get("review") or ReviewForm(prefix="review")) if review_allowed else None,
            "review_open": "review" in bound or not reviews,
            "steps": _steps(obj),
            "sections": detail_sections(obj, user),  # what other apps show here (SLA clocks)
        }


class IncidentTransitionView(IncidentDetailView, TicketTransitionView):
    """Perform one transition from its form, through incidents.services.incident_transition."""


class IncidentCommentView(IncidentDetailView, TicketCommentView):
    """Add a comment to the incident's timeline."""


class IncidentAttachmentView(IncidentDetailView, TicketAttachmentView):
    """Attach a file to the incident."""


class IncidentReviewView(IncidentDetailView, TicketPostView):
    """Record the review meeting of a major incident (a supervisor, before the report is approved)."""

    def form(self, request: HttpRequest, obj: Incident, **kwargs: Any) -> tuple[str, Any]:
        return "review", ReviewForm(request.POST, prefix="review")

    def check(self, obj: Incident, user: Any) -> None:
        """Refusals (not a supervisor, a closed incident, not a major one) come before complaints about fields."""
        if not has_role(user, roles.SUPERVISOR):
            raise TransitionForbidden(_("Only a supervisor records the review meeting."))
        if obj.is_read_only:
            raise ReadOnlyRecord()
        if not obj.is_major:
            raise InvalidInput(_("Only a major incident has a review meeting."))

    def act(self, request: HttpRequest, obj: Incident, form: Any, **kwargs: Any) -> str:
        incident_services.incident_record_review(obj, user=request.user, data=form.cleaned_data)
        return _("The review meeting was recorded.")


incident_list = IncidentListView.as_view()
incident_detail = IncidentDetailView.as_view()
incident_transition = IncidentTransitionView.as_view()
incident_comment = IncidentCommentView.as_view()
incident_attachment = IncidentAttachmentView.as_view()
incident_review = IncidentReviewView.as_view()


# --- Report a fault ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def incident_report(request: HttpRequest) -> HttpResponse:
    """Record a fault: for a caller (duty officer, engineers, supervisor) or for oneself (departments); an auditor
    only reads (403)."""
    user = request.user
    if is_read_only_user(user):
        raise PermissionDenied(_("Auditors have read-only access."))
    if request.method == "POST":
        form = IncidentReportForm(request.POST, user=user)
        if form.is_valid():
            try:
                incident = incident_services.incident_report(recorder=user, data=form.report_data())
            except InvalidInput as exc:
                apply_service_errors(form, exc.detail)
            else:
                messages.success(request, _("%(number)s was recorded.") % {"number": incident.number})
                return redirect("incidents:incident-detail", pk=incident.pk)
        status = 400
    else:
        form = IncidentReportForm(initial={"service": request.GET.get("service")}
                                  if request.GET.get("service", "").isdigit() else None, user=user)
        status = 200
    # What other apps show beside the form (the known errors that match what is typed).
    sections = form_sections("incidents.report", user)
    return render(request, "incidents/incident_report.html", {"form": form, "sections": sections}, status=status)


CALLER_SUGGESTIONS = 10


@login_required
@require_GET
def caller_options(request: HttpRequest) -> HttpResponse:
    """The <option>s of the report form's caller suggestions: active users whose name, user name or e-mail contains
    what was typed (htmx swaps them into the datalist as one types). Only for those who record faults for callers:
    a department user reports for themselves and is not shown who else uses OpsCenter."""
    if not may_report_for_others(request.user):
        raise PermissionDenied(_("Only the IT center records faults for callers."))
    text = (request.GET.get("caller") or request.GET.get("q") or "").strip()[:150]
    users = []
    if len(text) >= 2:
        users = list(User.objects.filter(is_active=True).filter(
            Q(username__icontains=text) | Q(display_name__icontains=text) | Q(first_name__icontains=text)
            | Q(last_name__icontains=text) | Q(email__icontains=text))
            .select_related("department").order_by("display_name", "username")[:CALLER_SUGGESTIONS])
    return render(request, "incidents/includes/caller_options.html", {"users": users})


@login_required
@require_GET
def configuration_item_options(request: HttpRequest) -> HttpResponse:
    """The <option>s of the CI select for a service (htmx swaps them in when the service changes): only the CIs the
    user may read, as on the API (none for a department user)."""
    service = request.GET.get("service", "")
    items = configuration_items_visible_to(request.user)
    if service.isdigit():
        items = items.filter(services=int(service))
    return render(request, "incidents/includes/configuration_item_options.html", {"items": items})


# --- The summary (事件總結) --------------------------------------------------------------------------------


def _summary_rows(summary: dict[str, Any], link: Any = None) -> dict[str, list[dict[str, Any]]]:
    """The summary's groups with labels people read (in the current language), each row with `href`: the incident
    list narrowed to the incidents it counts (`link(**filters)`; none without `link`)."""
    chinese = (get_language() or "").startswith("zh")
    unclassified = _("Unclassified")
    priorities, states = dict(Priority.choices), dict(State.choices)
    link = link or (lambda **filters: "")
    return {
        "category": [{"key": r["category__code"] or "",
                      "label": ((chinese and r["category__name_zh_hant"]) or r["category__name"] or unclassified),
                      "count": r["count"], "href": link(category=r["category__code"] or NONE)}
                     for r in summary["by_category"]],
        # Priorities and states read best in their own order (P1 first; the process from start to end).
        "priority": [{"key": r["priority"] or "", "label": str(priorities.get(r["priority"], unclassified)),
                      "count": r["count"], "href": link(priority=r["priority"] or NONE)}
                     for r in sorted(summary["by_priority"], key=lambda r: (not r["priority"], r["priority"] or ""))],
        "state": [{"key": r["state"], "label": str(states.get(r["state"], r["state"])), "count": r["count"],
                   "href": link(state=r["state"])}
                  for r in sorted(summary["by_state"], key=lambda r: (
                      list(states).index(r["state"]) if r["state"] in states else len(states)))],
        "service": [{"key": r["service__code"] or "", "label": r["service__name"] or _("No service"),
                     "count": r["count"], "href": link(service=r["service"] or NONE)} for r in summary["by_service"]],
        "configuration_item": [{"key": "", "label": r["configuration_item__name"], "count": r["count"],
                                "href": link(configuration_item=r["configuration_item"])}
                               for r in summary["top_cis"]],
    }


def _summary_link(start: date, end: date) -> Any:
    """The address of the incident list narrowed to the summary's period and the given filters: every incident
    the user may see, reported within the period (both days included), as the summary counts them."""
    base = reverse("incidents:incident-list")

    def link(**filters: Any) -> str:
        return base + "?" + urlencode({"queue": "all", "created_after": start.isoformat(),
                                       "created_before": end.isoformat(), **filters})
    return link


def _minutes(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 60:.1f}"


@login_required
@require_GET
def incident_summary(request: HttpRequest) -> HttpResponse:
    """The periodic summary: counts by category, priority, service and state; MTTA, MTTR; top services and
    CIs — as a page or, with ?format=csv, a download; a department sees only its own incidents."""
    form = SummaryPeriodForm(request.GET if ("start" in request.GET or "end" in request.GET) else None)
    start_date, end_date = form.period()
    zone = timezone.get_current_timezone()
    start = datetime.combine(start_date, time.min, tzinfo=zone)
    end = datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=zone)
    summary = selectors.incident_summary(user=request.user, start=start, end=end)
    link = _summary_link(start_date, end_date)
    groups = _summary_rows(summary, link)
    if request.GET.get("format") == "csv":
        rows = [["section", "key", "label", "value"], ["period", "start", "", start_date.isoformat()],
                ["period", "end", "", end_date.isoformat()], ["total", "", "", summary["total"]],
                ["mtta_minutes", "", "", _minutes(summary["mtta"])],
                ["mttr_minutes", "", "", _minutes(summary["mttr"])]]
        rows += [[section, row["key"], row["label"], row["count"]]
                 for section, group in groups.items() for row in group]
        return csv_response(f"incident-summary-{start_date:%Y%m%d}-{end_date:%Y%m%d}.csv", rows)
    query = request.GET.copy()
    query.pop("format", None)
    chart = {"labels": [r["label"] for r in groups["category"]], "values": [r["count"] for r in groups["category"]]}
    return render(request, "incidents/incident_summary.html", {
        "form": form,
        "start": start_date,
        "end": end_date,
        "summary": summary,
        "groups": groups,
        "mtta": humanise_duration(summary["mtta"]),
        "mttr": humanise_duration(summary["mttr"]),
        "presets": preset_periods(),
        "csv_query": f"start={start_date.isoformat()}&end={end_date.isoformat()}&format=csv",
        "chart": chart,
        "total_href": link(),
    }, status=200 if not form.is_bound or form.is_valid() else 400)

