"""Navigation entries of duty's calendar-feed and report pages."""

from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.navigation import NavItem, register_nav


def register() -> None:
    register_nav(NavItem(_("Duty report"), "duty:report", roles=(roles.SUPERVISOR, roles.AUDITOR), order=33))
    register_nav(NavItem(_("My shifts"), "duty:calendar", roles=roles.IT_STAFF, order=32))
