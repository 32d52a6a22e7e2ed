"""Service levels and service quality (服務級別協議, 用戶滿意度調查)."""

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def duration_text(seconds: int | None) -> str:
    """Business time in words: "2 h 05 min", "45 min"; None (no target) as a dash."""
    if seconds is None:
        return "—"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


def incident_clocks_section(incident: Any, user: Any) -> dict[str, Any]:
    """The incident page's SLA block: the agreement its clocks count against (a warning when none applies), each
    clock's due time and remaining business time, and whether it is paused, stopped or breached. The IT center's
    internal team (OLA) clocks are not shown to a department."""
    from django.utils import timezone

    from sla.businesstime import Schedule
    from sla.choices import ClockKind, ClockState
    from sla.clocks import clock_status, incident_agreement_data, incident_clocks
    from sla.selectors import sees_all_departments

    internal = sees_all_departments(user)
    now = timezone.now()
    rows = []
    clocks = incident_clocks(incident)
    for clock in clocks:
        if clock.kind == ClockKind.OLA and not internal:
            continue
        status = clock_status(clock, now)
        # A running clock outside its calendar's service hours counts nothing until they start again.
        resumes = None
        if clock.state == ClockState.RUNNING and clock.calendar_id:
            resumes = Schedule.of(clock.calendar).resumes_at(now)
            resumes = resumes if resumes and resumes > now.replace(microsecond=0) else None
        rows.append({"status": status, "clock": clock, "target": duration_text(clock.target_seconds),
                     "elapsed": duration_text(status.elapsed_seconds),
                     "remaining": duration_text(status.remaining_seconds), "resumes": resumes})
    agreement = incident_agreement_data(incident, clocks)
    return {"clocks": rows, "agreement": agreement, "agreement_source": AGREEMENT_SOURCES.get(
        agreement["source"] if agreement else "", ""), "no_agreement": bool(clocks) and agreement is None}


# Why an agreement applies to an incident, as the page says it.
AGREEMENT_SOURCES = {
    "department": gettext_lazy("the incident's department"),
    "service_owner": gettext_lazy("the service owner's, the incident having no agreement of its own"),
    "default": gettext_lazy("the default agreement"),
}


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = gettext_lazy("Service levels and satisfaction")

    def ready(self) -> None:
        from opscenter.core.extensions import register_detail_section, register_extra_field
        from sla import panels, receivers  # noqa: F401  (connects the clocks' receivers)
        from sla.surveys import receivers as survey_receivers  # noqa: F401  (connects the surveys' receivers)
        from sla.surveys import tasks as survey_tasks  # noqa: F401  (registers the surveys' task with Celery)

        panels.register()
        from opscenter.core.caching import watch
        from sla.models import Agreement, BusinessCalendar

        watch(Agreement, BusinessCalendar)  # the agreements valid on a day are kept in the cache (clocks)

        register_detail_section("incidents.incident", "sla/incident_clocks.html", incident_clocks_section,
                                key="sla-clocks", order=10)

        def clocks_field() -> Any:
            from sla.api.clock_views import IncidentClocksField

            return IncidentClocksField()

        register_extra_field("incidents.incident", "sla_clocks", clocks_field)

        def agreement_field() -> Any:
            from sla.api.clock_views import IncidentAgreementField

            return IncidentAgreementField()

        register_extra_field("incidents.incident", "sla_agreement", agreement_field)
