"""Change management (變更管理制度, 變更管理流程)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Change management")

    def ready(self) -> None:
        from changes import panels, receivers  # noqa: F401
        from changes.extensions import changes_in_progress_for_handover, incident_changes_section
        from opscenter.core.extensions import register_detail_section, register_handover_items

        panels.register()
        register_detail_section("incidents.incident", "changes/incident_changes.html", incident_changes_section,
                                key="changes", order=20)
        register_handover_items("changes", changes_in_progress_for_handover, label=_("Changes in progress"),
                                order=20)
