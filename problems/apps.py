"""Problem management (問題管理流程): problems identified from incidents, alarms and feedback, investigated,
analysed to a root cause (fishbone, 5 whys), solved by action items, verified over an observation window and
closed on an approved report; recurring-incident candidates; the known-error database."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProblemsConfig(AppConfig):
    name = "problems"
    verbose_name = _("Problem management")

    def ready(self) -> None:
        # --- the problem's core: receivers, panels, and what the incident and change pages show of problems ---
        from opscenter.core.extensions import register_detail_section, register_extra_field
        from problems import panels, receivers  # noqa: F401
        from problems.extensions import ChangeProblemsField, change_problems_section, incident_problems_section

        panels.register()
        from opscenter.core.caching import watch
        from problems.models import KnownError

        watch(KnownError)  # the known errors alike to a text are kept in the cache (known_errors)
        # --- recurring-incident candidates: a tab of the problem pages ---
        from problems import navigation

        navigation.register()
        register_detail_section("incidents.incident", "problems/incident_problems.html", incident_problems_section,
                                key="problems", order=30)
        register_detail_section("changes.change", "problems/change_problems.html", change_problems_section,
                                key="problems", order=10)
        register_extra_field("changes.change", "problems", ChangeProblemsField)

        # --- the known-error database: suggestions on incidents, the problem's known errors ---
        from opscenter.core.extensions import register_form_section
        from problems.known_error_views import (
            incident_known_errors_section,
            incident_report_suggestions,
            problem_known_errors_section,
        )

        register_detail_section("incidents.incident", "problems/known_error_suggestions.html",
                                incident_known_errors_section, key="known-errors", order=25)
        register_detail_section("problems.problem", "problems/known_error_section.html",
                                problem_known_errors_section, key="known-errors", order=10)
        register_form_section("incidents.report", "problems/known_error_report_panel.html",
                              incident_report_suggestions, key="known-errors")
