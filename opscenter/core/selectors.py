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
    """Transitions, field changes, comments and attachments of a ticket, oldest first (4 queries, each compiled
    once: building and compiling the four querysets cost more than running them, a fifth of a detail page)."""
    content_type_id = ContentType.objects.get_for_model(type(obj)).pk
    public = not can_see_internal_notes(user)
    entries = []
    for kind, model, person, build in _TIMELINE_READS:
        if model is Comment:
            key, build = ("timeline", "comment", public), (_public_comments if public else build)
        else:
            key = ("timeline", kind)
        entries += [TimelineEntry(kind, r.created_at, getattr(r, person), r)
                    for r in read_compiled(key, model, build, content_type_id, obj.pk)]
    entries.sort(key=lambda e: (e.at, e.kind != "transition", e.record.pk))
    return entries


def _timeline_records(model: type[models.Model], person: str) -> Callable[[int, int], models.QuerySet]:
    return lambda content_type_id, object_id: model.objects.filter(
        content_type_id=content_type_id, object_id=object_id).select_related(person)


def _public_comments(content_type_id: int, object_id: int) -> models.QuerySet:
    return _timeline_records(Comment, "author")(content_type_id, object_id).filter(is_internal=False)


_TIMELINE_READS = [(kind, model, person, _timeline_records(model, person)) for kind, model, person in (
    ("transition", TransitionLog, "actor"), ("change", FieldChange, "actor"), ("comment", Comment, "author"),
    ("attachment", Attachment, "uploaded_by"))]


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


_COMPILED: dict[tuple[Any, str], tuple[str, list[tuple[Any, ...]], list[Any], Any, list[Any]]] = {}
# Two sets of stand-ins for the arguments while the statement is compiled (in range for an integer or a big
# integer column): where they appear among its parameters is where each call's arguments go.
_STAND_INS = ((2_147_480_011, 2_147_480_023, 2_147_480_037, 2_147_480_041),
              (2_147_470_013, 2_147_470_027, 2_147_470_039, 2_147_470_043))


def read_compiled(key: Any, model: type[models.Model], build: Callable[..., models.QuerySet], *args: int
                  ) -> list[models.Model]:
    """The rows of `build(*args)`, a queryset of `model` whose statement differs from call to call only in the
    integers `args` (a ticket's timeline: its content type and id), with the records of its `select_related`
    foreign keys (one level). The statement is compiled the first time `key` is asked for on a database and
    reused with each call's arguments; rows are converted as the ORM converts them. As with `read_frozen`, the
    ORM built and compiled such a queryset on every call, which cost more than running it."""
    alias = router.db_for_read(model)
    compiled = _COMPILED.get((key, alias))
    if compiled is None:
        compiled = _COMPILED[(key, alias)] = _compile_with_args(model, build, len(args), alias)
    sql, places, converters, compiler, layout = compiled
    params = [place[2](args[place[1]]) if place[0] == "argument" else place[1] for place in places]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    (main_model, main_attnames, main_at), *related = layout
    found = []
    for row in rows:
        record = main_model.from_db(alias, main_attnames, [row[i] for i in main_at])
        for local_setter, remote_setter, related_model, attnames, at in related:  # as the ORM's RelatedPopulator
            values = [row[i] for i in at]
            pk = values[attnames.index(related_model._meta.pk.attname)]
            related_record = None if pk is None else related_model.from_db(alias, attnames, values)
            local_setter(record, related_record)
            if related_record is not None:
                remote_setter(related_record, record)
        found.append(record)
    return found


def _compile_with_args(model: type[models.Model], build: Callable[..., models.QuerySet], count: int,
                       alias: str) -> tuple[str, list[Any], list[Any], Any, list[Any]]:
    """Compile the queryset twice, with each set of stand-ins: the statements must be the same, and their
    parameters the same but where an argument goes (an argument used in a derived value, `pk + 1`, is refused)."""
    from django.core.exceptions import EmptyResultSet

    compiled = []
    for stand_ins in _STAND_INS:
        queryset = build(*stand_ins[:count])
        compiler = queryset.query.get_compiler(alias)
        try:
            compiled.append((queryset, compiler, *compiler.as_sql()))
        except EmptyResultSet:
            raise ValueError("read_compiled: the arguments must fit an integer column") from None
    (queryset, compiler, sql, params), (_other, _compiler, other_sql, other_params) = compiled
    # ("argument", its index, its type: int or the driver's wrapper of it) or ("constant", the value)
    places: list[tuple[Any, ...]] = []
    for value, other in zip(params, other_params, strict=True):
        hits = [n for n in range(count) if isinstance(value, int) and not isinstance(value, bool)
                and value == _STAND_INS[0][n] and other == _STAND_INS[1][n]]
        places.append(("argument", hits[0], type(value)) if hits else ("constant", value))
    if (sql != other_sql or len(params) != len(other_params)
            or any(p[0] == "constant" and p[1] != other for p, other in zip(places, other_params, strict=True))
            or sorted(p[1] for p in places if p[0] == "argument") != list(range(count))):
        raise ValueError("read_compiled: each argument must appear once among the statement's parameters, as given")
    info = compiler.klass_info
    if queryset.model is not model or queryset.query.annotations or info is None or any(
            sub.get("related_klass_infos") or sub.get("reverse") for sub in info.get("related_klass_infos", [])):
        raise ValueError("read_compiled reads rows of the model with one level of select_related")
    columns = [column for column, _sql, _alias in compiler.select]

    def part(select_fields: list[int]) -> tuple[list[str], list[int]]:
        return [columns[i].target.attname for i in select_fields], list(select_fields)

    layout: list[Any] = [(model, *part(info["select_fields"]))]
    for sub in info.get("related_klass_infos", []):
        layout.append((sub["local_setter"], sub["remote_setter"], sub["model"], *part(sub["select_fields"])))
    return sql, places, compiler.get_converters(columns), compiler, layout


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
