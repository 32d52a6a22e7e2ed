"""Duty entries of the navigation bar and the home page."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import HomePanel, register_panel

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
