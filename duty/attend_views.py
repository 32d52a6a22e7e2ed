"""Pages of attendance, the duty log and handovers: "My duty" (the shift now and next, checking in and out, the
log of this shift and its form, writing the handover and acknowledging the one received), the duty log, the
handovers waiting for acknowledgement, and a handover's page. Times are shown in the duty policy's zone.

Thin: a selector, a form, one service call; a refusal is shown as a message and changes nothing."""

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from duty.attend_forms import AcknowledgeForm, HandoverFilterForm, HandoverForm, LogEntryForm, LogFilterForm
from duty.attendance import attendance_shifts, attendance_transition, my_shifts
from duty.choices import Attendance, HandoverState
from duty.handovers import (
    handover_acknowledge,
    handover_get,
    handover_list,
    handover_to_acknowledge,
    handover_write,
    incoming_shift_for,
    item_groups,
    leave_refusal,
)
from duty.log import (
    changes_visible_to,
    log_entries_filtered,
    log_entry_list,
    log_entry_record,
)
from duty.models import DutyPolicy, Handover, Shift
from duty.selectors import may_read_duty
from incidents import selectors as incident_selectors
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.extensions import handover_sources
from opscenter.core.forms import apply_service_errors
from opscenter.core.pagination import CappedCountPaginator
from opscenter.core.roles import has_role
from opscenter.core.selectors import ticket_search
from opscenter.core.services import perform_transition
from opscenter.core.ticket_views import TicketDetailView, TicketTransitionView
from opscenter.core.views import search_response
from opscenter.core.workflow import available_transitions

LOG_PAGE_SIZE = 50
SHIFT_LOG_ROWS = 50
ATTENDANCE_ACTIONS = ("check_in", "check_out")


def in_policy_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run the view in the duty policy's time zone: the times it shows and the times its forms read."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(DutyPolicy.current().zone):
            return view(request, *args, **kwargs)

    return wrapped


def _check_reader(user: Any) -> None:
    if not may_read_duty(user):
        raise PermissionDenied(_("The duty pages are for IT staff and auditors."))


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


# --- My duty ------------------------------------------------------------------------------------------------------


def _shift_card(shift: Shift, user: Any) -> dict[str, Any]:
    """A shift of mine now: its attendance buttons (or why each is blocked), its handover and who takes over."""
    actions = [t for t in available_transitions(shift, user) if t.name in ATTENDANCE_ACTIONS]
    # Who must acknowledge what before the person may leave, rather than the rule in general.
    actions = [replace(t, reason=leave_refusal(shift) or t.reason) if t.name == "check_out" and not t.allowed else t
               for t in actions]
    handover = Handover.objects.filter(shift=shift).select_related("incoming_shift__user").first()
    return {"shift": shift, "actions": actions, "handover": handover,
            "incoming": handover.incoming_shift if handover else incoming_shift_for(shift),
            "may_write": handover is None and shift.attendance == Attendance.ON_DUTY}


def render_my_duty(request: HttpRequest, *, log_form: LogEntryForm | None = None,
                   handover_form: HandoverForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    current, upcoming = my_shifts(user)
    cards = [_shift_card(shift, user) for shift in current]
    receiving = handover_to_acknowledge(user=user)
    shift = next((card["shift"] for card in cards if card["shift"].attendance == Attendance.ON_DUTY), None) or (
        cards[0]["shift"] if cards else None)
    shift_log = list(log_entries_filtered(log_entry_list(user=user), shift=shift)[:SHIFT_LOG_ROWS]) if shift else []
    may_log = user.has_perm("duty.add_dutylogentry") and (bool(cards) or has_role(user, roles.SUPERVISOR))
    return render(request, "duty/my_duty.html", {
        "cards": cards, "upcoming": upcoming, "log_shift": shift, "shift_log": shift_log,
        "log_form": (log_form or LogEntryForm(user=user)) if may_log else None,
        "handover_form": handover_form or HandoverForm(),
        "sources": [source.label for source in handover_sources()],
        "receiving": receiving, "receiving_groups": item_groups(receiving) if receiving else [],
        "acknowledge_form": AcknowledgeForm(prefix="acknowledge", obj=receiving, user=user) if receiving else None,
        "is_supervisor": has_role(user, roles.SUPERVISOR),
    }, status=status)


@login_required
@require_GET
@in_policy_zone
def my_duty(request: HttpRequest) -> HttpResponse:
    """My duty: the shift now and the next one, checking in and out, this shift's log, the handovers."""
    _check_reader(request.user)
    return render_my_duty(request)


@login_required
@require_POST
@in_policy_zone
def attendance_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Check in or out of a shift (one's own, or a supervisor for someone): a refusal is a message."""
    _check_reader(request.user)
    if name not in ATTENDANCE_ACTIONS:
        raise Http404(name)
    shift = attendance_shifts(user=request.user).filter(pk=pk).first()
    if shift is None:
        raise Http404(pk)
    try:
        shift = attendance_transition(shift, name, user=request.user)
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
    else:
        if name == "check_in":
            text = _("Checked in at %(time)s.") % {"time": timezone.localtime(shift.checked_in_at).strftime("%H:%M")}
            if shift.late_minutes:
                text += " " + _("Recorded as %(minutes)d minutes late.") % {"minutes": shift.late_minutes}
        else:
            text = _("Checked out. Thank you.")
        messages.success(request, text)
    return _back(request, reverse("duty:my-duty"))


def _submit(request: HttpRequest, form: Any, key: str, act: Callable[[dict[str, Any]], Any]
            ) -> tuple[Any, HttpResponse | None]:
    """Run a My duty form through its service: (the record made, None), or (None, My duty drawn again with the
    form's or the service's complaints); a refusal changes nothing."""
    try:
        if not form.is_valid():
            raise InvalidInput({})
        return act(form.cleaned_data), None
    except InvalidInput as exc:
        apply_service_errors(form, exc.detail)
        messages.error(request, _("Please correct the fields marked below."))
        return None, render_my_duty(request, **{key: form}, status=400)
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
        return None, render_my_duty(request, **{key: form}, status=exc.status_code)


@login_required
@require_POST
@in_policy_zone
def log_add(request: HttpRequest) -> HttpResponse:
    """Add an entry to the duty log of my current shift."""
    _check_reader(request.user)
    form = LogEntryForm(request.POST, user=request.user)
    _entry, refused = _submit(request, form, "log_form", lambda data: log_entry_record(user=request.user, **data))
    if refused is not None:
        return refused
    messages.success(request, _("The entry is in the duty log."))
    return redirect(reverse("duty:my-duty") + "#shift-log")


@login_required
@require_POST
@in_policy_zone
def handover_write_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the handover of my shift (a supervisor: of someone's)."""
    _check_reader(request.user)
    shift = attendance_shifts(user=request.user).filter(pk=pk).first()
    if shift is None:
        raise Http404(pk)
    handover, refused = _submit(request, HandoverForm(request.POST), "handover_form",
                                lambda data: handover_write(shift=shift, user=request.user, summary=data["summary"]))
    if refused is not None:
        return refused
    messages.success(request, _("The handover is written; the incoming person is asked to acknowledge it."))
    return redirect("duty:handover-detail", pk=handover.pk)


# --- The duty log and the handovers ----------------------------------------------------------------------------


@login_required
@require_GET
@in_policy_zone
def log_list(request: HttpRequest) -> HttpResponse:
    """The duty log of every team, newest first, by team, day and kind."""
    _check_reader(request.user)
    form = LogFilterForm(request.GET or None)
    entries = log_entries_filtered(log_entry_list(user=request.user), **form.values())
    page = CappedCountPaginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "duty/log_list.html", {"form": form, "page": page, "query": query.urlencode()})


@login_required
@require_GET
@in_policy_zone
def handover_list_view(request: HttpRequest) -> HttpResponse:
    """Handovers, those waiting for acknowledgement first by default (the supervisor's view)."""
    _check_reader(request.user)
    form = HandoverFilterForm(request.GET or {"state": HandoverState.WRITTEN})
    chosen = form.values()
    rows = handover_list(user=request.user)
    if chosen.get("state"):
        rows = rows.filter(state=chosen["state"])
    if chosen.get("team"):
        rows = rows.filter(shift__team=chosen["team"])
    if chosen.get("state") == HandoverState.WRITTEN:
        rows = rows.order_by("written_at", "pk")
    page = CappedCountPaginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "duty/handover_list.html", {"form": form, "page": page, "query": query.urlencode(),
                                                       "now": timezone.now()})


@method_decorator([in_policy_zone], name="dispatch")
class HandoverDetailView(TicketDetailView):
    """A handover as written: the summary, what it carries over, and the acknowledgement."""

    model = Handover
    template_name = "duty/handover_detail.html"
    transition_forms: ClassVar[dict[str, type]] = {"acknowledge": AcknowledgeForm}
    forward_transitions = ("acknowledge",)
    created_transition = "write"

    def get_object(self, user: Any, pk: int) -> Handover:
        _check_reader(user)
        handover = handover_get(user=user, pk=pk)
        handover.is_read_only = handover.state == HandoverState.ACKNOWLEDGED
        return handover

    def perform(self, obj: Handover, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Any:
        if name == "acknowledge":
            return handover_acknowledge(obj, user=user, comment=comment)
        return perform_transition(obj, name, user=user, comment=comment, data=data)

    def timeline(self, obj: Handover, user: Any) -> list[dict[str, Any]]:
        return []  # the page shows who wrote and who acknowledged, from the handover itself

    def detail_context(self, obj: Handover, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        return {"groups": item_groups(obj)}


class HandoverTransitionView(HandoverDetailView, TicketTransitionView):
    pass


# --- Search boxes of the log form --------------------------------------------------------------------------------


@login_required
@require_GET
def incident_search(request: HttpRequest) -> JsonResponse:
    """Incidents a log entry may link, found by number or title."""
    _check_reader(request.user)
    return search_response(incident_selectors.incident_search(user=request.user, text=request.GET.get("q", "")))


@login_required
@require_GET
def change_search(request: HttpRequest) -> JsonResponse:
    """Changes a log entry may link, found by number or title."""
    _check_reader(request.user)
    return search_response(ticket_search(changes_visible_to(request.user), request.GET.get("q", "")))
