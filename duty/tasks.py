"""Periodic tasks of duty: thin wrappers of its services."""

from celery import shared_task

from duty.reminders import send_shift_reminders as remind


# --- remind
@shared_task(acks_late=True, ignore_result=True)
def send_shift_reminders() -> int:
    """Every minute: remind people of their shifts at the policy's leads, once each."""
    return remind()
