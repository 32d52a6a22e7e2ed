"""Duty entries of the navigation bar and the home page."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import HomePanel, NavItem, register_nav, register_panel

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
