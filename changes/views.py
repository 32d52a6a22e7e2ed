"""Change pages: the queues, request a change (or one from a template), edit, the detail page with its
transition forms, opinions, steps and review, the CAB agenda, the change calendar and its iCal feed.

Views are thin: a selector, a form, one service call; refusals from the services (OpsCenterError) are
shown on the page with their HTTP status and change nothing.
"""

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import icalendar
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from changes import selectors
from changes import services as change_services
from changes.choices import CALENDAR_STATES, ChangeType, State
from changes.forms import (
    DANGER_TRANSITIONS,
    FORWARD_TRANSITIONS,
    TRANSITION_FORMS,
    ChangeFilterForm,
    ChangeRequestForm,
    FromTemplateForm,
    InviteOpinionsForm,
    OpinionForm,
    ReviewForm,
    StepForm,
)
from changes.models import Change, may_implement
from changes.risk import RULE_LABELS
from changes.rules import CONFLICT_LABELS, schedule_check
from changes.services import EDITABLE, may_edit, may_request
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError
from opscenter.core.extensions import detail_sections
from opscenter.core.feeds import (
    FEED_AHEAD,
    FEED_PAST,
    calendar_response,
    event_host,
    feed_key,
    feed_owner,
    new_calendar,
)
from opscenter.core.forms import apply_service_errors
from opscenter.core.models import Service
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
from opscenter.core.views import search_response

QUEUES = {
    "requested": gettext_lazy("My requests"),
    "implementing": gettext_lazy("My implementations"),
    "approval": gettext_lazy("Awaiting my approval / vote"),
    "open": gettext_lazy("Open"),
    "all": gettext_lazy("All"),
}


def _may_see_agenda(user: Any) -> bool:
    return has_role(user, *roles.IT_STAFF, roles.AUDITOR)


class ChangeListView(TicketListView):
    """The queues: tabs, filters, sort and pagination; a constant number of queries whatever the rows."""

    template_name = "changes/change_list.html"
    queues = QUEUES
    filter_form = ChangeFilterForm

    def queues_for(self, user: Any) -> list[str]:
        """Engineers implement, approvers and CAB members decide; everyone follows what they requested."""
        names = ["requested"]
        if has_role(user, *roles.ENGINEERS, roles.SUPERVISOR):
            names.append("implementing")
        if has_role(user, roles.CHANGE_APPROVER, roles.CAB_MEMBER):
            names.append("approval")
        return [*names, "open", "all"]

    def default_queue(self, user: Any) -> str:
        if has_role(user, roles.CHANGE_APPROVER, roles.CAB_MEMBER):
            return "approval"
        if has_role(user, roles.SUPERVISOR, roles.AUDITOR):
            return "open"
        if has_role(user, *roles.ENGINEERS):
            return "implementing"
        return "requested"

    def rows(self, form: ChangeFilterForm, user: Any, queue: str) -> Any:
        return form.order(form.filter(selectors.change_queue(user=user, queue=queue)))

    def extra_context(self, user: Any) -> dict[str, Any]:
        return {"may_request": may_request(user), "may_see_agenda": _may_see_agenda(user)}


change_list = ChangeListView.as_view()


# --- Request, from a template, edit ------------------------------------------------------------------------


def _check_may_request(user: Any) -> None:
    if not may_request(user):
        raise PermissionDenied(_("You may not request changes."))


def _create(request: HttpRequest, form: ChangeRequestForm | FromTemplateForm) -> HttpResponse | None:
    """Create the change from a valid form through change_create; None when the form shows errors."""
    if not form.is_valid():
        return None
    data, steps = form.request_data()
    try:
        change = change_services.change_create(requester=request.user, data=data, steps=steps)
    except InvalidInput as exc:
        apply_service_errors(form, exc.detail)
        return None
    messages.success(request, _("%(number)s was saved as a draft. Submit it when it is complete.") % {
        "number": change.number})
    return redirect("changes:change-detail", pk=change.pk)


def _incident_from(request: HttpRequest) -> Incident | None:
    """The incident a change is raised from: one the user may see (404 otherwise), or None."""
    value = request.GET.get("incident", "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    try:
        return selectors.incidents_visible_to(request.user).select_related("service", "configuration_item").get(
            pk=int(value))
    except Incident.DoesNotExist:
        raise Http404 from None


def _from_incident(incident: Incident | None) -> dict[str, Any] | None:
    """A change request started from an incident: its title, service, CI and description, and the link."""
    if incident is None:
        return None
    return {"title": incident.title[:200], "description": incident.description,
            "services": [incident.service_id] if incident.service_id else [],
            "configuration_items": [incident.configuration_item_id] if incident.configuration_item_id else [],
            "related_incidents": [incident.pk]}


@login_required
@require_GET
def incident_search(request: HttpRequest) -> JsonResponse:
    """The incidents a change may be linked to, found by number or title (the request form's search box)."""
    return search_response(selectors.incident_search(user=request.user, text=request.GET.get("q", "")))


@login_required
@require_http_methods(["GET", "POST"])
def change_request(request: HttpRequest) -> HttpResponse:
    """Request a change (變更申請表): saved as a draft, submitted from its page. Raised from an incident
    (`?incident=<id>`), the form starts from the incident and links it."""
    _check_may_request(request.user)
    incident = _incident_from(request)
    form = ChangeRequestForm(request.POST or None, user=request.user, initial=_from_incident(incident))
    if request.method == "POST":
        done = _create(request, form)
        if done:
            return done
    return render(request, "changes/change_form.html", {"form": form, "mode": "new", "incident": incident},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def change_from_template(request: HttpRequest) -> HttpResponse:
    """A standard change from an approved template: approved on submission, no further approval."""
    _check_may_request(request.user)
    initial = {"template": request.GET["template"]} if request.GET.get("template", "").isdigit() else None
    form = FromTemplateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        done = _create(request, form)
        if done:
            return done
    return render(request, "changes/change_from_template.html", {
        "form": form, "templates": list(form.fields["template"].queryset)}, status=400 if form.is_bound else 200)


class ChangeEditView(TicketEditView):
    """Edit what the state allows; editing approved content sends the change back for approval."""

    template_name = "changes/change_form.html"
    detail_route = "changes:change-detail"
    object_name = "change"
    refusal = gettext_lazy("You may not edit this change now.")
    saved_text = gettext_lazy("The change was saved.")

    def get_object(self, user: Any, pk: int) -> Change:
        return selectors.change_get(user=user, pk=pk)

    def may_edit(self, obj: Change, user: Any) -> bool:
        return may_edit(obj, user) and not obj.is_read_only and obj.state in EDITABLE

    def get_form(self, request: HttpRequest, obj: Change) -> ChangeRequestForm:
        return ChangeRequestForm(request.POST or None, user=request.user, change=obj)

    def save(self, obj: Change, user: Any, form: ChangeRequestForm) -> Change:
        values, steps = form.changed_values()
        return change_services.change_update(obj, user=user, changes=values, steps=steps)

    def saved(self, request: HttpRequest, before: Change, after: Change) -> None:
        if after.state != before.state:
            messages.warning(request, _("Approved content was edited: the change is awaiting approval again."))
        else:
            super().saved(request, before, after)

    def extra_context(self, obj: Change) -> dict[str, Any]:
        return {"frozen": obj.state in (State.APPROVED, State.SCHEDULED)}


change_edit = ChangeEditView.as_view()


# --- The detail page ---------------------------------------------------------------------------------------


# The schedule check is shown while the window may still move: it costs a few queries.
CHECKED_STATES = (State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED, State.SCHEDULED)


def _schedule(change: Change) -> Any:
    return schedule_check(change) if change.state in CHECKED_STATES else None


def _acknowledged(change: Change) -> list[dict[str, Any]]:
    return [{**c, "labels": [str(CONFLICT_LABELS.get(r, r)) for r in c.get("reasons", [])]}
            for c in change.conflicts_acknowledged or []]


def _panel_forms(change: Change, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
    """The forms beside the transitions: invite and give opinions, record steps, the review."""
    supervisor = has_role(user, roles.SUPERVISOR)
    assessing = change.state in (State.SUBMITTED, State.ASSESSING)
    opinions = list(change.opinions.select_related("reviewer", "requested_by"))
    invited = next((o for o in opinions if o.reviewer_id == user.pk and not o.given_at), None)
    review_open = (supervisor and change.needs_review and not change.reviews.exists()
                   and change.state in (State.VERIFYING, State.COMPLETED, State.FAILED, State.ROLLED_BACK))
    return {
        "opinions": opinions,
        "invite_form": (bound.get("invite") or InviteOpinionsForm(change=change)) if supervisor and assessing else None,
        "opinion_form": (bound.get("opinion") or OpinionForm(prefix="opinion")) if invited and assessing else None,
        "step_forms": change.state == State.IMPLEMENTING and may_implement(change, user),
        "step_form": bound.get("step"),
        "review_form": (bound.get("review") or ReviewForm(prefix="review")) if review_open else None,
    }


MAIN_PATH = [State.DRAFT, State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL, State.APPROVED,
             State.SCHEDULED, State.IMPLEMENTING, State.VERIFYING, State.COMPLETED, State.CLOSED]

SKIPPED_STEPS = {
    ChangeType.STANDARD: (State.SUBMITTED, State.ASSESSING, State.AWAITING_APPROVAL),
    ChangeType.EMERGENCY: (State.SUBMITTED, State.ASSESSING),
}


def _progress(change: Change) -> list[dict[str, Any]]:
    """The main path with the step the change is at, without the steps its type skips (they are not done): a
    standard change skips assessment and approval, an emergency change goes straight to approval."""
    if change.state not in MAIN_PATH:
        return []
    skipped = SKIPPED_STEPS.get(change.change_type, ())
    path = [s for s in MAIN_PATH if s not in skipped]
    return [{"label": state.label, "active": state == change.state} for state in path]


class ChangeDetailView(TicketDetailView):
    """The change page: the request, its risk, assessment, approval rounds and votes, opinions, the plan and its
    steps, the schedule check, results and reviews, and the transitions the user may take."""

    model = Change
    template_name = "changes/change_detail.html"
    transition_forms = TRANSITION_FORMS
    forward_transitions = FORWARD_TRANSITIONS
    danger_transitions = DANGER_TRANSITIONS
    created_label = gettext_lazy("Requested")

    def get_object(self, user: Any, pk: int) -> Change:
        return selectors.change_get(user=user, pk=pk)

    def perform(self, obj: Change, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Change:
        return change_services.change_transition(obj, name, user=user, comment=comment, data=data)

    def form_context(self, obj: Change, user: Any, context: dict[str, Any] | None) -> dict[str, Any]:
        return {"schedule": context["schedule"] if context is not None else _schedule(obj)}

    def detail_context(self, obj: Change, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        change = obj
        schedule = _schedule(change)
        rounds = selectors.approval_rounds(change)
        cab_members = sorted(change.cab_members.all(), key=str)
        current = {v.voter_id: v for v in rounds[0]["votes"]}
        return {
            "services": list(change.services.all()),
            "configuration_items": list(change.configuration_items.all()),
            "related_incidents": list(change.related_incidents.all()),
            "member_votes": [(m, current.get(m.pk)) for m in cab_members],
            "steps": list(change.steps.select_related("done_by")),
            "rounds": rounds,
            "risk_reasons": [str(RULE_LABELS.get(r, r)) for r in change.risk_reasons or []],
            "schedule": schedule,
            "acknowledged": _acknowledged(change) if schedule is None else [],
            "reviews": list(change.reviews.select_related("recorded_by")),
            "may_edit": may_edit(change, user) and change.state in EDITABLE and not change.is_read_only,
            "progress": _progress(change),
            "sections": detail_sections(change, user),  # what other apps show here (the problems it came from)
            **_panel_forms(change, user, bound),
        }


class ChangeTransitionView(ChangeDetailView, TicketTransitionView):
    """Perform one transition from its form, through changes.services.change_transition."""


class ChangeCommentView(ChangeDetailView, TicketCommentView):
    """Add a comment to the change's timeline."""


class ChangeAttachmentView(ChangeDetailView, TicketAttachmentView):
    """Attach a file to the change."""


change_detail = ChangeDetailView.as_view()
change_transition = ChangeTransitionView.as_view()
change_comment = ChangeCommentView.as_view()
change_attachment = ChangeAttachmentView.as_view()


class ChangeInviteView(ChangeDetailView):
    """The supervisor invites engineers and security staff to give their opinion."""

    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        change = self.object_or_404(user, pk)
        form = InviteOpinionsForm(request.POST, change=change)
        try:
            reviewers = list(form.cleaned_data["reviewers"]) if form.is_valid() else []
            change_services.change_invite_opinions(change, user=user, reviewers=reviewers)
        except InvalidInput as exc:
            return self.invalid(request, change, "invite", form, exc)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        messages.success(request, _("The opinions were asked for."))
        return redirect(self.detail_url(change, "#opinions"))


class ChangeOpinionView(ChangeDetailView):
    """An invited reviewer gives their opinion once."""

    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        change = self.object_or_404(user, pk)
        form = OpinionForm(request.POST, prefix="opinion")
        form.is_valid()
        data = getattr(form, "cleaned_data", {})
        try:
            change_services.change_give_opinion(change, user=user, recommendation=data.get("recommendation", ""),
                                                opinion=data.get("opinion", ""))
        except InvalidInput as exc:
            return self.invalid(request, change, "opinion", form, exc)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        messages.success(request, _("Your opinion was recorded."))
        return redirect(self.detail_url(change, "#opinions"))


class ChangeStepView(ChangeDetailView):
    """The implementer records a step done, or skipped with the reason."""

    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        change = self.object_or_404(user, pk)
        form = StepForm(request.POST)
        form.is_valid()
        data = getattr(form, "cleaned_data", {})
        try:
            change_services.change_record_step(change, user=user, position=data.get("position") or 0,
                                               status=data.get("status", ""), note=data.get("note", ""))
        except InvalidInput as exc:
            return self.invalid(request, change, "step", form, exc)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        messages.success(request, _("Step %(position)s was recorded.") % {"position": data.get("position")})
        return redirect(self.detail_url(change, "#plan"))


class ChangeReviewView(ChangeDetailView, TicketPostView):
    """The supervisor records the post-implementation review."""

    anchor = "#reviews"

    def form(self, request: HttpRequest, obj: Change, **kwargs: Any) -> tuple[str, Any]:
        return "review", ReviewForm(request.POST, prefix="review")

    def check(self, obj: Change, user: Any) -> None:
        change_services.check_may_record_review(obj, user=user)  # refused before the form is read

    def act(self, request: HttpRequest, obj: Change, form: Any, **kwargs: Any) -> str:
        change_services.change_record_review(obj, user=request.user, data=form.cleaned_data)
        return _("The post-implementation review was recorded.")


change_invite = ChangeInviteView.as_view()
change_opinion = ChangeOpinionView.as_view()
change_step = ChangeStepView.as_view()
change_review = ChangeReviewView.as_view()


# --- The CAB agenda ----------------------------------------------------------------------------------------


@login_required
@require_GET
def cab_agenda(request: HttpRequest) -> HttpResponse:
    """Changes awaiting joint review, with their members, votes so far and whether the viewer still votes."""
    if not _may_see_agenda(request.user):
        raise PermissionDenied
    return render(request, "changes/cab_agenda.html", {"items": selectors.cab_agenda(user=request.user)})


# --- The change calendar -----------------------------------------------------------------------------------


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()


def _period(view: str, day: date) -> tuple[date, date]:
    """The days shown: whole weeks (Monday first) around the month, or the week of the day."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    month_start = day.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    first = month_start - timedelta(days=month_start.weekday())
    last = next_month + timedelta(days=(7 - next_month.weekday()) % 7)
    return first, last


def _aware(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _overlaps(item: Any, start: datetime, end: datetime, *, starts: str, ends: str) -> bool:
    return getattr(item, starts) < end and start < getattr(item, ends)


def _weeks(first: date, last: date, rows: list, freezes: list, month: int | None) -> list[list[dict[str, Any]]]:
    days = []
    day = first
    while day < last:
        start, end = _aware(day), _aware(day + timedelta(days=1))
        days.append({
            "date": day, "today": day == timezone.localdate(), "other_month": month is not None and day.month != month,
            "changes": [r for r in rows if _overlaps(r.change, start, end, starts="planned_start", ends="planned_end")],
            "freezes": [f for f in freezes if _overlaps(f, start, end, starts="starts_at", ends="ends_at")],
        })
        day += timedelta(days=1)
    return [days[i:i + 7] for i in range(0, len(days), 7)]


def _service_id(value: str | None) -> int | None:
    return int(value) if (value or "").isdigit() else None


def _feed_url(request: HttpRequest, key: str, service_id: int | None) -> str:
    url = request.build_absolute_uri(reverse("changes:calendar-feed", args=[key]))
    return f"{url}?service={service_id}" if service_id else url


@login_required
@require_GET
def change_calendar(request: HttpRequest) -> HttpResponse:
    """Month and week views of approved, scheduled and in-progress changes and freeze windows, by service."""
    view = "week" if request.GET.get("view") == "week" else "month"
    day = _day(request.GET.get("date"))
    service_id = _service_id(request.GET.get("service"))
    first, last = _period(view, day)
    start, end = _aware(first), _aware(last)
    rows = selectors.calendar_changes(user=request.user, start=start, end=end, service_id=service_id)
    freezes = selectors.calendar_freeze_list(start=start, end=end, service_id=service_id)
    step = timedelta(days=7) if view == "week" else timedelta(days=31)
    previous = (day - step) if view == "week" else (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (day + step) if view == "week" else (day.replace(day=1) + step).replace(day=1)
    return render(request, "changes/change_calendar.html", {
        "view": view, "day": day, "first": first, "last": last - timedelta(days=1),
        "weeks": _weeks(first, last, rows, freezes, day.month if view == "month" else None),
        "rows": rows, "freezes": freezes, "conflicted": sum(1 for r in rows if r.conflicts),
        "previous": previous, "following": following,
        "services": Service.objects.filter(is_active=True).order_by("name"), "service_id": service_id,
        "feeds": [{"label": "", "url": _feed_url(request, feed_key(request.user), service_id)}],
        "calendar_states": [State(s).label for s in CALENDAR_STATES],
    })


def change_calendar_ics(rows: list, freezes: list, *, base_url: str) -> icalendar.Calendar:
    """One event per change window (conflicts named in its description) and per freeze window."""
    calendar = new_calendar("Change calendar", _("Change calendar"))
    host = event_host(base_url)
    for row in rows:
        change = row.change
        event = icalendar.Event()
        event.add("uid", f"change-{change.pk}@{host}")
        event.add("summary", f"{change.number} {change.title}")
        event.add("dtstart", change.planned_start)
        event.add("dtend", change.planned_end)
        event.add("dtstamp", change.updated_at)
        event.add("status", "CONFIRMED" if change.state != State.APPROVED else "TENTATIVE")
        event.add("url", base_url.rstrip("/") + reverse("changes:change-detail", args=[change.pk]))
        lines = [f"{_('State')}: {change.get_state_display()}",
                 f"{_('Risk')}: {change.get_risk_level_display() or '—'}",
                 f"{_('Services')}: {', '.join(str(s) for s in change.services.all()) or '—'}"]
        lines += [f"{_('Conflicts with')} {other.number}: "
                  f"{', '.join(str(CONFLICT_LABELS[r]) for r in reasons)}" for other, reasons in row.conflicts]
        event.add("description", "\n".join(lines))
        event.add("categories", [_("Change")])
        calendar.add_component(event)
    for freeze in freezes:
        event = icalendar.Event()
        event.add("uid", f"freeze-{freeze.pk}@{host}")
        event.add("summary", f"{_('Freeze')}: {freeze.name}")
        event.add("dtstart", freeze.starts_at)
        event.add("dtend", freeze.ends_at)
        event.add("dtstamp", freeze.starts_at)
        event.add("description", freeze.reason or "")
        event.add("categories", [_("Freeze window")])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar


@require_GET
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The change calendar as iCalendar, read by a calendar client with the user's secret key."""
    user = feed_owner(key)
    now = timezone.now()
    service_id = _service_id(request.GET.get("service"))
    rows = selectors.calendar_changes(user=user, start=now - FEED_PAST, end=now + FEED_AHEAD, service_id=service_id)
    freezes = selectors.calendar_freeze_list(start=now - FEED_PAST, end=now + FEED_AHEAD, service_id=service_id)
    calendar = change_calendar_ics(rows, freezes, base_url=request.build_absolute_uri("/"))
    return calendar_response(calendar, "changes.ics")
