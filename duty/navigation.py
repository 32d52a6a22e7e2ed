"""The tabs every duty page shows under its heading (the navigation bar keeps "Duty" and "My duty" only, one line at
1280 px with every role's entries): rosters, swaps, my duty, the duty log, handovers, my shifts' calendar, reports."""

from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import NavItem, register_tab

READERS = (*roles.IT_STAFF, roles.AUDITOR)
ON_SHIFT_ROLES = (roles.DUTY_OFFICER, *roles.ENGINEERS, roles.SUPERVISOR)

TABS = (
    NavItem(_("Rosters"), "duty:roster-list", roles=READERS, order=10, sections=("/duty/rosters/", "/duty/shifts/")),
    NavItem(_("Shift swaps"), "duty:swaprequest-list", roles=READERS, order=20),
    NavItem(_("My duty"), "duty:my-duty", roles=ON_SHIFT_ROLES, order=30),
    NavItem(_("Duty log"), "duty:log-list", roles=READERS, order=40),
    NavItem(_("Handovers"), "duty:handover-list", roles=READERS, order=50),
    NavItem(_("My shifts"), "duty:calendar", roles=roles.IT_STAFF, order=60),
    NavItem(_("Duty report"), "duty:report", roles=(roles.SUPERVISOR, roles.AUDITOR), order=70),
)


def register() -> None:
    for tab in TABS:
        register_tab("/duty/", tab)
