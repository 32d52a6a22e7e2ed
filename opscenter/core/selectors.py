"""Read queries of the kernel shared by pages, API and reports."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, models, router

from opscenter.core.models import Attachment, Comment, ConfigurationItem, FieldChange, Service, TransitionLog
from opscenter.core.roles import AUDITOR, IT_STAFF, has_role


@dataclass
class TimelineEntry:
    kind: str  # transition | change | comment | attachment
    at: datetime
    actor: Any
    record: Any
    extra: dict = field(default_factory=dict)


def can_see_internal_notes(user: Any) -> bool:
    """IT staff and auditors read internal work notes; department users do not."""
    return has_role(user, *IT_STAFF, AUDITOR)


def ticket_timeline(obj: models.Model, *, user: Any) -> list[TimelineEntry]:
    """Transitions, field changes, comments and attachments of a ticket, oldest first (4 queries)."""
    content_type = ContentType.objects.get_for_model(type(obj))
    where = {"content_type": content_type, "object_id": obj.pk}
    entries = [TimelineEntry("transition", r.created_at, r.actor, r)
               for r in TransitionLog.objects.filter(**where).select_related("actor")]
    entries += [TimelineEntry("change", r.created_at, r.actor, r)
                for r in FieldChange.objects.filter(**where).select_related("actor")]
    comments = Comment.objects.filter(**where).select_related("author")
    if not can_see_internal_notes(user):
        comments = comments.filter(is_internal=False)
    entries += [TimelineEntry("comment", r.created_at, r.author, r) for r in comments]
    entries += [TimelineEntry("attachment", r.created_at, r.uploaded_by, r)
                for r in Attachment.objects.filter(**where).select_related("uploaded_by")]
    entries.sort(key=lambda e: (e.at, e.kind != "transition", e.record.pk))
    return entries


def ticket_attachments(obj: models.Model) -> models.QuerySet:
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).select_related("uploaded_by")


def service_list() -> models.QuerySet:
    return Service.objects.select_related("owner_department", "support_team")


def configuration_item_list() -> models.QuerySet:
    return ConfigurationItem.objects.select_related("owner_team", "owner").prefetch_related("services")


def load_relations(rows: list[models.Model], names: tuple[str, ...],
                   only: dict[type[models.Model], tuple[str, ...]] | None = None,
                   known: dict[str, dict[Any, models.Model]] | None = None) -> None:
    """Fill in the named foreign keys of `rows` as `select_related` would, with one query per related model
    however many of the names point to it (a ticket's caller and reporter are both users: one query), and
    none for a model the rows point to nowhere. Relations already loaded are left as they are.

    `prefetch_related` sends a query per name, and its machinery cost more than those queries (≈ 3 ms for an
    API page of 25 incidents). `only` names the columns to read of a related model (its primary key always);
    `known` holds, by relation name, records already read by primary key (a page's choice lists): a row pointing
    to one of them takes it from there."""
    if not rows:
        return
    meta = type(rows[0])._meta
    fields = [meta.get_field(name) for name in names]
    for name, records in (known or {}).items():
        field_ = meta.get_field(name)
        for row in rows:
            value = getattr(row, field_.attname)
            if value in records and not field_.is_cached(row):
                field_.set_cached_value(row, records[value])
    wanted: dict[type[models.Model], set[Any]] = {}
    for field_ in fields:
        for row in rows:
            value = getattr(row, field_.attname)
            if value is not None and not field_.is_cached(row):
                wanted.setdefault(field_.related_model, set()).add(value)
    only = only or {}
    loaded = {model: (model._base_manager.only(*only[model]) if model in only else model._base_manager).in_bulk(ids)
              for model, ids in wanted.items()}
    for field_ in fields:
        found = loaded.get(field_.related_model, {})
        for row in rows:
            if not field_.is_cached(row):
                value = getattr(row, field_.attname)
                field_.set_cached_value(row, None if value is None else found.get(value))


_LISTS: dict[Any, tuple[str, tuple[Any, ...], dict[int, tuple[str, type[models.Model], list[str]]]]] = {}


def read_lists(key: Any, querysets: dict[str, models.QuerySet], columns: dict[str, tuple[str, ...]]
               ) -> dict[str, list[models.Model]]:
    """Several short lists (a filter bar's choices) read with one statement, each in its queryset's order and
    with only the named columns (text or numbers) and its primary key. The statement is built from the
    querysets the first time `key` is asked for, and reused: `key` must name querysets that do not change
    from one request to the next (a form's fixed choices)."""
    compiled = _LISTS.get(key)
    if compiled is None:
        compiled = _LISTS[key] = _compile_lists(querysets, columns)
    sql, params, layout = compiled
    found: dict[str, list[models.Model]] = {name: [] for name in querysets}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for row in rows:
        name, model, attnames = layout[row[0]]
        found[name].append(model.from_db(connection.alias, attnames, row[1:1 + len(attnames)]))
    return found


def role_members(role: str) -> list[models.Model]:
    """The active users who hold a role (one statement, compiled once: see read_frozen)."""
    from opscenter.core.models import User

    return read_frozen(("role members", role), User, lambda: User.objects.filter(groups__name=role, is_active=True))


_FROZEN: dict[tuple[Any, str], tuple[str, tuple[Any, ...], list[Any], Any, list[str]]] = {}


def read_frozen(key: Any, model: type[models.Model], build: Callable[[], models.QuerySet]) -> list[models.Model]:
    """The rows of a queryset of `model` that is the same on every call (nothing in it comes from the request:
    the active webhooks, the members of a role). `build` makes the queryset the first time `key` is asked for on
    a database; its statement is compiled then and reused, and each row is converted as the ORM converts it.
    The ORM builds and compiles a queryset on every call, which costs more than running such small statements."""
    alias = router.db_for_read(model)
    compiled = _FROZEN.get((key, alias))
    if compiled is None:
        queryset = build()
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        columns = [column for column, _sql, _alias in compiler.select]
        if queryset.model is not model or queryset.query.select_related or queryset.query.annotations or any(
                getattr(column, "target", None) is None or column.target.model is not model for column in columns):
            raise ValueError("read_frozen reads rows of the model's own columns")
        compiled = _FROZEN[(key, alias)] = (sql, tuple(params), compiler.get_converters(columns), compiler,
                                            [column.target.attname for column in columns])
    sql, params, converters, compiler, attnames = compiled
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [model.from_db(alias, attnames, row) for row in rows]


def _compile_lists(querysets: dict[str, models.QuerySet], columns: dict[str, tuple[str, ...]]) -> Any:
    from django.db.models import CharField, Value, Window
    from django.db.models.functions import RowNumber

    layout, branches = {}, []
    for index, (name, queryset) in enumerate(querysets.items()):
        model = queryset.model
        wanted = {model._meta.pk.name, *columns[name]}
        attnames = [f.attname for f in model._meta.concrete_fields if f.name in wanted]
        layout[index] = (name, model, attnames)
        order = list(queryset.query.order_by or model._meta.ordering or [model._meta.pk.name])
        numbered = queryset.order_by().annotate(_list=Value(index), _row=Window(RowNumber(), order_by=order))
        branches.append((numbered, attnames))
    width = max(len(attnames) for _queryset, attnames in branches)
    blank = Value(None, output_field=CharField())
    selects = [queryset.values_list("_list", *attnames, *([blank] * (width - len(attnames))), "_row")
               for queryset, attnames in branches]
    combined = selects[0].union(*selects[1:], all=True).order_by("_list", "_row") if len(selects) > 1 else (
        selects[0].order_by("_row"))
    sql, params = combined.query.sql_with_params()
    return sql, params, layout
