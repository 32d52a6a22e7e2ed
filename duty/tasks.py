"""Periodic tasks of duty: thin wrappers of its services."""

from celery import shared_task

# --- attend --------------------------------------------------------------------------------------------------------
from duty.attendance import shifts_mark_absent


@shared_task(acks_late=True, ignore_result=True)
def sweep_absences() -> int:
    """Every minute: mark absent, once, the shifts not checked in by the policy's limit, and tell the supervisors
    and the backup."""
    return shifts_mark_absent()
