"""Who hears about what happens to an incident: outbox rows written inside the transition; a P1/P2 incident is
paged through its service (incidents.services.incident_page_urgent)."""

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse

from incidents import notifications
from incidents.choices import URGENT_PRIORITIES, Priority
from incidents.models import Incident, readers
from incidents.notifications import incident_params
from incidents.services import incident_page_urgent, supervisors
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.notification_kinds import NotificationKind
from opscenter.core.outbox import notify
from opscenter.core.selectors import role_members
from opscenter.core.signals import ticket_created, transition_performed


def _link(incident: Incident) -> str:
    return reverse("incidents:incident-detail", args=[incident.pk])


def _send(incident: Incident, kind: NotificationKind, recipients: list[User], actor: Any = None) -> None:
    notify(kind=kind, recipients=recipients, params=incident_params(incident, actor=actor), link=_link(incident))


@receiver(ticket_created, sender=Incident)
def incident_reported(sender: Any, instance: Incident, **kwargs: Any) -> None:
    """A new incident: the duty officers hear of it (they classify it)."""
    incident = instance
    duty = [user for user in role_members(roles.DUTY_OFFICER) if user.pk != incident.created_by_id]
    _send(incident, notifications.REPORTED, duty, actor=incident.created_by)


def raised_to_urgent(incident: Incident, transition: str) -> bool:
    """Classified P1/P2, or reclassified to P1/P2 from a lower priority (incidents.services leaves the one it
    replaced as `previous_priority`): the responsible team is paged."""
    if incident.priority not in URGENT_PRIORITIES:
        return False
    if transition == "classify":
        return True
    if transition != "reclassify":
        return False
    previous, order = getattr(incident, "previous_priority", ""), list(Priority.values)
    return previous not in order or order.index(incident.priority) < order.index(previous)


@receiver(transition_performed, sender=Incident)
def on_incident_transition(sender: Any, instance: Incident, transition: str, actor: Any, **kwargs: Any) -> None:
    incident = instance
    if raised_to_urgent(incident, transition):
        incident_page_urgent(incident, actor=actor)
    elif transition in ("assign", "reassign"):
        recipients = [incident.assignee] if incident.assignee_id else (
            list(readers(incident, incident.team.members.filter(is_active=True))) if incident.team_id else [])
        _send(incident, notifications.ASSIGNED, recipients, actor)
    elif transition == "declare_major":
        leaders = list(User.objects.filter(Q(groups__name=settings.INCIDENT_LEADERSHIP_GROUP)
                                           | Q(groups__name=roles.SUPERVISOR), is_active=True).distinct())
        _send(incident, notifications.MAJOR, leaders, actor)
    elif transition == "submit_report":
        _send(incident, notifications.REPORT_SUBMITTED, supervisors(), actor)
    elif transition == "return_report":
        _send(incident, notifications.REPORT_RETURNED, [u for u in [incident.assignee] if u], actor)
    elif transition in ("confirm_recovery", "resolve_with_parent") and incident.state == "resolved":
        _send(incident, notifications.RESOLVED, [u for u in [incident.caller] if u and u.pk != actor.pk], actor)
    elif transition == "approve_report":
        _send(incident, notifications.CLOSED, [u for u in [incident.caller, incident.assignee] if u], actor)
