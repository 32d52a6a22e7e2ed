"""What changes tell people (the kinds their receivers send); the kernel renders each for its reader."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from changes.choices import RiskLevel, State
from changes.models import Change
from opscenter.core.notification_kinds import NotificationKind, declare, ticket_params, timestamp

LABELS = {"state": State, "risk": RiskLevel}


def _kind(event: str, label: Any, subject: Any) -> NotificationKind:
    return NotificationKind(event, label, subject, "%(title)s", labels=LABELS)


(OPINION_REQUESTED, SUBMITTED, AWAITING_APPROVAL, APPROVED, REJECTED, SENT_BACK, FAILED, COMPLETED, ROLLED_BACK,
 CLOSED) = declare(
    _kind("change.opinion_requested", _("Assessment opinion requested"), _("your assessment opinion is requested")),
    _kind("change.submitted", _("Change submitted"), _("awaits assessment")),
    _kind("change.awaiting_approval", _("Change to approve"), _("awaits your approval")),
    _kind("change.approved", _("Change approved"), _("approved")),
    _kind("change.rejected", _("Change rejected"), _("rejected")),
    _kind("change.sent_back", _("Change sent back"), _("sent back to you")),
    _kind("change.failed", _("Change failed"), _("FAILED during implementation")),
    _kind("change.completed", _("Change report to review"), _("report awaits your review")),
    _kind("change.rolled_back", _("Rolled-back change to review"), _("report awaits your review")),
    _kind("change.closed", _("Change closed"), _("closed")),
)


def change_params(change: Change, *, actor: Any = None) -> dict[str, Any]:
    """A change's facts for its notifications: number, title, state, risk, services, planned start and who
    acted; the old keys `change` and `id` stay for webhook receivers."""
    return ticket_params(
        change, change=change.number, risk=change.risk_level or "",
        service=", ".join(service.name for service in change.services.all()),
        starts_at=timestamp(change.planned_start), actor=str(actor) if actor is not None else "")
