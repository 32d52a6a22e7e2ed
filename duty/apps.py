"""7×24 duty (值班制度): shift types, rotations, rosters and their shifts, coverage, swaps, attendance, the duty
log and handovers, reminders, who is on duty now."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "duty"
    verbose_name = _("7×24 duty")

    def ready(self) -> None:
        # --- attend
        from duty import panels

        panels.register_attend()
