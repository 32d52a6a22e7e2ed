"""The duty log (值班日誌): what happened during a shift (alarms handled, faults reported, calls, notices, who was
informed), each entry with its time and links to incidents and changes, written by whoever is on duty and never
changed or deleted afterwards. An entry belongs to its author's current shift, found for them.

Changes are linked through the entry's own many-to-many field (`DutyLogEntry.changes`): the duty app reads the
change model from that field and never imports change management, which sits beside it on the same floor.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from duty.attendance import current_shift_of
from duty.choices import LogKind
from duty.models import DutyLogEntry, DutyPolicy
from duty.selectors import may_read_duty
from incidents.models import Incident
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, TransitionForbidden
from opscenter.core.roles import has_role

# A time given for an entry may lie this far ahead of the clock (a clock a little fast), no further.
CLOCK_SLACK = timedelta(minutes=2)
LOG_RELATED = ("author", "shift__team")


def change_model() -> type[Model]:
    """The change model, as the log entry's own field names it."""
    return DutyLogEntry._meta.get_field("changes").related_model


def incidents_visible_to(user: Any) -> QuerySet:
    return Incident.objects.visible_to(user)


def changes_visible_to(user: Any) -> QuerySet:
    return change_model()._default_manager.visible_to(user)


def log_entry_list(*, user: Any) -> QuerySet[DutyLogEntry]:
    """The log entries the user may read, newest first, with their author, team, and the incidents and changes
    they link that the user may see (two more queries, whatever the rows)."""
    if not may_read_duty(user):
        return DutyLogEntry.objects.none()
    linked = ("pk", "number", "title", "state")  # the state too: a ticket reads it as it is made
    return (DutyLogEntry.objects.select_related(*LOG_RELATED)
            .prefetch_related(Prefetch("incidents", queryset=incidents_visible_to(user).only(*linked).order_by("pk")),
                              Prefetch("changes", queryset=changes_visible_to(user).only(*linked).order_by("pk")))
            .order_by("-occurred_at", "-pk"))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A day of the duty policy's time zone, from its midnight to the next."""
    zone = DutyPolicy.current().zone
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def log_entries_filtered(entries: QuerySet[DutyLogEntry], *, team: Any = None, day: date | None = None,
                         kind: str = "", shift: Any = None) -> QuerySet[DutyLogEntry]:
    """The entries of one team, one day of the policy's zone, one kind, one shift (each optional)."""
    if team is not None:
        entries = entries.filter(shift__team=team)
    if day is not None:
        start, end = day_bounds(day)
        entries = entries.filter(occurred_at__gte=start, occurred_at__lt=end)
    if kind:
        entries = entries.filter(kind=kind)
    if shift is not None:
        entries = entries.filter(shift=shift)
    return entries


def _chosen(queryset: QuerySet, wanted: list[Any], field: str) -> list[Model]:
    """The rows of `wanted` (rows or ids) among those the user may see; any other is refused (400)."""
    ids = {getattr(value, "pk", value) for value in wanted}
    found = list(queryset.filter(pk__in=ids))
    if len(found) != len(ids):
        raise InvalidInput({field: [_("Choose among the records you may see.")]})
    return found


def log_entry_record(*, user: Any, kind: str, text: str, informed: str = "", occurred_at: datetime | None = None,
                     incidents: list[Any] = (), changes: list[Any] = ()) -> DutyLogEntry:  # type: ignore[assignment]
    """Record what happened during the author's current shift (the duty officer's or an on-duty engineer's; a
    supervisor may record without a shift). The entry is attached to that shift and never changed afterwards."""
    if not user.has_perm("duty.add_dutylogentry"):
        raise TransitionForbidden(_("You may not write in the duty log."))
    now = timezone.now()
    shift = current_shift_of(user, now=now)
    if shift is None and not has_role(user, roles.SUPERVISOR):
        raise TransitionForbidden(_("The duty log is written by whoever is on duty: you have no shift now."),
                                  code="not_on_duty")
    errors: dict[str, list[str]] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("Say what happened.")]
    if kind not in LogKind.values:
        errors["kind"] = [_("Choose one of the kinds offered.")]
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SLACK:
        errors["occurred_at"] = [_("An entry records what has happened: its time cannot be in the future.")]
    elif shift is not None and occurred_at < shift.start - timedelta(hours=1):
        errors["occurred_at"] = [_("The time lies before your shift: the log of an earlier shift is closed.")]
    if errors:
        raise InvalidInput(errors)
    linked_incidents = _chosen(incidents_visible_to(user), list(incidents), "incidents") if incidents else []
    linked_changes = _chosen(changes_visible_to(user), list(changes), "changes") if changes else []
    with transaction.atomic():
        entry = DutyLogEntry.objects.create(shift=shift, author=user, occurred_at=occurred_at, recorded_at=now,
                                            kind=kind, text=text, informed=(informed or "").strip()[:200])
        if linked_incidents:
            entry.incidents.set(linked_incidents)
        if linked_changes:
            entry.changes.set(linked_changes)
    return entry
