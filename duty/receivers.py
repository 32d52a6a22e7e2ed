"""What duty does when other processes act (signal wiring only)."""

from typing import Any

from django.dispatch import receiver

from duty.phone_reports import record_phone_report
from incidents.choices import Channel
from incidents.models import Incident
from opscenter.core.signals import ticket_created


# --- remind: a fault reported by phone goes into the duty log of the duty officer's shift
@receiver(ticket_created, sender=Incident)
def incident_reported(sender: Any, instance: Incident, **kwargs: Any) -> None:
    if instance.channel == Channel.PHONE:
        record_phone_report(instance)
