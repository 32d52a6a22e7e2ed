"""Actions past their due date: each owner told once per due date, by a sweep that may run twice, late or after a
crash (`ActionItem.overdue_notified_on`, written in the transaction that writes the outbox rows)."""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from opscenter.core.outbox import active_endpoints, build_notifications, write_notifications
from problems.choices import OPEN_STATES
from problems.models import ActionItem
from problems.notifications import ACTION_OVERDUE, action_params

SWEEP_BATCH = 200


def actions_to_tell(now: datetime | None = None) -> QuerySet[ActionItem]:
    """Unfinished actions of open problems past their due date, with an owner, not yet told for that due date (a
    due date moved later and passed again is told again)."""
    return (ActionItem.objects.overdue(now).filter(owner__isnull=False, problem__state__in=OPEN_STATES)
            .filter(Q(overdue_notified_on__isnull=True) | Q(overdue_notified_on__lte=F("due_date"))))


def actions_notify_overdue(*, now: datetime | None = None) -> int:
    """Tell each owner of an overdue action, once; returns how many actions were told. Actions are taken a batch at
    a time, locked (skipping those another sweep holds)."""
    today = timezone.localdate(now or timezone.now())
    told = 0
    while True:
        with transaction.atomic():
            actions = list(actions_to_tell(now).select_related("problem", "problem__service", "owner")
                           .select_for_update(skip_locked=True, of=("self",)).order_by("due_date", "pk")[:SWEEP_BATCH])
            if not actions:
                return told
            endpoints = active_endpoints()
            rows = []
            for action in actions:
                rows += build_notifications(
                    kind=ACTION_OVERDUE, recipients=[action.owner], params=action_params(action),
                    link=reverse("problems:problem-detail", args=[action.problem_id]) + "#plan", endpoints=endpoints)
            ActionItem.objects.filter(pk__in=[a.pk for a in actions]).update(overdue_notified_on=today)
            write_notifications(rows)
        told += len(actions)
