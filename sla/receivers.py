"""Clocks follow the incident: every transition and edit that matters to a service level moves them, in the
same transaction as the incident; and they follow their calendar: an edited calendar recomputes its open clocks."""

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from incidents.choices import State
from incidents.models import Incident
from opscenter.core.signals import ticket_created, ticket_updated, transition_performed
from sla import businesstime, clocks
from sla.choices import ClockKind
from sla.models import BusinessCalendar, CalendarException, WorkingInterval


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
    elif transition == "reclassify":
        clocks.retarget(incident, actor=actor, reason=_("Reclassified %(priority)s: %(reason)s") % {
            "priority": incident.priority, "reason": log.comment}, at=at)
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
    elif "service" in fields and not instance.department_id:
        # Without a department, the agreement is the service owner's.
        clocks.retarget(instance, actor=actor, reason=_("Service changed"))


# --- Calendar edits -------------------------------------------------------------------------------------------


def _calendar_of(instance: WorkingInterval | CalendarException) -> BusinessCalendar | None:
    try:
        return instance.calendar
    except BusinessCalendar.DoesNotExist:  # deleted with its calendar
        return None


@receiver(pre_save, sender=BusinessCalendar)
def on_calendar_saving(sender: Any, instance: BusinessCalendar, raw: bool = False, **kwargs: Any) -> None:
    """The version is the database's: a copy loaded before another edit must not write an older one back."""
    if instance.pk and not raw:
        current = BusinessCalendar.objects.filter(pk=instance.pk).values_list("version", flat=True).first()
        if current is not None:
            instance.version = current


@receiver(post_save, sender=BusinessCalendar)
def on_calendar_saved(sender: Any, instance: BusinessCalendar, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        clocks.calendar_edited(instance)


@receiver(post_delete, sender=BusinessCalendar)
def on_calendar_deleted(sender: Any, instance: BusinessCalendar, **kwargs: Any) -> None:
    businesstime.clear_cache()  # its primary key may come back (SQLite reuses them after a rollback)


@receiver(post_save, sender=WorkingInterval)
@receiver(post_save, sender=CalendarException)
def on_calendar_part_saved(sender: Any, instance: WorkingInterval | CalendarException, raw: bool = False,
                           **kwargs: Any) -> None:
    if not raw:
        clocks.calendar_edited(_calendar_of(instance))


@receiver(post_delete, sender=WorkingInterval)
@receiver(post_delete, sender=CalendarException)
def on_calendar_part_deleted(sender: Any, instance: WorkingInterval | CalendarException, **kwargs: Any) -> None:
    clocks.calendar_edited(_calendar_of(instance))
