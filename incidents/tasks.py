"""Periodic tasks of incident management: thin wrappers of incidents.services."""

from celery import shared_task

from incidents.services import incident_announce_assignment_overdue, incident_escalate_paging


@shared_task(acks_late=True, ignore_result=True)
def sweep_incident_assignment() -> int:
    """Every minute: announce, once, the classified incidents past their assign-by time."""
    return incident_announce_assignment_overdue()


@shared_task(acks_late=True, ignore_result=True)
def sweep_urgent_paging() -> int:
    """Every minute: page, once, the rest of the team of P1/P2 incidents the people on duty did not take up."""
    return incident_escalate_paging()
