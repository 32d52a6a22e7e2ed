"""Roster pages: the list of rosters with who is on duty now, generating a roster, the month grid of a roster
(people × days) with its findings, actions and timeline, its CSV, regenerating a draft, and adding, changing and
removing single shifts. IT staff and auditors read them; supervisors change them; department users are refused
(403). Times are shown and read in the duty policy's time zone.

Views are thin: a selector, a form, one service call; refusals from the services (OpsCenterError) are shown on
the page with their HTTP status and change nothing."""

import csv
import functools
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from duty import rosters
from duty.choices import FindingKind, RosterState
from duty.coverage import attach_findings, roster_findings
from duty.grid import band, gap_days, month_days, month_grid, months
from duty.models import DutyPolicy, Roster, Shift, ShiftType
from duty.roster_forms import AcceptFindingsForm, RosterGenerateForm, ShiftForm, next_month
from duty.rosters import may_edit_rosters
from duty.selectors import may_read_duty, on_duty_board, roster_get, roster_list, shift_list
from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.forms import ConfirmForm, ReasonForm, apply_service_errors
from opscenter.core.models import Team
from opscenter.core.roles import user_team_ids
from opscenter.core.ticket_views import TicketDetailView, TicketPostView, TicketTransitionView

SHOWN_FINDINGS = 60  # findings listed on the page; the rest are counted


def _check_reader(user: Any) -> None:
    if not may_read_duty(user):
        raise PermissionDenied(_("Rosters are read by IT staff and auditors."))


def duty_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A duty page: signed in, IT staff or an auditor (403 otherwise), drawn in the duty policy's time zone
    (`request.duty_policy`)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _check_reader(request.user)
        request.duty_policy = DutyPolicy.current()
        with timezone.override(request.duty_policy.zone):
            return view(request, *args, **kwargs)

    return login_required(wrapped)


def _check_editor(user: Any) -> None:
    if not may_edit_rosters(user):
        raise PermissionDenied(_("Only a supervisor generates and edits rosters."))


# --- The list -----------------------------------------------------------------------------------------------


@duty_page
@require_http_methods(["GET", "HEAD"])
def roster_list_page(request: HttpRequest) -> HttpResponse:
    """Who is on duty now and next in every team, and the rosters (newest first), by team and state."""
    rows = roster_list(user=request.user)
    team = request.GET.get("team", "")
    state = request.GET.get("state", "")
    if team.isdigit():
        rows = rows.filter(team_id=int(team))
    if state in RosterState.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    drafts = [r for r in page.object_list if r.state == RosterState.DRAFT and r.findings_accepted_at is None]
    attach_findings(drafts, policy=request.duty_policy)
    for roster in drafts:
        roster.open_findings = len(roster_findings(roster))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "duty/roster_list.html", {
        "page": page, "query": query.urlencode(), "teams": Team.objects.filter(is_active=True).order_by("name"),
        "team": team, "state": state,
        "states": RosterState.choices, "board": on_duty_board(first=user_team_ids(request.user)),
        "may_edit": may_edit_rosters(request.user), "zone": request.duty_policy.time_zone,
    })


# --- Generating ---------------------------------------------------------------------------------------------


@duty_page
@require_http_methods(["GET", "POST"])
def roster_generate_page(request: HttpRequest) -> HttpResponse:
    """A supervisor generates a draft roster of a team for a period from its rotations."""
    _check_editor(request.user)
    first, last = next_month(timezone.localdate())
    form = RosterGenerateForm(request.POST or None, initial={"first_day": first, "last_day": last,
                                                             "team": request.GET.get("team")})
    if request.method == "POST" and form.is_valid():
        try:
            roster = rosters.roster_generate(user=request.user, **form.service_data())
        except InvalidInput as exc:
            apply_service_errors(form, exc.detail)
        else:
            messages.success(request, _("The roster was generated as a draft: check its findings, then publish it."))
            return redirect("duty:roster-detail", pk=roster.pk)
    return render(request, "duty/roster_generate.html", {"form": form}, status=400 if form.is_bound else 200)


# --- The month grid: the roster's detail page ---------------------------------------------------------------


def _month(value: str | None, choices: list[date], today: date) -> date:
    """The month asked for (YYYY-MM) among the period's, else the current month if in it, else the first."""
    for month in choices:
        if value == f"{month:%Y-%m}":
            return month
    current = today.replace(day=1)
    return current if current in choices else choices[0]


class RosterDetailView(TicketDetailView):
    """The roster as a month grid, its findings, the transitions (publish, withdraw, accept the findings), the
    shift form for a supervisor on a draft, and its timeline."""

    model = Roster
    template_name = "duty/roster_grid.html"
    transition_forms: ClassVar[dict[str, type]] = {"publish": ConfirmForm, "withdraw": ReasonForm,
                                                   "accept_findings": AcceptFindingsForm}
    forward_transitions = ("publish", "accept_findings")
    danger_transitions = ("withdraw",)
    created_label = gettext_lazy("Generated")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            _check_reader(request.user)
        self.policy = DutyPolicy.current()
        with timezone.override(self.policy.zone):
            return super().dispatch(request, *args, **kwargs)

    def get_object(self, user: Any, pk: int) -> Roster:
        roster = roster_get(user=user, pk=pk, with_shifts=True)
        attach_findings([roster], policy=self.policy)
        return roster

    def perform(self, obj: Roster, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Roster:
        return rosters.roster_transition(obj, name, user=user, comment=comment, data=data)

    def actions(self, obj: Roster, user: Any, *, form_context: dict[str, Any], bound: dict[str, Any]) -> list:
        found = super().actions(obj, user, form_context=form_context, bound=bound)
        for action in found:
            if action.transition.name == "accept_findings":
                action.target_label = ""  # the roster stays a draft: it may be published after
        return found

    def field_label(self, name: str) -> str:
        return _("Shifts") if name == "shifts" else super().field_label(name)

    def detail_context(self, obj: Roster, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        zone = self.policy.zone
        today = timezone.localdate()
        choices = months(obj.first_day, obj.last_day)
        month = _month(self.request.GET.get("month"), choices, today)
        shifts = list(obj.shifts.all())
        findings = roster_findings(obj)
        days = month_days(obj.first_day, obj.last_day, month, today, gap_days(findings, zone))
        editable = may_edit_rosters(user) and obj.state == RosterState.DRAFT
        counts = {kind: sum(1 for f in findings if f.kind == kind) for kind in FindingKind.values}
        return {
            "roster": obj, "days": days, "rows": month_grid(shifts, days, zone), "months": choices, "month": month,
            "shift_types": _legend(obj),
            "findings": findings[:SHOWN_FINDINGS], "more_findings": max(0, len(findings) - SHOWN_FINDINGS),
            "finding_counts": [(FindingKind(k).label, n) for k, n in counts.items() if n],
            "editable": editable, "shift_form": bound.get("shift") or (ShiftForm(roster=obj) if editable else None),
            "zone": self.policy.time_zone, "shift_count": len(shifts),
        }


roster_detail = RosterDetailView.as_view()


def _legend(roster: Roster) -> list[ShiftType]:
    """The team's shift types with the colour band their shifts are drawn in."""
    types = list(ShiftType.objects.filter(team_id=roster.team_id).order_by("start_time", "code"))
    for shift_type in types:
        shift_type.band = band(shift_type.start_time.hour)
    return types


class RosterTransitionView(RosterDetailView, TicketTransitionView):
    """Publish, withdraw or accept the findings from their forms."""


roster_transition = RosterTransitionView.as_view()


class RosterShiftAddView(RosterDetailView, TicketPostView):
    """A supervisor adds a shift to a draft roster; refusals show on the form, on the roster's page."""

    def form(self, request: HttpRequest, obj: Roster, **kwargs: Any) -> tuple[str, Any]:
        return "shift", ShiftForm(request.POST, roster=obj)

    def act(self, request: HttpRequest, obj: Roster, form: Any, **kwargs: Any) -> str:
        rosters.shift_add(obj, user=request.user, **form.service_data())
        return _("The shift was added.")

    def done_url(self, obj: Roster, form: Any) -> str:
        month = form.cleaned_data["start"].astimezone(self.policy.zone)
        return self.detail_url(obj) + f"?month={month:%Y-%m}"


roster_shift_add = RosterShiftAddView.as_view()


@duty_page
@require_POST
def roster_regenerate_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a draft's shifts that have not started again from the team's active rotations."""
    roster = _roster_or_404(request.user, pk)
    try:
        rosters.roster_regenerate(roster, user=request.user)
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
    else:
        messages.success(request, _("The shifts that have not started were made again from the rotations."))
    return redirect("duty:roster-detail", pk=pk)


def _roster_or_404(user: Any, pk: int, *, with_shifts: bool = False) -> Roster:
    try:
        return roster_get(user=user, pk=pk, with_shifts=with_shifts)
    except Roster.DoesNotExist:
        raise Http404 from None


@duty_page
@require_http_methods(["GET", "HEAD"])
def roster_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster's shifts, one a line, in the duty policy's time zone (UTF-8 with a byte-order mark, so that
    spreadsheet programs read the names)."""
    roster = _roster_or_404(request.user, pk, with_shifts=True)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"roster-{roster.team.code}-{roster.first_day:%Y%m%d}-{roster.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Day"), _("Starts"), _("Ends"), _("Hours"), _("Shift type"), _("Role"), _("Person"),
                     _("Username")])
    zone = request.duty_policy.zone
    for shift in roster.shifts.all():
        start, end = shift.start.astimezone(zone), shift.end.astimezone(zone)
        writer.writerow([f"{start:%Y-%m-%d}", f"{start:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}",
                         f"{(shift.end - shift.start).total_seconds() / 3600:g}",
                         shift.shift_type.code if shift.shift_type_id else "", shift.get_role_display(),
                         str(shift.user), shift.user.username])
    return response


# --- A single shift -----------------------------------------------------------------------------------------


def _shift_or_404(user: Any, pk: int) -> Shift:
    try:
        return shift_list(user=user).get(pk=pk)
    except Shift.DoesNotExist:
        raise Http404 from None


def _back_to(shift: Shift) -> str:
    return reverse("duty:roster-detail", args=[shift.roster_id]) + \
        f"?month={timezone.localtime(shift.start):%Y-%m}"


@duty_page
@require_http_methods(["GET", "POST"])
def shift_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervisor changes a shift of a draft roster before it starts: its person, role, type or times."""
    _check_editor(request.user)
    shift = _shift_or_404(request.user, pk)
    initial = {"user": shift.user_id, "role": shift.role, "shift_type": shift.shift_type_id,
               "start": timezone.localtime(shift.start), "end": timezone.localtime(shift.end)}
    form = ShiftForm(request.POST or None, roster=shift.roster, with_day=False, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.service_data()
            changes = {"user": data["person"], "role": data["role"], "start": data["start"], "end": data["end"],
                       "shift_type": data["shift_type"]}
            try:
                rosters.shift_update(shift, user=request.user, changes=changes)
            except InvalidInput as exc:
                apply_service_errors(form, exc.detail)
            except OpsCenterError as exc:
                messages.error(request, detail_text(exc.detail))
                status = exc.status_code
            else:
                messages.success(request, _("The shift was changed."))
                return redirect(_back_to(shift))
    return render(request, "duty/shift_form.html", {"form": form, "shift": shift, "roster": shift.roster},
                  status=status)


@duty_page
@require_POST
def shift_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervisor removes a shift of a draft roster before it starts."""
    _check_editor(request.user)
    shift = _shift_or_404(request.user, pk)
    try:
        rosters.shift_delete(shift, user=request.user)
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
        return redirect("duty:shift-edit", pk=pk)
    messages.success(request, _("The shift was removed."))
    return redirect(_back_to(shift))
