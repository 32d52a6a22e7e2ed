"""Change management (變更管理制度, 變更管理流程)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Change management")

    def ready(self) -> None:
        from changes import panels, receivers  # noqa: F401

        panels.register()
