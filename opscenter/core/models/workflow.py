"""The workflow kernel's records: the ticket base, its numbering, and its append-only timeline."""

import functools
import re
from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMFieldMixin


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit record."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk update and delete are refused: audit records are append-only."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} records are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} records are append-only")


class AppendOnlyModel(models.Model):
    """A record that is written once and never changed or deleted through the application."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} records are append-only")


class TicketSequence(models.Model):
    """The numbers handed out per ticket prefix and year (INC-2026-000123).

    On PostgreSQL each prefix and year draws from a database sequence of its own (`ticket_number_inc_2026`),
    created the first time the year needs it and started after the highest number handed out for it (this
    table's `last`, or a ticket's number if higher: data restored without its sequences). A sequence holds no
    lock: two reports in flight do not wait for each other's commit, as they did on this table's row (only the
    year's first two reports may, while the first creates the sequence). Like ServiceNow's counters, a report
    that fails after taking its number leaves that number unused. Elsewhere (SQLite, which lets one writer in at
    a time anyway) the row's `last` counts. Going back to a release that counts with the row needs each row's
    `last` set to its sequence's `last_value` first.
    """

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="ticket_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"

    @classmethod
    def next_number(cls, prefix: str, year: int, model: type[models.Model] | None = None) -> str:
        """The next human number of this prefix and year (`model`: the tickets that carry it)."""
        return f"{prefix}-{year}-{cls.take(prefix, year, model=model)[0]:06d}"

    @classmethod
    def take(cls, prefix: str, year: int, count: int = 1, model: type[models.Model] | None = None) -> list[int]:
        """Hand out `count` numbers of this prefix and year, in one statement (consecutive unless another
        caller takes numbers at the same moment)."""
        if connection.vendor == "postgresql":
            return cls._take_from_sequence(prefix, year, count, model)
        sql = f"UPDATE {cls._meta.db_table} SET last = last + %s WHERE prefix = %s AND year = %s RETURNING last"
        for _attempt in range(2):
            with connection.cursor() as cursor:
                cursor.execute(sql, [count, prefix, year])
                row = cursor.fetchone()
            if row is not None:
                return list(range(row[0] - count + 1, row[0] + 1))
            with transaction.atomic():
                cls.objects.get_or_create(prefix=prefix, year=year)
        raise RuntimeError(f"no ticket sequence for {prefix}-{year}")

    @staticmethod
    def sequence_name(prefix: str, year: int) -> str:
        return f"ticket_number_{prefix.lower()}_{year}"

    @classmethod
    def _take_from_sequence(cls, prefix: str, year: int, count: int, model: type[models.Model] | None) -> list[int]:
        name = cls.sequence_name(prefix, year)
        # nextval(NULL) is NULL: a missing sequence answers no number instead of failing the transaction.
        sql = ("SELECT nextval(to_regclass(%s))" if count == 1
               else "SELECT nextval(to_regclass(%s)) FROM generate_series(1, %s)")
        for _attempt in range(3):
            with connection.cursor() as cursor:
                cursor.execute(sql, [name] if count == 1 else [name, count])
                values = [row[0] for row in cursor.fetchall()]
            if values and values[0] is not None:
                return values
            cls.create_sequence(prefix, year, model)
        raise RuntimeError(f"no ticket sequence for {prefix}-{year}")

    @classmethod
    def create_sequence(cls, prefix: str, year: int, model: type[models.Model] | None = None) -> None:
        """Create this prefix and year's sequence, starting after the highest number handed out for it.
        Two callers creating it at once: the second waits for the first to commit, its savepoint is rolled back
        and it uses the first's sequence. Any other failure (no right to create it) is raised."""
        from django.db import IntegrityError, ProgrammingError
        from django.db.models.functions import Cast, Substr

        last = cls.objects.filter(prefix=prefix, year=year).values_list("last", flat=True).first() or 0
        if model is not None:
            stem = f"{prefix}-{year}-"
            highest = (model._base_manager.filter(number__regex=rf"^{re.escape(stem)}[0-9]+$")
                       .annotate(serial=Cast(Substr("number", len(stem) + 1), models.BigIntegerField()))
                       .aggregate(top=models.Max("serial"))["top"])
            last = max(last, highest or 0)
        name = connection.ops.quote_name(cls.sequence_name(prefix, year))
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint START WITH {int(last) + 1}")
        except (IntegrityError, ProgrammingError) as exc:
            # 23505: created meanwhile by another caller (the catalogue's unique index); 42P07: the same, named.
            if getattr(exc.__cause__, "sqlstate", None) not in ("23505", "42P07"):
                raise


class TicketQuerySet(models.QuerySet):
    """Ticket querysets know who may see which rows; process apps narrow `visible_to`."""

    def visible_to(self, user) -> "TicketQuerySet":
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.all()


class Ticket(ConcurrentTransitionMixin, models.Model):
    """Abstract base of every process record that moves through a state machine.

    A subclass declares `state = FSMField(..., protected=True)`, its transitions, and
    NUMBER_PREFIX. It is moved only by opscenter.core.services.perform_transition.
    """

    NUMBER_PREFIX: ClassVar[str] = "TKT"
    STATE_FIELD: ClassVar[str] = "state"

    number = models.CharField(_("number"), max_length=24, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs) -> None:
        if not self.number:
            self.number = TicketSequence.next_number(self.NUMBER_PREFIX, timezone.localdate(self.created_at).year,
                                                     type(self))
        super().save(*args, **kwargs)

    @property
    def state_fields(self) -> tuple[models.Field, ...]:
        # django-fsm looks for the state fields among all of a model's fields each time a ticket is loaded
        # (to remember its state for the concurrency check): 25 list rows, 50 fields each.
        return _state_fields(type(self))


@functools.cache
def _state_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(field for field in model._meta.fields if isinstance(field, FSMFieldMixin))


class TimelineRecord(models.Model):
    """Common columns of everything that appears on a ticket's timeline."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    ticket = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]


class TransitionLog(TimelineRecord, AppendOnlyModel):
    """One performed transition: who moved which ticket from where to where, when, and why."""

    transition = models.CharField(_("transition"), max_length=64)
    source_state = models.CharField(_("from"), max_length=32)
    target_state = models.CharField(_("to"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta(TimelineRecord.Meta):
        verbose_name = _("transition log entry")
        verbose_name_plural = _("transition log")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="transitionlog_ticket")]

    def __str__(self) -> str:
        return f"{self.transition}: {self.source_state} → {self.target_state}"


class FieldChange(TimelineRecord, AppendOnlyModel):
    """One field of a ticket changed outside a transition (or by it): the old and the new value."""

    field = models.CharField(_("field"), max_length=64)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TimelineRecord.Meta):
        verbose_name = _("field change")
        verbose_name_plural = _("field changes")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="fieldchange_ticket")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class Comment(TimelineRecord, AppendOnlyModel):
    """A note on a ticket; internal notes are hidden from department users."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("comment"))
    is_internal = models.BooleanField(_("internal note"), default=False)

    class Meta(TimelineRecord.Meta):
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="comment_ticket")]

    def __str__(self) -> str:
        return self.body[:60]


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Store under a dated folder with a random name; the original name is kept in the row."""
    import uuid

    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}"


class Attachment(TimelineRecord, AppendOnlyModel):
    """A file on a ticket, downloaded only by users who may see the ticket."""

    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    mime_type = models.CharField(_("type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TimelineRecord.Meta):
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="attachment_ticket")]

    def __str__(self) -> str:
        return self.original_name
