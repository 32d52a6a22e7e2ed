"""Scheduling rules: approval by risk level, freeze windows, maintenance windows and conflicts."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changes.choices import CALENDAR_STATES, ApprovalMode, ChangeType, RiskLevel
from opscenter.core.exceptions import ConditionFailed, InvalidInput

CONFLICT_LABELS = {
    "same_service": gettext_lazy("same service"),
    "same_ci": gettext_lazy("same configuration item"),
    "ci_of_same_service": gettext_lazy("a configuration item of the same service"),
    "same_implementer": gettext_lazy("same implementer"),
}


def approval_rule_for(level: str):  # noqa: ANN201
    """The admin-configured rule of a risk level; without one, a single change approver (joint review for
    high and major)."""
    from changes.models import ApprovalRule

    rule = ApprovalRule.objects.filter(risk_level=level).first()
    if rule is None:
        joint = level in (RiskLevel.HIGH, RiskLevel.MAJOR)
        rule = ApprovalRule(risk_level=level, mode=ApprovalMode.JOINT if joint else ApprovalMode.APPROVER)
    return rule


@dataclass
class Conflict:
    change: object
    reasons: list[str]

    def as_dict(self) -> dict:
        c = self.change
        return {"id": c.pk, "number": c.number, "title": c.title, "state": c.state,
                "planned_start": c.planned_start.isoformat(), "planned_end": c.planned_end.isoformat(),
                "reasons": self.reasons}

    @property
    def reason_labels(self) -> list[str]:
        return [str(CONFLICT_LABELS[r]) for r in self.reasons]


@dataclass
class ScheduleCheck:
    change: object
    freezes: list = field(default_factory=list)
    maintenance_warnings: list = field(default_factory=list)  # services with windows the change lies outside
    conflicts: list[Conflict] = field(default_factory=list)

    def enforce(self, *, acknowledge_conflicts: bool) -> None:
        """Refuse what the policy refuses: a window that has passed, a freeze (unless emergency), and
        conflicts not acknowledged."""
        change = self.change
        if change.planned_start is None or change.planned_end is None:
            raise InvalidInput({"planned_start": [_("The change has no planned window.")]})
        if change.planned_end <= timezone.now():
            raise InvalidInput({"planned_start": [_("The planned window has passed; plan a new one.")]},
                               code="window_passed")
        if self.freezes and change.change_type != ChangeType.EMERGENCY:
            raise InvalidInput({"planned_start": [_("The window falls in a freeze window: %(names)s. Only an "
                                                    "emergency change may be scheduled there.") % {
                "names": ", ".join(str(f) for f in self.freezes)}]}, code="freeze_window")
        if self.conflicts and not acknowledge_conflicts:
            raise ConditionFailed(
                _("The window conflicts with %(count)d other change(s); acknowledge the conflicts to schedule.")
                % {"count": len(self.conflicts)},
                code="conflicts_not_acknowledged", extra={"conflicts": [c.as_dict() for c in self.conflicts]})


def freezes_over(start: datetime, end: datetime, service_ids: set[int]):  # noqa: ANN201
    """Freeze windows overlapping the period: global ones and those on any of the services."""
    from changes.models import FreezeWindow

    windows = FreezeWindow.objects.filter(starts_at__lt=end, ends_at__gt=start).prefetch_related("services")
    return [w for w in windows if not w.services.all() or {s.pk for s in w.services.all()} & service_ids]


def affected_service_ids(change) -> set[int]:  # noqa: ANN001
    """The services named, and those the named CIs support."""
    from opscenter.core.models import ConfigurationItem

    ids = set(change.services.values_list("pk", flat=True))
    ids |= set(ConfigurationItem.services.through.objects.filter(
        configurationitem_id__in=change.configuration_items.values("pk")).values_list("service_id", flat=True))
    return ids


def maintenance_warnings(change, service_ids: set[int]) -> list:  # noqa: ANN001
    """Services that have maintenance windows none of which contains the planned window."""
    from changes.models import MaintenanceWindow

    by_service: dict = {}
    for window in MaintenanceWindow.objects.filter(service_id__in=service_ids, is_active=True).select_related(
            "service"):
        by_service.setdefault(window.service, []).append(window)
    return [service for service, windows in by_service.items()
            if not any(w.covers(change.planned_start, change.planned_end) for w in windows)]


def find_conflicts(change) -> list[Conflict]:  # noqa: ANN001
    """Approved, scheduled or in-progress changes overlapping in time on the same service or CI, on a CI of
    the same service, or with the same implementer."""
    from changes.models import Change

    if not (change.planned_start and change.planned_end):
        return []
    my_services = set(change.services.values_list("pk", flat=True))
    my_cis = set(change.configuration_items.values_list("pk", flat=True))
    my_ci_services = affected_service_ids(change) - my_services
    others = (Change.objects.filter(state__in=CALENDAR_STATES, planned_start__lt=change.planned_end,
                                    planned_end__gt=change.planned_start)
              .exclude(pk=change.pk).prefetch_related("services", "configuration_items__services")
              .order_by("planned_start", "pk"))
    conflicts = []
    for other in others:
        services = {s.pk for s in other.services.all()}
        cis = {c.pk for c in other.configuration_items.all()}
        ci_services = {s.pk for c in other.configuration_items.all() for s in c.services.all()}
        reasons = []
        if my_services & services:
            reasons.append("same_service")
        if my_cis & cis:
            reasons.append("same_ci")
        if (my_services & ci_services) or (my_ci_services & (services | ci_services)):
            reasons.append("ci_of_same_service")
        if change.implementer_id and change.implementer_id == other.implementer_id:
            reasons.append("same_implementer")
        if reasons:
            conflicts.append(Conflict(other, reasons))
    return conflicts


def schedule_check(change) -> ScheduleCheck:  # noqa: ANN001
    """Everything the scheduler must see: freezes, maintenance-window warnings and conflicts."""
    if not (change.planned_start and change.planned_end):
        return ScheduleCheck(change)
    service_ids = affected_service_ids(change)
    return ScheduleCheck(
        change,
        freezes=freezes_over(change.planned_start, change.planned_end, service_ids),
        maintenance_warnings=maintenance_warnings(change, service_ids),
        conflicts=find_conflicts(change),
    )


def calendar_freezes(start: datetime, end: datetime, service_id: int | None = None):  # noqa: ANN201
    from changes.models import FreezeWindow

    qs = FreezeWindow.objects.filter(starts_at__lt=end, ends_at__gt=start).prefetch_related("services")
    if service_id:
        qs = qs.filter(Q(services__isnull=True) | Q(services=service_id)).distinct()
    return qs.order_by("starts_at")
