"""Read queries of the kernel shared by pages, API and reports."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

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
