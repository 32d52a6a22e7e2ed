"""Service levels and service quality (服務級別協議, 用戶滿意度調查)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels and satisfaction")

    def ready(self) -> None:
        from sla import receivers  # noqa: F401
