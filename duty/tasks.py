"""Periodic tasks of duty: thin wrappers of its services."""

from celery import shared_task

from duty.attendance import shifts_mark_absent
from duty.reminders import send_shift_reminders as remind

# --- swap (調班) -----------------------------------------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def expire_shift_swaps() -> int:
    """Every minute: swaps still undecided when their earliest shift starts expire, once each."""
    from duty.swaps import swaps_expire

    return len(swaps_expire())
# --- attend --------------------------------------------------------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def sweep_absences() -> int:
    """Every minute: mark absent, once, the shifts not checked in by the policy's limit, and tell the supervisors
    and the backup."""
    return shifts_mark_absent()


# --- remind
@shared_task(acks_late=True, ignore_result=True)
def send_shift_reminders() -> int:
    """Every minute: remind people of their shifts at the policy's leads, once each."""
    return remind()
