"""Reminders before a shift starts (DESIGN §5 "Time"): at each of the policy's leads (e.g. 12 hours and 30 minutes
before), once per shift and lead, by a sweep that may run twice, late or after a crash.

The sweep finds the due (shift, lead) pairs in one query: a shift of a published roster that has not started is due
for the nearest lead whose time has passed when no reminder as near or nearer was sent. A sweep that comes late (beat
or the worker was down) sends one reminder for the nearest lead passed and records every lead passed, so nobody gets
a 12-hour reminder twenty minutes before the shift and then the 30-minute one as well. A shift that has started gets
none. Each ShiftReminder row is written in the transaction that writes the outbox rows, and its unique constraint
turns a second sweep racing the first into a rollback.
"""

import functools
import operator
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from duty.models import DUTY_ROLES, DutyPolicy, Shift, ShiftReminder
from opscenter.core.notification_kinds import NotificationKind, declare, timestamp
from opscenter.core.outbox import active_endpoints, build_notifications, write_notifications

# The role a shift is staffed in, as a choices class, so that a reminder names it in its reader's language.
ShiftRole = models.TextChoices("ShiftRole", [(code.upper(), (code, label)) for code, label in DUTY_ROLES])

(SHIFT_REMINDER,) = declare(
    NotificationKind("duty.shift_reminder", _("Shift reminder"),
                     _("Your duty shift starts %(start_at)s: %(team)s, %(role)s"),
                     _("%(shift_type)s from %(start_at)s to %(end_at)s. Please be at your post on time."),
                     labels={"role": ShiftRole}),
)

SWEEP_BATCH = 200


def _minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


def due_reminders(now: datetime, leads: list[int]) -> QuerySet[Shift]:
    """Shifts of published rosters not yet started that are due a reminder at `now`, with `sent_<lead>` telling
    which leads were recorded already (`leads` in ascending order, not empty)."""
    bands = []
    for i, lead in enumerate(leads):
        # `lead` is the nearest lead passed: its time has come, the next nearer one's has not
        band = Q(start__lte=now + _minutes(lead))
        if i:
            band &= Q(start__gt=now + _minutes(leads[i - 1]))
        reminded = Exists(ShiftReminder.objects.filter(shift=OuterRef("pk"), lead_minutes__lte=lead))
        bands.append(band & ~reminded)
    sent = {f"sent_{lead}": Exists(ShiftReminder.objects.filter(shift=OuterRef("pk"), lead_minutes=lead))
            for lead in leads}
    return (Shift.objects.published().filter(start__gt=now, start__lte=now + _minutes(leads[-1]))
            .filter(functools.reduce(operator.or_, bands)).annotate(**sent))


def reminder_params(shift: Shift, lead: int) -> dict:
    """A reminder's facts: the shift, its team, type and role, its times (ISO) and the lead it was sent for."""
    return {"shift": shift.pk, "team": str(shift.team), "role": shift.role,
            "shift_type": shift.shift_type.name if shift.shift_type_id else "",
            "start_at": timestamp(shift.start), "end_at": timestamp(shift.end), "lead_minutes": lead}


def send_shift_reminders(*, now: datetime | None = None) -> int:
    """Remind each person whose shift is due a reminder, once per shift and lead; returns how many reminders were
    sent. Shifts are taken a batch at a time, locked (skipping those another sweep holds)."""
    now = now or timezone.now()
    leads = sorted(set(DutyPolicy.current().reminder_leads_minutes or []))
    if not leads:
        return 0
    link = reverse("duty:calendar")
    sent = 0
    while True:
        try:
            with transaction.atomic():
                shifts = list(due_reminders(now, leads).select_related("user", "team", "shift_type")
                              .select_for_update(skip_locked=True, of=("self",)).order_by("start", "pk")[:SWEEP_BATCH])
                if not shifts:
                    return sent
                endpoints = active_endpoints()
                records, rows = [], []
                for shift in shifts:
                    due = [lead for lead in leads
                           if shift.start <= now + _minutes(lead) and not getattr(shift, f"sent_{lead}")]
                    records += [ShiftReminder(shift=shift, lead_minutes=lead, sent_at=now) for lead in due]
                    rows += build_notifications(kind=SHIFT_REMINDER, recipients=[shift.user],
                                                params=reminder_params(shift, min(due)), link=link,
                                                endpoints=endpoints)
                ShiftReminder.objects.bulk_create(records)
                write_notifications(rows)
            sent += len(shifts)
        except IntegrityError:
            continue  # a sweep beside this one recorded some of them first: read again
