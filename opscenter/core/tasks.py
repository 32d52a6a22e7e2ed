"""Kernel tasks: deliver outbox rows, sweep for anything left undelivered, prepare ticket-number sequences."""

from celery import shared_task
from django.utils import timezone

from opscenter.core import outbox, services


@shared_task(acks_late=True, ignore_result=True)
def deliver_notifications(ids: list[int]) -> int:
    """Deliver the given outbox rows; rows already delivered or claimed are skipped."""
    return sum(1 for pk in ids if outbox.deliver(pk))


@shared_task(acks_late=True, ignore_result=True)
def sweep_outbox() -> int:
    """Deliver due and stale rows: what a lost task or a broker outage left behind."""
    return outbox.sweep()


@shared_task(acks_late=True, ignore_result=True)
def prepare_ticket_sequences() -> list[str]:
    """Make this year's and next year's ticket-number sequences where missing, well before a report needs them."""
    year = timezone.localdate().year
    return services.ticket_sequences_prepare(years=[year, year + 1])
