"""Periodic tasks of incident management: thin wrappers of incidents.services."""

from celery import shared_task

from incidents.services import incident_announce_assignment_overdue


@shared_task(acks_late=True, ignore_result=True)
def sweep_incident_assignment() -> int:
    """Every minute: announce, once, the classified incidents past their assign-by time."""
    return incident_announce_assignment_overdue()
