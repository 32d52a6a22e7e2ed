"""Who hears about what happens to an incident: outbox rows written inside the transition."""

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from incidents.choices import URGENT_PRIORITIES, Priority
from incidents.models import Incident, readers
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.outbox import notify
from opscenter.core.selectors import role_members
from opscenter.core.signals import ticket_created, transition_performed


def supervisors() -> list[User]:
    return role_members(roles.SUPERVISOR)


def responsible_team(incident: Incident):  # noqa: ANN201
    """The assigned team, else the category's default team, else the service's support team."""
    if incident.team_id:
        return incident.team
    if incident.category_id and incident.category.default_team_id:
        return incident.category.default_team
    if incident.service_id and incident.service.support_team_id:
        return incident.service.support_team
    return None


def _link(incident: Incident) -> str:
    return reverse("incidents:incident-detail", args=[incident.pk])


def _send(incident: Incident, event: str, recipients: list[User], subject: str) -> None:
    notify(event=event, recipients=recipients, subject=f"{incident.number} {subject}"[:200],
           body=incident.title, link=_link(incident),
           payload={"incident": incident.number, "id": incident.pk, "state": incident.state,
                    "priority": incident.priority})


@receiver(ticket_created, sender=Incident)
def incident_reported(sender: Any, instance: Incident, **kwargs: Any) -> None:
    """A new incident: the duty officers hear of it (they classify it)."""
    incident = instance
    duty = [user for user in role_members(roles.DUTY_OFFICER) if user.pk != incident.created_by_id]
    _send(incident, "incident.reported", duty, _("reported: %(title)s") % {"title": incident.title})


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


def _page(incident: Incident) -> None:
    """Page a P1/P2 incident: the members of the responsible team who may see it, and the supervisors."""
    team = responsible_team(incident)
    members = list(readers(incident, team.members.filter(is_active=True))) if team else []
    _send(incident, "incident.urgent", [*members, *supervisors()],
          _("%(priority)s incident: %(title)s") % {"priority": incident.priority, "title": incident.title})


@receiver(transition_performed, sender=Incident)
def on_incident_transition(sender: Any, instance: Incident, transition: str, actor: Any, **kwargs: Any) -> None:
    incident = instance
    if raised_to_urgent(incident, transition):
        _page(incident)
    elif transition in ("assign", "reassign"):
        recipients = [incident.assignee] if incident.assignee_id else (
            list(readers(incident, incident.team.members.filter(is_active=True))) if incident.team_id else [])
        _send(incident, "incident.assigned", recipients, _("assigned to you: %(title)s") % {"title": incident.title})
    elif transition == "declare_major":
        leaders = list(User.objects.filter(Q(groups__name=settings.INCIDENT_LEADERSHIP_GROUP)
                                           | Q(groups__name=roles.SUPERVISOR), is_active=True).distinct())
        _send(incident, "incident.major", leaders,
              _("declared a MAJOR incident: %(title)s") % {"title": incident.title})
    elif transition == "submit_report":
        _send(incident, "incident.report_submitted", supervisors(), _("report awaits your approval"))
    elif transition == "return_report":
        _send(incident, "incident.report_returned", [u for u in [incident.assignee] if u],
              _("report returned: %(title)s") % {"title": incident.title})
    elif transition in ("confirm_recovery", "resolve_with_parent") and incident.state == "resolved":
        _send(incident, "incident.resolved", [u for u in [incident.caller] if u and u.pk != actor.pk],
              _("resolved: %(title)s") % {"title": incident.title})
    elif transition == "approve_report":
        _send(incident, "incident.closed", [u for u in [incident.caller, incident.assignee] if u],
              _("closed: %(title)s") % {"title": incident.title})
