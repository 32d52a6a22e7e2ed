"""The workflow kernel's records: the ticket base, its numbering, and its append-only timeline."""

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator
from typing import ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, connections, models, transaction
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


def append_only_triggers() -> list[pgtrigger.Trigger]:
    """The database's own guard of an append-only table (PostgreSQL; SQLite has none): UPDATE, DELETE and
    TRUNCATE raise whoever sends them through the application's role (raw SQL, `_raw_delete`, a cascade).
    Each append-only model lists them in its `Meta.triggers`; sanctioned maintenance goes through
    `audit_maintenance`."""
    return [
        pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        # TRUNCATE fires statement-level triggers only, and Protect's statement level reads transition tables,
        # which TRUNCATE has none of: a plain trigger that raises.
        pgtrigger.Trigger(name="append_only_truncate", level=pgtrigger.Statement, when=pgtrigger.Before,
                          operation=pgtrigger.Truncate,
                          func="RAISE EXCEPTION 'pgtrigger: Cannot truncate rows from % table', TG_TABLE_NAME;"),
    ]


@contextlib.contextmanager
def audit_maintenance(using: str = "default") -> Iterator[None]:
    """Suspend the append-only guard on this connection for sanctioned maintenance: emptying a test database
    (the `flush` command), a benchmark removing its own rows.

    PostgreSQL fires no ordinary trigger in a session whose `session_replication_role` is `replica`, and only a
    superuser may set it: the application's own role cannot suspend the guard (pgtrigger's `ignore` is not used:
    it prefixes every statement with a second one, which server-side binding refuses). Nothing to do on SQLite."""
    db = connections[using]
    if db.vendor != "postgresql":
        yield
        return
    try:
        with db.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    except DatabaseError as exc:
        raise AppendOnlyError(
            "Audit records can only be removed by a PostgreSQL superuser "
            f"(session_replication_role): {exc}") from exc
    try:
        yield
    finally:
        # A transaction that failed restores the setting as it rolls back; any other is reset here.
        if not db.needs_rollback and db.connection is not None and not _in_failed_transaction(db):
            with db.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def _in_failed_transaction(db) -> bool:  # noqa: ANN001
    import psycopg

    return db.connection.info.transaction_status == psycopg.pq.TransactionStatus.INERROR


class TicketSequence(models.Model):
    """The numbers handed out per ticket prefix and year (INC-2026-000123).

    On PostgreSQL each prefix and year draws from a database sequence of its own (`ticket_number_inc_2026`),
    which holds no lock: two reports in flight do not wait for each other's commit. The sequences are made
    ahead of need, never by a request: a migration makes the current and the next year's, a daily task the next
    year's (`services.ticket_sequences_prepare`), each started after the highest number handed out for its year
    (this table's `last`, or a ticket's number if higher). A year without its sequence (SQLite always) counts
    on this table's row, locked until the report commits. Like ServiceNow's counters, a report that fails after
    taking a sequence's number leaves that number unused. Going back to a release that counts with the row needs
    each row's `last` set to its sequence's `last_value` first.
    """

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="ticket_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"

    @classmethod
    def next_number(cls, prefix: str, year: int) -> str:
        """The next human number of this prefix and year."""
        return f"{prefix}-{year}-{cls.take(prefix, year)[0]:06d}"

    @classmethod
    def take(cls, prefix: str, year: int, count: int = 1) -> list[int]:
        """Hand out `count` numbers of this prefix and year (consecutive unless another caller takes numbers at
        the same moment)."""
        postgresql = connection.vendor == "postgresql"
        name = cls.sequence_name(prefix, year)
        if postgresql:
            # nextval(NULL) is NULL: a missing sequence answers no number instead of failing the transaction.
            values = (_numbers("SELECT nextval(to_regclass(%s))", [name]) if count == 1 else
                      _numbers("SELECT nextval(to_regclass(%s)) FROM generate_series(1, %s)", [name, count]))
            if values:
                return values
        last = cls._from_row(prefix, year, count)
        if postgresql:
            # The row is locked now, and a sequence is only made under its lock, started after its count: one
            # made while this waited for the lock is the one to use. Looked up in the catalogue, with this
            # statement's view of it (a name already looked up in this transaction may be answered from memory).
            values = _numbers(f"SELECT nextval({_SEQUENCE}::regclass) FROM generate_series(1, %s)", [name, count])
            if values:
                return values
        return list(range(last - count + 1, last + 1))

    @classmethod
    def _from_row(cls, prefix: str, year: int, count: int) -> int:
        """Count `count` numbers on the row of this prefix and year (made if missing); the last one taken."""
        sql = f"UPDATE {cls._meta.db_table} SET last = last + %s WHERE prefix = %s AND year = %s RETURNING last"
        for _attempt in range(2):
            with connection.cursor() as cursor:
                cursor.execute(sql, [count, prefix, year])
                row = cursor.fetchone()
            if row is not None:
                return row[0]
            with transaction.atomic():
                cls.objects.get_or_create(prefix=prefix, year=year)
        raise RuntimeError(f"no ticket sequence for {prefix}-{year}")

    @staticmethod
    def sequence_name(prefix: str, year: int) -> str:
        return f"ticket_number_{prefix.lower()}_{year}"

    @classmethod
    def create_sequence(cls, prefix: str, year: int, tickets: Iterable[type[models.Model]] = ()) -> bool:
        """Make this prefix and year's sequence unless it exists (PostgreSQL; elsewhere there is none to make),
        started after the highest number handed out for it: the row's count, or a number `tickets` carry if
        higher (data restored without its sequences). True when made. The year's row stays locked until the
        caller's transaction ends: a report counting on the row meanwhile is numbered before the sequence
        starts, and one after it uses the sequence."""
        if connection.vendor != "postgresql":
            return False
        with transaction.atomic():
            cls.objects.get_or_create(prefix=prefix, year=year)
            last = cls.objects.select_for_update().filter(prefix=prefix, year=year).values_list("last", flat=True).get()
            if _numbers(f"SELECT {_SEQUENCE}", [cls.sequence_name(prefix, year)]):
                return False
            for model in tickets:
                last = max(last, highest_number(model, prefix, year))
            name = connection.ops.quote_name(cls.sequence_name(prefix, year))
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE SEQUENCE {name} AS bigint START WITH {int(last) + 1}")
        return True


# The sequence of a name (the statement's parameter) in the schema unqualified names are made in, or NULL.
_SEQUENCE = ("(SELECT c.oid FROM pg_catalog.pg_class c INNER JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind = 'S' AND c.relname = %s AND n.nspname = current_schema())")


def _numbers(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [value for (value,) in cursor.fetchall() if value is not None]


def highest_number(model: type[models.Model], prefix: str, year: int) -> int:
    """The highest serial of this prefix and year that `model`'s tickets carry (by value, not as text), or 0."""
    from django.db.models.functions import Cast, Substr

    stem = f"{prefix}-{year}-"
    return (model._base_manager.filter(number__regex=rf"^{re.escape(stem)}[0-9]+$")
            .annotate(serial=Cast(Substr("number", len(stem) + 1), models.BigIntegerField()))
            .aggregate(top=models.Max("serial"))["top"]) or 0


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
            self.number = TicketSequence.next_number(self.NUMBER_PREFIX, timezone.localdate(self.created_at).year)
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
        triggers = append_only_triggers()

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
        triggers = append_only_triggers()

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
        triggers = append_only_triggers()

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
        triggers = append_only_triggers()

    def __str__(self) -> str:
        return self.original_name


class TimelineRow(models.Model):
    """One record of a ticket's timeline as the database view `core_timeline` reads it: the transitions, field
    changes, comments and attachments of every ticket in one relation, each row with its kind, the record's id,
    the ticket, the time, the person (actor, author or uploader) and the record's own columns (those of the other
    kinds are NULL). Read-only; the view is created by migration 0014.

    What it saves: a ticket's timeline is one query instead of four, with its people joined. On the benchmark's
    database (100,000 incidents, PostgreSQL, December 2026) 1.0 ms a timeline of eight records against 3.6 ms for
    the four queries, about a sixth of the incident page (`opscenter.core.selectors.ticket_timeline`).

    Changing it safely: a column added to TransitionLog, FieldChange, Comment or Attachment is added here and to the
    view by a migration that drops and creates it again (NULL in the other kinds' branches, cast to its type);
    `opscenter/core/tests/test_selectors.py` compares every record the view gives with the ORM's own, field by
    field, and fails on a column the view lacks."""

    key = models.CharField(primary_key=True, max_length=40)  # kind:id
    kind = models.CharField(max_length=16)  # transition | change | comment | attachment
    record_id = models.BigIntegerField()
    content_type = models.ForeignKey(ContentType, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, db_constraint=False,
                              related_name="+")
    # TransitionLog
    transition = models.CharField(max_length=64, null=True)
    source_state = models.CharField(max_length=32, null=True)
    target_state = models.CharField(max_length=32, null=True)
    comment = models.TextField(null=True)
    data = models.JSONField(null=True)
    # FieldChange
    field = models.CharField(max_length=64, null=True)
    old_value = models.TextField(null=True)
    new_value = models.TextField(null=True)
    # Comment
    body = models.TextField(null=True)
    is_internal = models.BooleanField(null=True)
    # Attachment
    file = models.CharField(max_length=200, null=True)
    original_name = models.CharField(max_length=200, null=True)
    size = models.BigIntegerField(null=True)
    mime_type = models.CharField(max_length=100, null=True)

    # The kind of each row: its model, and the name of its person there.
    KINDS: ClassVar[dict[str, tuple[type[models.Model], str]]] = {
        "transition": (TransitionLog, "actor"), "change": (FieldChange, "actor"),
        "comment": (Comment, "author"), "attachment": (Attachment, "uploaded_by"),
    }

    class Meta:
        managed = False
        db_table = "core_timeline"
        default_permissions = ()

    def __str__(self) -> str:
        return self.key

    def record(self) -> models.Model:
        """The row as the record of its own model, as a query of that model would read it (with its person, when
        the row was read with it), without a query."""
        model, person = self.KINDS[self.kind]
        names = _record_columns(model)
        person_id = f"{person}_id"
        values = [self.record_id if name == "id" else self.actor_id if name == person_id else getattr(self, name)
                  for name in names]
        record = model.from_db(self._state.db, names, values)
        if self._meta.get_field("actor").is_cached(self):
            setattr(record, person, self.actor)
        return record


@functools.cache
def _record_columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]
