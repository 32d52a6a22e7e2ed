"""Incident pages: the queue, the detail page with its transition forms, report-a-fault and the summary.

Views are thin: a selector, a form, one service call; refusals from the services (OpsCenterError) are
shown on the page with their HTTP status, never as an error page.
"""

import csv
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors
from incidents import services as incident_services
from incidents.choices import OPEN_STATES, Channel, Priority, State
from incidents.forms import (
    FORWARD_TRANSITIONS,
    TRANSITION_FORMS,
    AttachmentForm,
    CommentForm,
    IncidentFilterForm,
    IncidentReportForm,
    ReviewForm,
    SummaryPeriodForm,
    TransitionForm,
    apply_service_errors,
    preset_periods,
)
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.exceptions import (
    InvalidInput,
    OpsCenterError,
    ReadOnlyRecord,
    TransitionForbidden,
    UnknownTransition,
    detail_text,
)
from opscenter.core.extensions import detail_sections
from opscenter.core.models import ConfigurationItem
from opscenter.core.pagination import CappedCountPaginator
from opscenter.core.roles import has_role, user_team_ids
from opscenter.core.selectors import ticket_timeline
from opscenter.core.services import (
    attachment_add,
    check_may_contribute,
    check_transition,
    comment_add,
    is_read_only_user,
)
from opscenter.core.workflow import AvailableTransition, available_transitions, get_transition

PAGE_SIZE = 25

QUEUES = {
    "mine": gettext_lazy("My incidents"),
    "team": gettext_lazy("My team's"),
    "unassigned": gettext_lazy("Unassigned"),
    "open": gettext_lazy("Open"),
    "all": gettext_lazy("All"),
}


def queues_for(user: Any) -> list[str]:
    """The queue tabs a user has: IT staff work queues; a department follows its own incidents."""
    if not has_role(user, *roles.IT_STAFF, roles.AUDITOR):
        return ["open", "all"]
    names = ["mine", "team", "unassigned", "open", "all"]
    if not user_team_ids(user):
        names.remove("team")
    return names


def default_queue(user: Any) -> str:
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


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    """The queue: tabs, filters, sort and pagination; a constant number of queries whatever the rows."""
    user = request.user
    queues = queues_for(user)
    queue = request.GET.get("queue")
    if queue not in queues:
        queue = default_queue(user)
    form = IncidentFilterForm(request.GET if request.GET else None, user=user)
    qs = selectors.queue_rows(form.order(form.filter(selectors.incident_queue(user=user, queue=queue))))
    # Counting stops past a thousand ("Page 1 of 40+ · 1000+ items"): counting the 100,000 incidents of
    # the "all" queue cost more than showing a page of them.
    page = CappedCountPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query["queue"] = queue
    return render(request, "incidents/incident_list.html", {
        "page": page,
        "query": query.urlencode(),
        "form": form,
        "queue": queue,
        "queues": [(name, QUEUES[name]) for name in queues],
        "sort": form.sort_key(),
    })


# --- The detail page ---------------------------------------------------------------------------------------


@dataclass
class Action:
    """One transition on the detail page: its form, or the reason it is blocked."""

    transition: AvailableTransition
    form: TransitionForm | None
    open: bool = False

    @property
    def target_label(self) -> str:
        target = self.transition.target
        return str(State(target).label) if target in State.values else ""


def _get_incident(user: Any, pk: int) -> Incident:
    try:
        return selectors.incident_get(user=user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404 from None


def _may_contribute(user: Any) -> bool:
    """Everyone who may see an incident may comment and attach files, except the read-only auditor."""
    return not is_read_only_user(user)


def _transition_labels() -> dict[str, str]:
    field = Incident._meta.get_field("state")
    labels = {t.name: str(t.custom.get("label") or t.name) for t in field.get_all_transitions(Incident)}
    labels["report"] = _("Reported")
    return labels


def _field_label(name: str) -> str:
    try:
        return str(Incident._meta.get_field(name).verbose_name)
    except Exception:  # a field since removed from the model
        return name


def _timeline(incident: Incident, user: Any) -> list[dict[str, Any]]:
    labels = _transition_labels()
    states, channels = dict(State.choices), dict(Channel.choices)
    rows = []
    for entry in ticket_timeline(incident, user=user):
        row: dict[str, Any] = {"entry": entry, "kind": entry.kind, "at": entry.at, "actor": entry.actor}
        record = entry.record
        if entry.kind == "transition":
            row["label"] = labels.get(record.transition, record.transition)
            if record.transition == "report":
                channel = (record.data or {}).get("channel", "")
                row["note"] = str(channels.get(channel, channel))
            elif record.source_state != record.target_state:
                row["source"] = states.get(record.source_state, record.source_state)
                row["target"] = states.get(record.target_state, record.target_state)
        elif entry.kind == "change":
            row["label"] = _field_label(record.field)
        rows.append(row)
    return rows


def _actions(incident: Incident, user: Any, *, open_children: int,
             bound: dict[str, Any]) -> list[Action]:
    if incident.is_read_only:
        return []
    actions = []
    for transition in available_transitions(incident, user):
        form_class = TRANSITION_FORMS.get(transition.name)
        if form_class is None:
            continue
        if not transition.allowed:
            actions.append(Action(transition, None))
            continue
        form = bound.get(f"transition:{transition.name}")
        if form is None:
            form = form_class(prefix=transition.name, incident=incident, user=user, open_children=open_children)
        actions.append(Action(transition, form, open=form.is_bound))
    if not any(a.open for a in actions):
        first = next((a for a in actions if a.form and a.transition.name in FORWARD_TRANSITIONS), None)
        if first:
            first.open = True
    return actions


def _open_children(children: list[Incident], user: Any) -> int:
    """Children that resolving the parent would resolve with it (as incident_transition does), offered only
    when this user may resolve every one of them (otherwise the whole resolution would be refused)."""
    open_children = [c for c in children if c.state in OPEN_STATES and c.state != State.ON_HOLD]
    for child in open_children:
        transition = get_transition(child, "resolve_with_parent")
        if transition is None or not transition.has_perm(child, user):
            return 0
    return len(open_children)


def _render_detail(request: HttpRequest, incident: Incident, *, bound: dict[str, Any] | None = None,
                   status: int = 200) -> HttpResponse:
    user = request.user
    bound = bound or {}
    selectors.complete_detail(incident)
    relations = selectors.incident_relations(user=user, incident=incident)
    open_children = _open_children(relations["children"], user)
    contribute = _may_contribute(user) and not incident.is_read_only
    review_allowed = (incident.is_major and has_role(user, roles.SUPERVISOR) and not incident.is_read_only)
    context = {
        "incident": incident,
        "children": relations["children"],
        "duplicates": relations["duplicates"],
        "reviews": list(incident.reviews.select_related("recorded_by")) if incident.is_major else [],
        "timeline": _timeline(incident, user),
        "actions": _actions(incident, user, open_children=open_children, bound=bound),
        "comment_form": (bound.get("comment") or CommentForm(user=user)) if contribute else None,
        "attachment_form": (bound.get("attachment") or AttachmentForm()) if contribute else None,
        "review_form": (bound.get("review") or ReviewForm(prefix="review")) if review_allowed else None,
        "steps": _steps(incident),
        "forward": FORWARD_TRANSITIONS,
        "sections": detail_sections(incident, user),  # what other apps show here (SLA clocks)
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


MAIN_PATH = [State.REPORTED, State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING,
             State.RECOVERING, State.RESOLVED, State.UNDER_REVIEW, State.CLOSED]


def _steps(incident: Incident) -> list[dict[str, Any]]:
    """The main path of the process with the step the incident is at (an on-hold one where it left)."""
    current = incident.held_from if incident.state == State.ON_HOLD else incident.state
    if current not in MAIN_PATH:
        return []
    return [{"label": state.label, "active": state == current} for state in MAIN_PATH]


@login_required
@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _get_incident(request.user, pk))


def _refused(request: HttpRequest, pk: int, exc: OpsCenterError) -> HttpResponse:
    """Show a refusal (403/409/400) on the page, with the incident as it is now."""
    messages.error(request, detail_text(exc.detail))
    return _render_detail(request, _get_incident(request.user, pk), status=exc.status_code)


@login_required
@require_POST
def incident_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Perform one transition from its form, through incidents.services.incident_transition."""
    user = request.user
    incident = _get_incident(user, pk)
    form_class = TRANSITION_FORMS.get(name)
    if form_class is None:
        return _refused(request, pk, UnknownTransition())
    relations = selectors.incident_relations(user=user, incident=incident)
    form = form_class(request.POST, prefix=name, incident=incident, user=user,
                      open_children=_open_children(relations["children"], user))
    try:
        check_transition(incident, name, user=user)  # 403/409 before the form's own complaints
        if not form.is_valid():
            raise InvalidInput({})
        incident = incident_services.incident_transition(incident, name, user=user, comment=form.comment(),
                                                         data=form.transition_data())
    except InvalidInput as exc:
        apply_service_errors(form, exc.detail)
        messages.error(request, _("Please correct the fields marked below."))
        return _render_detail(request, incident, bound={f"transition:{name}": form}, status=exc.status_code)
    except OpsCenterError as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("%(action)s: done. The incident is now “%(state)s”.") % {
        "action": _transition_labels().get(name, name), "state": incident.get_state_display()})
    return redirect("incidents:incident-detail", pk=incident.pk)


@login_required
@require_POST
def incident_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    incident = _get_incident(user, pk)
    try:
        check_may_contribute(incident, user=user)
    except OpsCenterError as exc:
        return _refused(request, pk, exc)
    form = CommentForm(request.POST, user=user)
    try:
        if not form.is_valid():
            raise InvalidInput({})
        comment_add(incident, user=user, body=form.cleaned_data["body"],
                    is_internal=bool(form.cleaned_data.get("is_internal")))
    except InvalidInput as exc:
        apply_service_errors(form, exc.detail)
        return _render_detail(request, incident, bound={"comment": form}, status=400)
    messages.success(request, _("Your comment was added."))
    return redirect(reverse("incidents:incident-detail", args=[incident.pk]) + "#timeline")


@login_required
@require_POST
def incident_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    incident = _get_incident(user, pk)
    try:
        check_may_contribute(incident, user=user)
    except OpsCenterError as exc:
        return _refused(request, pk, exc)
    form = AttachmentForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise InvalidInput({})
        attachment_add(incident, user=user, upload=form.cleaned_data["file"])
    except InvalidInput as exc:
        apply_service_errors(form, exc.detail)
        return _render_detail(request, incident, bound={"attachment": form}, status=400)
    messages.success(request, _("The file was attached."))
    return redirect(reverse("incidents:incident-detail", args=[incident.pk]) + "#timeline")


@login_required
@require_POST
def incident_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the review meeting of a major incident (a supervisor, before the report is approved)."""
    user = request.user
    incident = _get_incident(user, pk)
    # Refusals (not a supervisor, a closed incident) come before complaints about missing fields.
    if not has_role(user, roles.SUPERVISOR):
        return _refused(request, pk, _forbidden(_("Only a supervisor records the review meeting.")))
    if incident.is_read_only:
        return _refused(request, pk, ReadOnlyRecord())
    if not incident.is_major:
        return _refused(request, pk, InvalidInput(_("Only a major incident has a review meeting.")))
    form = ReviewForm(request.POST, prefix="review")
    try:
        if not form.is_valid():
            raise InvalidInput({})
        incident_services.incident_record_review(incident, user=user, data=form.cleaned_data)
    except InvalidInput as exc:
        apply_service_errors(form, exc.detail)
        return _render_detail(request, incident, bound={"review": form}, status=400)
    except OpsCenterError as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("The review meeting was recorded."))
    return redirect("incidents:incident-detail", pk=incident.pk)


def _forbidden(reason: str | None = None) -> OpsCenterError:
    return TransitionForbidden(reason or _("Your role may read this incident but not add to it."))


# --- Report a fault ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def incident_report(request: HttpRequest) -> HttpResponse:
    """Record a fault: for a caller (duty officer, engineers, supervisor) or for oneself (departments)."""
    user = request.user
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
    return render(request, "incidents/incident_report.html", {"form": form}, status=status)


@login_required
@require_GET
def configuration_item_options(request: HttpRequest) -> HttpResponse:
    """The <option>s of the CI select for a service (htmx swaps them in when the service changes)."""
    service = request.GET.get("service", "")
    items = ConfigurationItem.objects.all()
    if service.isdigit():
        items = items.filter(services=int(service))
    return render(request, "incidents/includes/configuration_item_options.html", {"items": items})


# --- The summary (事件總結) --------------------------------------------------------------------------------


def humanise_duration(value: timedelta | None) -> str:
    """Hours and minutes, e.g. “3 h 05 min”; “—” when there is nothing to average."""
    if value is None:
        return "—"
    minutes = max(0, round(value.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def _summary_rows(summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The summary's groups with labels people read (in the current language)."""
    chinese = (get_language() or "").startswith("zh")
    unclassified = _("Unclassified")
    priorities, states = dict(Priority.choices), dict(State.choices)
    return {
        "category": [{"key": r["category__code"] or "",
                      "label": ((chinese and r["category__name_zh_hant"]) or r["category__name"] or unclassified),
                      "count": r["count"]} for r in summary["by_category"]],
        # Priorities and states read best in their own order (P1 first; the process from start to end).
        "priority": [{"key": r["priority"] or "", "label": str(priorities.get(r["priority"], unclassified)),
                      "count": r["count"]} for r in sorted(summary["by_priority"], key=lambda r: (
                          not r["priority"], r["priority"] or ""))],
        "state": [{"key": r["state"], "label": str(states.get(r["state"], r["state"])), "count": r["count"]}
                  for r in sorted(summary["by_state"], key=lambda r: (
                      list(states).index(r["state"]) if r["state"] in states else len(states)))],
        "service": [{"key": r["service__code"] or "", "label": r["service__name"] or _("No service"),
                     "count": r["count"]} for r in summary["by_service"]],
        "configuration_item": [{"key": "", "label": r["configuration_item__name"], "count": r["count"]}
                               for r in summary["top_cis"]],
    }


def _csv_cell(value: Any) -> Any:
    """Keep spreadsheet programs from running a label as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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
    groups = _summary_rows(summary)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="incident-summary-{start_date:%Y%m%d}-{end_date:%Y%m%d}.csv"')
        response.write("\ufeff")  # so that spreadsheet programs read the Chinese names as UTF-8
        writer = csv.writer(response)
        writer.writerow(["section", "key", "label", "value"])
        writer.writerow(["period", "start", "", start_date.isoformat()])
        writer.writerow(["period", "end", "", end_date.isoformat()])
        writer.writerow(["total", "", "", summary["total"]])
        writer.writerow(["mtta_minutes", "", "", _minutes(summary["mtta"])])
        writer.writerow(["mttr_minutes", "", "", _minutes(summary["mttr"])])
        for section, rows in groups.items():
            for row in rows:
                writer.writerow([section, _csv_cell(row["key"]), _csv_cell(row["label"]), row["count"]])
        return response
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
    }, status=200 if not form.is_bound or form.is_valid() else 400)

