"""7×24 duty (值班制度): shift types, rotations, rosters and their shifts, coverage, swaps, attendance, the duty
log and handovers, reminders, who is on duty now."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "duty"
    verbose_name = _("7×24 duty")

    def ready(self) -> None:
        # --- remind: the reminder's notification kind, the incidents' paging resolver and phone reports
        from duty import navigation, receivers, reminders  # noqa: F401
        from duty.paging import first_wave
        from opscenter.core.extensions import register_paging_resolver

        register_paging_resolver(first_wave)
        navigation.register()
