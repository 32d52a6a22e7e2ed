"""Clocks follow the incident: every transition and edit that matters to a service level moves them, in the
same transaction as the incident."""

from typing import Any

from django.dispatch import receiver
from django.utils.translation import gettext as _

from incidents.choices import State
from incidents.models import Incident
from opscenter.core.signals import ticket_created, ticket_updated, transition_performed
from sla import clocks
from sla.choices import ClockKind


@receiver(ticket_created, sender=Incident)
def on_incident_reported(sender: Any, instance: Incident, actor: Any, **kwargs: Any) -> None:
    clocks.start_clocks(instance, actor=actor)


@receiver(transition_performed, sender=Incident)
def on_incident_transition(sender: Any, instance: Incident, transition: str, source: str, target: str,
                           actor: Any, log: Any, **kwargs: Any) -> None:
    incident, at = instance, log.created_at
    reason = log.comment or transition.replace("_", " ")
    if transition == "classify":
        clocks.retarget(incident, actor=actor, reason=_("Classified %(priority)s") % {
            "priority": incident.priority}, at=at)
    elif transition in ("assign", "reassign"):
        clocks.switch_team(incident, actor=actor, at=at)
    if transition == "start_diagnosis":
        clocks.stop(incident, ClockKind.RESPONSE, actor=actor, reason=_("First response"), at=at)
    elif transition == "hold":
        clocks.pause(incident, actor=actor, reason=incident.get_hold_reason_display() or reason, at=at)
    elif transition == "resume":
        clocks.resume(incident, actor=actor, reason=reason, at=at)
    elif target == State.RESOLVED and source != State.RESOLVED and transition != "return_report":
        clocks.stop(incident, actor=actor, reason=_("Resolved"), at=at)
    elif transition == "reopen":
        clocks.resume(incident, actor=actor, reason=log.comment or _("Reopened"),
                      kinds=(ClockKind.RESOLUTION, ClockKind.OLA), at=at)
    elif target in (State.CANCELLED, State.CLOSED):
        clocks.stop(incident, actor=actor, reason=_("Cancelled") if target == State.CANCELLED else _("Closed"),
                    at=at)


@receiver(ticket_updated, sender=Incident)
def on_incident_edited(sender: Any, instance: Incident, fields: set[str], actor: Any, **kwargs: Any) -> None:
    if "department" in fields:
        clocks.retarget(instance, actor=actor, reason=_("Department changed"))
