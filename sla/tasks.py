"""Periodic tasks of service levels: thin wrappers of sla.clocks."""

from celery import shared_task

from sla.clocks import sweep


@shared_task(acks_late=True, ignore_result=True)
def sweep_sla() -> int:
    """Every minute: announce, once each, the warnings and breaches that have come due."""
    return sweep()

