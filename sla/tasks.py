"""Periodic tasks of service levels: thin wrappers of sla.clocks and sla.evaluations."""

from celery import shared_task

from sla import evaluations, metrics
from sla.clocks import sweep


@shared_task(acks_late=True, ignore_result=True)
def sweep_sla() -> int:
    """Every minute: announce, once each, the warnings and breaches that have come due."""
    return sweep()


@shared_task(acks_late=True, ignore_result=True)
def record_availability_breaches() -> int:
    """Daily: record, once each, last month's services below their availability target, to be explained
    before the month is published."""
    return evaluations.availability_breaches_record(
        department_id=None, month=metrics.add_months(metrics.current_month(), -1))
