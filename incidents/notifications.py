"""What incidents tell people (the kinds their receivers and services send); the kernel renders each for its reader."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from incidents.choices import State
from incidents.models import Incident
from opscenter.core.notification_kinds import NotificationKind, declare, ticket_params, timestamp

LABELS = {"state": State}

REPORTED, URGENT, ASSIGNED, MAJOR, REPORT_SUBMITTED, REPORT_RETURNED, RESOLVED, CLOSED, ASSIGNMENT_OVERDUE = declare(
    NotificationKind("incident.reported", _("Incident reported"), _("reported: %(title)s"), labels=LABELS),
    NotificationKind("incident.urgent", _("Urgent incident"), _("%(priority)s incident: %(title)s"),
                     labels=LABELS),
    NotificationKind("incident.assigned", _("Incident assigned"), _("assigned to you: %(title)s"), labels=LABELS),
    NotificationKind("incident.major", _("Major incident"), _("declared a MAJOR incident: %(title)s"),
                     labels=LABELS),
    NotificationKind("incident.report_submitted", _("Incident report to approve"), _("report awaits your approval"),
                     "%(title)s", labels=LABELS),
    NotificationKind("incident.report_returned", _("Incident report returned"), _("report returned: %(title)s"),
                     labels=LABELS),
    NotificationKind("incident.resolved", _("Incident resolved"), _("resolved: %(title)s"), labels=LABELS),
    NotificationKind("incident.closed", _("Incident closed"), _("closed: %(title)s"), labels=LABELS),
    NotificationKind("incident.assignment_overdue", _("Incident not assigned in time"),
                     _("%(number)s not assigned in time (%(priority)s): %(title)s"), labels=LABELS),
)

# The second wave of an urgent page: nobody of those on duty took the incident up in time.
(URGENT_ESCALATED,) = declare(
    NotificationKind("incident.urgent_escalated", _("Urgent incident not taken up"),
                     _("%(priority)s incident not taken up in time: %(title)s"), labels=LABELS),
)


def incident_params(incident: Incident, *, actor: Any = None, **extra: Any) -> dict[str, Any]:
    """An incident's facts for its notifications: number, title, state, priority, service, assign-by time
    (while unassigned) and who acted; the old keys `incident` and `id` stay for webhook receivers."""
    due = incident.assign_due_at if incident.state == State.CLASSIFIED else None
    facts = {"incident": incident.number, "priority": incident.priority or "",
             "service": str(incident.service) if incident.service_id else "", "due_at": timestamp(due),
             "actor": str(actor) if actor is not None else ""}
    return ticket_params(incident, **{**facts, **extra})
