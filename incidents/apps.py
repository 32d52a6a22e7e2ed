"""Incident management (事件管理流程, 故障處理制度)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incident management")

    def ready(self) -> None:
        from incidents import panels, receivers  # noqa: F401
        from incidents.extensions import open_incidents_for_handover
        from opscenter.core.extensions import register_handover_items

        panels.register()
        from incidents.models import Category
        from opscenter.core.caching import watch

        watch(Category)  # the queue's category list is kept in the cache (forms.ReferenceChoiceField)
        register_handover_items("incidents", open_incidents_for_handover, label=_("Open incidents"), order=10)
