"""7×24 duty (值班制度): shift types, rotations, rosters and their shifts, coverage, swaps, attendance, the duty
log and handovers, reminders, who is on duty now."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "duty"
    verbose_name = _("7×24 duty")

    def ready(self) -> None:
        from duty import panels, receivers  # noqa: F401  (receivers: the swaps' notifications)

        panels.register()  # roster: the navigation entry and who is on duty now
        panels.register_swaps()
        panels.register_attend()
