"""Kernel tasks: deliver outbox rows and sweep for anything left undelivered."""

from celery import shared_task

from opscenter.core import outbox


@shared_task(acks_late=True, ignore_result=True)
def deliver_notifications(ids: list[int]) -> int:
    """Deliver the given outbox rows; rows already delivered or claimed are skipped."""
    return sum(1 for pk in ids if outbox.deliver(pk))


@shared_task(acks_late=True, ignore_result=True)
def sweep_outbox() -> int:
    """Deliver due and stale rows: what a lost task or a broker outage left behind."""
    return outbox.sweep()
