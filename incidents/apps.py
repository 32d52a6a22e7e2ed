"""Incident management (事件管理流程, 故障處理制度)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incident management")

    def ready(self) -> None:
        from incidents import panels, receivers  # noqa: F401

        panels.register()
