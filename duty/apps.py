"""7×24 duty (值班制度): shift types, rotations, rosters and their shifts, coverage, swaps, attendance, the duty
log and handovers, reminders, who is on duty now."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "duty"
    verbose_name = _("7×24 duty")

    def ready(self) -> None:
        from duty import (  # noqa: F401  (receivers: notifications, phone reports)
            navigation,
            panels,
            receivers,
            reminders,
        )
        from duty.models import Roster, Shift
        from duty.paging import first_wave
        from opscenter.core.caching import watch
        from opscenter.core.extensions import register_paging_resolver

        watch(Shift, Roster)  # the shifts on duty in an hour are kept in the cache (paging.shifts_on_duty)

        panels.register()  # roster: the navigation entry and who is on duty now
        panels.register_swaps()
        panels.register_attend()
        # remind: the incidents' paging resolver (a P1/P2 pages who is on duty first), the reminders' entries
        register_paging_resolver(first_wave)
        navigation.register()
