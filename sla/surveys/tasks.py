"""Periodic task of satisfaction surveys: a thin wrapper of sla.surveys.services (registered with Celery by
SlaConfig.ready())."""

from celery import shared_task

from sla.surveys.services import close_due_campaigns, send_due_surveys


@shared_task(acks_late=True, ignore_result=True)
def send_surveys() -> int:
    """Every few minutes: send, once each, the surveys whose delay has passed; mark expired links and close
    campaigns past their closing time."""
    sent = send_due_surveys()
    close_due_campaigns()
    return sent
