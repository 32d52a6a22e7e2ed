"""Problem management (問題管理流程): problems identified from incidents, alarms and feedback, investigated,
analysed to a root cause (fishbone, 5 whys), solved by action items, verified over an observation window and
closed on an approved report; recurring-incident candidates; the known-error database."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProblemsConfig(AppConfig):
    name = "problems"
    verbose_name = _("Problem management")
