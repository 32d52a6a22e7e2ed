"""Change entries of the navigation bar and the home page."""

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changes.choices import CALENDAR_STATES, State
from changes.selectors import awaiting_my_decision, change_list
from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel

PANEL_ROWS = 8


def _rows(qs) -> dict[str, Any]:  # noqa: ANN001
    return {"changes": list(qs[:PANEL_ROWS])}


def _awaiting(request: HttpRequest) -> dict[str, Any]:
    return _rows(awaiting_my_decision(change_list(user=request.user), request.user).order_by("planned_start"))


def _scheduled(request: HttpRequest) -> dict[str, Any]:
    return _rows(change_list(user=request.user).filter(
        implementer=request.user, state__in=[State.APPROVED, State.SCHEDULED, State.IMPLEMENTING])
        .order_by("planned_start"))


def _this_week(request: HttpRequest) -> dict[str, Any]:
    today = timezone.localdate()
    start = timezone.make_aware(timezone.datetime.combine(today - timedelta(days=today.weekday()),
                                                          timezone.datetime.min.time()))
    return _rows(change_list(user=request.user).filter(
        state__in=CALENDAR_STATES, planned_start__lt=start + timedelta(days=7), planned_end__gt=start)
        .order_by("planned_start"))


def register() -> None:
    register_nav(NavItem(_("Changes"), "changes:change-list", order=20, sections=("/changes/",)))
    # The calendar and the CAB agenda are reached from the change list and the home panels: the bar stays short.
    template = "changes/panels/change_rows.html"
    register_panel(HomePanel("changes-awaiting", _("Changes awaiting my approval / vote"), template, _awaiting,
                             roles=(roles.CHANGE_APPROVER, roles.CAB_MEMBER), order=20))
    register_panel(HomePanel("changes-scheduled", _("My scheduled changes"), template, _scheduled,
                             roles=roles.ENGINEERS, order=21))
    register_panel(HomePanel("changes-this-week", _("Changes this week"), template, _this_week,
                             roles=(roles.SUPERVISOR,), order=22))
