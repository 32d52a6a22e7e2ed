"""Periodic tasks of duty: thin wrappers of its services."""

from celery import shared_task

# --- swap (調班) -----------------------------------------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def expire_shift_swaps() -> int:
    """Every minute: swaps still undecided when their earliest shift starts expire, once each."""
    from duty.swaps import swaps_expire

    return len(swaps_expire())
