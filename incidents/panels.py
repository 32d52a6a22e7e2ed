"""Incident entries of the navigation bar and the home page."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import OPEN_STATES, Priority, State
from incidents.selectors import URGENT_FIRST, incident_list, incident_queue, list_rows, most_urgent_first
from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel

PANEL_ROWS = 8
REPORTERS = tuple(role for role in roles.ALL_ROLES if role != roles.AUDITOR)
# A panel shows its eight most urgent rows, and beyond them every open unclassified report, P1 and incident past
# its due time among the first PANEL_MOST: older, less urgent work never pushes a new P1, or a P2 overdue for
# assignment, off the home page.
PANEL_MOST = 25
NEVER_CUT = ("", Priority.P1)


def _rows(qs, queue: str = "") -> dict[str, Any]:  # noqa: ANN001
    """The panel's rows (`qs` ordered most urgent first) and the queue that lists them all."""
    now = timezone.now()
    rows = list(qs[:PANEL_MOST])
    shown = [row for n, row in enumerate(rows)
             if n < PANEL_ROWS or (row.state in OPEN_STATES and (
                 row.priority in NEVER_CUT or (row.next_due_at is not None and row.next_due_at <= now)))]
    return {"incidents": shown, "queue": queue, "more": len(rows) > len(shown)}


def _mine(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_queue(user=request.user, queue="mine").order_by(*URGENT_FIRST), "mine")


def _team(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_queue(user=request.user, queue="team").filter(assignee=None).order_by(*URGENT_FIRST),
                 "team")


def _to_dispatch(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_queue(user=request.user, queue="unassigned").order_by(*URGENT_FIRST), "unassigned")


def _reports(request: HttpRequest) -> dict[str, Any]:
    """Reports to approve: nothing runs against them any more, so the highest priority and the longest waiting
    come first."""
    return _rows(list_rows(incident_list(user=request.user)).filter(state=State.UNDER_REVIEW)
                 .order_by("priority", "report_submitted_at", "pk"))


def _major(request: HttpRequest) -> dict[str, Any]:
    return _rows(most_urgent_first(list_rows(incident_list(user=request.user)).filter(
        is_major=True, finished=False)), "open")


def _department(request: HttpRequest) -> dict[str, Any]:
    return _rows(most_urgent_first(list_rows(incident_list(user=request.user))), "all")


def register() -> None:
    register_nav(NavItem(_("Incidents"), "incidents:incident-list", order=10))
    # Everyone reports faults but the auditor, who only reads.
    register_nav(NavItem(_("Report a fault"), "incidents:incident-report", roles=REPORTERS, order=11))
    register_nav(NavItem(_("Incident summary"), "incidents:incident-summary",
                         roles=(roles.SUPERVISOR, roles.AUDITOR, *roles.IT_STAFF, roles.DEPARTMENT_USER), order=12))
    template = "incidents/panels/incident_rows.html"
    register_panel(HomePanel("incidents-mine", _("My incidents"), template, _mine,
                             roles=(*roles.ENGINEERS, roles.SUPERVISOR), order=10))
    register_panel(HomePanel("incidents-team", _("My team's unassigned incidents"), template, _team,
                             roles=roles.ENGINEERS, order=11))
    register_panel(HomePanel("incidents-dispatch", _("To classify and assign"), template, _to_dispatch,
                             roles=(roles.DUTY_OFFICER, roles.SUPERVISOR), order=12))
    register_panel(HomePanel("incidents-reports", _("Incident reports awaiting approval"), template, _reports,
                             roles=(roles.SUPERVISOR,), order=13))
    register_panel(HomePanel("incidents-major", _("Open major incidents"), template, _major,
                             roles=(roles.SUPERVISOR, roles.DUTY_OFFICER, roles.AUDITOR), order=14))
    register_panel(HomePanel("incidents-department", _("My department's incidents"), template, _department,
                             roles=(roles.DEPARTMENT_USER,), order=10))
