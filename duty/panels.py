"""Duty's navigation entry and home-page panels."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from duty.models import DutyPolicy
from duty.selectors import may_read_duty, on_duty_board
from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel
from opscenter.core.roles import user_team_ids

READERS = (*roles.IT_STAFF, roles.AUDITOR)

# --- roster ---

PANEL_TEAMS = 6  # teams in the home panel (the reader's own first); the rest on the rosters page


def _on_duty(request: HttpRequest) -> dict[str, Any]:
    board = on_duty_board(first=user_team_ids(request.user))
    return {"board": board[:PANEL_TEAMS], "more": max(0, len(board) - PANEL_TEAMS),
            "zone": DutyPolicy.current().zone, "may_open": may_read_duty(request.user)}


def register() -> None:
    register_nav(NavItem(_("Duty"), "duty:roster-list", roles=READERS, order=30, sections=("/duty/",)))
    # Everyone's home page: a department user sees whom the center has on duty (the rosters stay IT's).
    register_panel(HomePanel("on-duty", _("On duty now"), "duty/panels/on_duty.html", _on_duty, order=5))

# --- end roster ---


# --- swap (調班) -----------------------------------------------------------------------------------------

SWAP_PANEL_ROWS = 8


def _swaps_waiting(request: HttpRequest) -> dict[str, Any]:
    from duty.models import DutyPolicy
    from duty.swaps import waiting_for

    rows = list(waiting_for(request.user).order_by("expires_at", "pk")[:SWAP_PANEL_ROWS + 1])
    return {"swaps": rows[:SWAP_PANEL_ROWS], "more": len(rows) > SWAP_PANEL_ROWS, "zone": DutyPolicy.current().zone}


def register_swaps() -> None:
    register_panel(HomePanel("duty-swaps-waiting", _("Swaps waiting for me"), "duty/panels/swaps_waiting.html",
                             _swaps_waiting, roles=(*roles.ENGINEERS, roles.DUTY_OFFICER, roles.SUPERVISOR),
                             order=20))

# --- attend: My duty, the duty log, handovers waiting for acknowledgement ------------------------------------------

# Who may be on a shift (the roles a shift is staffed in).
ON_SHIFT_ROLES = (roles.DUTY_OFFICER, *roles.ENGINEERS, roles.SUPERVISOR)
ATTEND_SECTIONS = ("/duty/my/", "/duty/log/", "/duty/handovers/")
PANEL_ROWS = 8


def _handovers_waiting(request: HttpRequest) -> dict[str, Any]:
    from duty.handovers import handovers_waiting

    rows = list(handovers_waiting(user=request.user)[:PANEL_ROWS + 1])
    return {"handovers": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS}


def register_attend() -> None:
    register_nav(NavItem(_("My duty"), "duty:my-duty", roles=ON_SHIFT_ROLES, order=31, sections=ATTEND_SECTIONS))
    # Auditors hold no shift: they read the duty log and the handovers.
    register_nav(NavItem(_("Duty log"), "duty:log-list", roles=(roles.AUDITOR,), order=32, sections=ATTEND_SECTIONS))
    register_panel(HomePanel("duty-handovers-waiting", _("Handovers waiting for acknowledgement"),
                             "duty/panels/handovers_waiting.html", _handovers_waiting, roles=(roles.SUPERVISOR,),
                             order=30))
