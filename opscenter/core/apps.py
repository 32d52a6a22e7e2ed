"""App configuration of the kernel."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "opscenter.core"
    label = "core"
    verbose_name = _("Organisation and configuration")

    def ready(self) -> None:
        from opscenter.core import access, notification_kinds, panels, receivers  # noqa: F401

        panels.register()
        access.connect()
        # Reference lists kept in the cache (forms.ReferenceChoiceField): every process renews them.
        from opscenter.core.caching import watch
        from opscenter.core.models import Service, Team

        watch(Service, Team)
        notification_kinds.discover()
