"""Periodic tasks of incident management: the sweep for classified incidents left unassigned."""

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.choices import State
from incidents.models import Incident
from incidents.receivers import supervisors
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.outbox import notify

SWEEP_BATCH = 200


def assignment_overdue(now: datetime) -> QuerySet[Incident]:
    """Classified incidents past their assign-by time, still without anyone, not yet announced."""
    return Incident.objects.filter(
        state=State.CLASSIFIED, assign_due_at__lte=now, assignee__isnull=True,
        assign_overdue_notified_at__isnull=True,
    )


def notify_assignment_overdue(*, now: datetime | None = None) -> int:
    """Tell the duty officers and the supervisors, once per incident, which classified incidents are
    past their assign-by time; returns how many incidents were announced.

    Each batch is claimed with a conditional UPDATE (…WHERE assign_overdue_notified_at IS NULL) on rows
    locked in the same transaction that writes the outbox rows, so a sweep that runs twice, late, or
    beside another sweep announces each incident exactly once.
    """
    now = now or timezone.now()
    announced = 0
    while True:
        with transaction.atomic():
            ids = list(assignment_overdue(now).select_for_update(skip_locked=True)
                       .order_by("assign_due_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
            if not ids:
                return announced
            claimed = Incident.objects.filter(pk__in=ids, assign_overdue_notified_at__isnull=True).update(
                assign_overdue_notified_at=now)
            if claimed != len(ids):  # another sweep took some between our read and our write: let it
                transaction.set_rollback(True)
                continue
            recipients = [*User.objects.filter(groups__name=roles.DUTY_OFFICER, is_active=True), *supervisors()]
            for incident in Incident.objects.filter(pk__in=ids).order_by("assign_due_at", "pk"):
                notify(
                    event="incident.assignment_overdue", recipients=recipients,
                    subject=_("%(number)s not assigned in time (%(priority)s): %(title)s") % {
                        "number": incident.number, "priority": incident.priority, "title": incident.title},
                    body=incident.title, link=reverse("incidents:incident-detail", args=[incident.pk]),
                    payload={"incident": incident.number, "id": incident.pk, "state": incident.state,
                             "priority": incident.priority, "assign_due_at": incident.assign_due_at.isoformat()},
                )
            announced += len(ids)


@shared_task(acks_late=True, ignore_result=True)
def sweep_incident_assignment() -> int:
    """Every minute: announce, once, the classified incidents past their assign-by time."""
    return notify_assignment_overdue()
