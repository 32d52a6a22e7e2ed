"""Incident entries of the navigation bar and the home page."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from incidents.choices import OPEN_STATES, State
from incidents.selectors import incident_list, incident_queue
from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel

PANEL_ROWS = 8


def _rows(qs) -> dict[str, Any]:  # noqa: ANN001
    return {"incidents": list(qs[:PANEL_ROWS])}


def _mine(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_queue(user=request.user, queue="mine").order_by("priority", "created_at"))


def _team(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_queue(user=request.user, queue="team").filter(assignee=None).order_by("priority"))


def _to_dispatch(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_queue(user=request.user, queue="unassigned").order_by("created_at"))


def _reports(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_list(user=request.user).filter(state=State.UNDER_REVIEW).order_by("report_submitted_at"))


def _major(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_list(user=request.user).filter(is_major=True, state__in=OPEN_STATES))


def _department(request: HttpRequest) -> dict[str, Any]:
    return _rows(incident_list(user=request.user).order_by("-created_at"))


def register() -> None:
    register_nav(NavItem(_("Incidents"), "incidents:incident-list", order=10))
    register_nav(NavItem(_("Report a fault"), "incidents:incident-report", order=11))
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
