"""Satisfaction surveys follow the incident: resolving it schedules its reporter's survey, in the same
transaction as the resolution. Connected by SlaConfig.ready()."""

from typing import Any

from django.dispatch import receiver

from incidents.choices import State
from incidents.models import Incident
from opscenter.core.signals import transition_performed
from sla.surveys.services import survey_schedule


@receiver(transition_performed, sender=Incident, dispatch_uid="sla.surveys.receivers.on_incident_resolved")
def on_incident_resolved(sender: Any, instance: Incident, transition: str, source: str, target: str,
                         log: Any, **kwargs: Any) -> None:
    """A first resolution (not a report sent back) schedules the survey; the service refuses a second one."""
    if target == State.RESOLVED and source != State.RESOLVED and transition != "return_report":
        survey_schedule(instance)
