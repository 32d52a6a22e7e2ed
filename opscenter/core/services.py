"""Operations on tickets: the one transition service, field updates, comments and attachments."""

import logging
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from opscenter.core.exceptions import (
    ConcurrentChange,
    ConditionFailed,
    InvalidInput,
    InvalidState,
    ReadOnlyRecord,
    TransitionForbidden,
    UnknownTransition,
)
from opscenter.core.models import Attachment, Comment, FieldChange, TransitionLog
from opscenter.core.roles import AUDITOR, DEPARTMENT_USER, IT_STAFF, has_role
from opscenter.core.signals import ticket_updated, transition_performed
from opscenter.core.workflow import condition_reason, get_transition, is_transition, state_field_name

logger = logging.getLogger(__name__)


def _validation_detail(exc: ValidationError) -> Any:
    return exc.message_dict if hasattr(exc, "error_dict") else exc.messages


def perform_transition(
    obj: models.Model,
    name: str,
    *,
    user: Any,
    comment: str = "",
    data: dict[str, Any] | None = None,
    allow_internal: bool = False,
) -> models.Model:
    """Move a ticket by one transition: the only way any caller changes a ticket's state.

    Locks the row, checks the user's permission and the policy's conditions on the locked
    copy, runs the transition (which sets fields on its own row), saves, appends the
    transition log, and sends `transition_performed` so receivers can queue side effects
    that run after commit. Returns the saved, locked copy.
    """
    model = type(obj)
    if not is_transition(model, name):
        check_transition(obj, name, user=user)  # raises UnknownTransition
    data = dict(data or {})
    _check_arguments(getattr(model, name), data)
    try:
        with transaction.atomic():
            locked = model._default_manager.select_for_update().get(pk=obj.pk)
            source = getattr(locked, state_field_name(model))
            check_transition(locked, name, user=user, allow_internal=allow_internal)
            before = _field_values(locked)
            try:
                getattr(locked, name)(by=user, **data)
                changed = {f for f, v in _field_values(locked).items() if v != before[f]}
                locked.clean_fields(exclude=[f for f in before if f not in changed] + _unchecked_fields(locked))
                locked.clean()
                locked.save()
            except ValidationError as exc:
                raise InvalidInput(_validation_detail(exc)) from exc
            target = getattr(locked, state_field_name(model))
            log = TransitionLog.objects.create(
                content_type=ContentType.objects.get_for_model(model),
                object_id=locked.pk,
                transition=name,
                source_state=source,
                target_state=target,
                actor=user if getattr(user, "pk", None) else None,
                comment=comment,
                data=_loggable(data),
            )
            transition_performed.send(
                sender=model, instance=locked, transition=name, source=source, target=target,
                actor=user, log=log, data=data,
            )
    except ConcurrentTransition as exc:
        raise ConcurrentChange() from exc
    return locked


def check_transition(obj: models.Model, name: str, *, user: Any, allow_internal: bool = False) -> None:
    """Refuse a transition that does not exist or is the system's own (400), does not leave the
    current state (409), is not this user's to take (403), or is blocked by a policy condition
    (409, with its reason).
    """
    model = type(obj)
    if not is_transition(model, name) or (_is_internal(model, name) and not allow_internal):
        raise UnknownTransition(_("“%(name)s” is not a transition of %(model)s.") % {
            "name": name, "model": model._meta.verbose_name})
    transition = get_transition(obj, name)
    if transition is None:
        raise InvalidState(
            _("“%(name)s” is not allowed while the %(model)s is %(state)s.")
            % {"name": name, "model": model._meta.verbose_name, "state": _state_label(obj)}
        )
    if not transition.has_perm(obj, user):
        # A permission may explain its refusal (segregation of duties, a vote already cast …).
        refusal = getattr(transition.permission, "refusal", None)
        raise (refusal(obj, user) if refusal else None) or TransitionForbidden()
    for predicate in transition.conditions:
        if not predicate(obj):
            raise ConditionFailed(condition_reason(predicate))


def _is_internal(model: type[models.Model], name: str) -> bool:
    meta = getattr(getattr(model, name), "_django_fsm", None)
    return any(t.custom.get("internal") for t in meta.transitions.values()) if meta else False


def _check_arguments(method: Any, data: dict[str, Any]) -> None:
    """The data must match what the transition asks for: missing or unexpected fields are a 400."""
    import inspect

    try:
        inspect.signature(method).bind(None, by=None, **data)
    except TypeError:
        parameters = inspect.signature(method).parameters
        wanted = {n for n, p in parameters.items() if p.kind == p.KEYWORD_ONLY and n != "by"}
        required = {n for n in wanted if parameters[n].default is inspect.Parameter.empty}
        errors = {n: [_("This field is required.")] for n in sorted(required - set(data))}
        errors.update({n: [_("This field is not accepted here.")] for n in sorted(set(data) - wanted)})
        raise InvalidInput(errors or _("The data does not fit this transition.")) from None


def _field_values(instance: models.Model) -> dict[str, Any]:
    """Field name → raw value (foreign keys by id), to see which fields a transition changed."""
    return {f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _state_label(instance: models.Model) -> str:
    display = getattr(instance, f"get_{state_field_name(type(instance))}_display", None)
    return str(display()) if display else str(getattr(instance, state_field_name(type(instance))))


def _unchecked_fields(instance: models.Model) -> list[str]:
    # The state field is validated by the state machine; numbers are assigned on save.
    return [state_field_name(type(instance)), "number"]


def _loggable(data: dict[str, Any]) -> dict[str, Any]:
    """Transition data as JSON-safe values for the log (model instances by primary key)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, models.Model):
            out[key] = value.pk
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = [v.pk if isinstance(v, models.Model) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _display(instance: models.Model, field: str) -> str:
    value = getattr(instance, field)
    if value is None:
        return ""
    display = getattr(instance, f"get_{field}_display", None)
    return str(display()) if callable(display) else str(value)


def ticket_update(
    obj: models.Model, *, user: Any, changes: dict[str, Any], editable: set[str] | frozenset[str]
) -> models.Model:
    """Change plain fields of a ticket, recording each old and new value on its timeline.

    Only fields in `editable` (what the current state allows) may change.
    """
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise InvalidInput({field: [_("This field cannot be changed now.")] for field in refused})
    model = type(obj)
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=obj.pk)
        content_type = ContentType.objects.get_for_model(model)
        records = []
        for field, value in changes.items():
            before = _display(locked, field)
            setattr(locked, field, value)
            after = _display(locked, field)
            if before != after:
                records.append(FieldChange(
                    content_type=content_type, object_id=locked.pk, field=field,
                    old_value=before, new_value=after, actor=user,
                ))
        if not records:
            return locked
        try:
            locked.clean_fields(exclude=[f.name for f in locked._meta.concrete_fields if f.name not in changes])
            locked.clean()
        except ValidationError as exc:
            raise InvalidInput(_validation_detail(exc)) from exc
        try:
            locked.save()
        except ConcurrentTransition as exc:
            raise ConcurrentChange() from exc
        FieldChange.objects.bulk_create(records)
        ticket_updated.send(sender=model, instance=locked, fields={r.field for r in records}, actor=user)
    return locked


def is_read_only_user(user: Any) -> bool:
    """An auditor with no other role reads everything and writes nothing."""
    return has_role(user, AUDITOR) and not has_role(user, *IT_STAFF, DEPARTMENT_USER)


def check_may_contribute(obj: models.Model, *, user: Any) -> None:
    """Comments and files go on open tickets, from anyone but a read-only auditor."""
    if getattr(obj, "is_read_only", False):
        raise ReadOnlyRecord()
    if is_read_only_user(user):
        raise TransitionForbidden(_("Auditors have read-only access."))


def comment_add(obj: models.Model, *, user: Any, body: str, is_internal: bool = False) -> Comment:
    """Add a note to the timeline of a ticket that is still open."""
    check_may_contribute(obj, user=user)
    body = (body or "").strip()
    if not body:
        raise InvalidInput({"body": [_("Write a comment.")]})
    return Comment.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
        author=user, body=body, is_internal=is_internal,
    )


# What the first bytes of an accepted file type must look like; text types must not be binary.
SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"), "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"), "docx": (b"PK\x03\x04",), "xlsx": (b"PK\x03\x04",),
    "pptx": (b"PK\x03\x04",),
}
TEXT_TYPES = {"txt", "log", "csv", "json"}
EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")


def _content_matches(upload: UploadedFile, extension: str) -> bool:
    """Type-check by content, not only by name: executables never pass, whatever they are called."""
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if head.startswith(EXECUTABLE_SIGNATURES):
        return False
    if extension in SIGNATURES:
        return head.startswith(SIGNATURES[extension])
    if extension in TEXT_TYPES:
        return b"\x00" not in head
    return True


def attachment_add(obj: models.Model, *, user: Any, upload: UploadedFile) -> Attachment:
    """Attach a file to an open ticket, refusing files that are too large or of a type not allowed."""
    check_may_contribute(obj, user=user)
    name = PurePath(upload.name or "").name[:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in settings.ATTACHMENT_EXTENSIONS:
        raise InvalidInput({"file": [_("Files of type “%(ext)s” are not accepted. Allowed: %(allowed)s.") % {
            "ext": extension or "?", "allowed": ", ".join(settings.ATTACHMENT_EXTENSIONS)}]})
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise InvalidInput({"file": [_("The file is larger than %(max)s.") % {
            "max": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}]})
    if upload.size == 0:
        raise InvalidInput({"file": [_("The file is empty.")]})
    if not _content_matches(upload, extension):
        raise InvalidInput({"file": [_("The content of the file is not a “%(ext)s” file.") % {"ext": extension}]})
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
        file=upload, original_name=name, size=upload.size,
        mime_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
        uploaded_by=user,
    )


def perform_bulk_transition(
    queryset: models.QuerySet,
    name: str,
    *,
    data: dict[str, Any] | None = None,
    comment: str = "",
    limit: int | None = None,
) -> list[int]:
    """Move many rows of one model by one of the system's transitions (a sweep: surveys expiring, campaigns
    closing when due), as perform_transition would move each, in three statements.

    The rows of `queryset` still in one of the transition's source states are locked (rows another sweep
    holds are skipped), moved to its one fixed target with a conditional UPDATE, and given their
    TransitionLog rows in one INSERT, without an actor. The queryset carries the sweep's conditions (the
    transition's own are predicates on one row) and its order, taken up to `limit` rows. `data` are the
    transition's keyword arguments, which must name the fields its body sets: the UPDATE writes them as
    given. No permission is checked, no body runs and no `transition_performed` is sent per row. Returns
    the ids moved; raises ConcurrentChange, undoing the batch, when a row left its state meanwhile."""
    model = queryset.model
    method = getattr(model, name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None or name.startswith("_"):
        raise UnknownTransition(_("“%(name)s” is not a transition of %(model)s.") % {
            "name": name, "model": model._meta.verbose_name})
    sources = [source for source in meta.transitions if source not in ("*", "+")]
    targets = {t.target for t in meta.transitions.values()}
    if len(sources) != len(meta.transitions) or len(targets) != 1 or not isinstance(next(iter(targets)), str):
        raise ValueError(f"{model.__name__}.{name} needs named sources and one fixed target to move in bulk.")
    target = targets.pop()
    data = dict(data or {})
    _check_arguments(method, data)
    field = state_field_name(model)
    with transaction.atomic(savepoint=False):  # part of the caller's transaction: a sweep's batch is one unit
        rows = list(queryset.filter(**{f"{field}__in": sources})
                    .select_for_update(skip_locked=True, of=("self",)).values_list("pk", field)[:limit])
        if not rows:
            return []
        ids = [pk for pk, _source in rows]
        moved = model._default_manager.filter(pk__in=ids, **{f"{field}__in": sources}).update(
            **{field: target}, **data)
        if moved != len(ids):
            raise ConcurrentChange()
        content_type = ContentType.objects.get_for_model(model)
        logged = _loggable(data)
        TransitionLog.objects.bulk_create(
            TransitionLog(content_type=content_type, object_id=pk, transition=name, source_state=source,
                          target_state=target, actor=None, comment=comment, data=logged)
            for pk, source in rows)
    return ids


def ticket_sequences_prepare(*, years: list[int]) -> list[str]:
    """Make the ticket-number sequences of these years for every ticket prefix, where missing (PostgreSQL;
    elsewhere numbers count on the TicketSequence rows): a report never makes one. Returns the names made."""
    from django.apps import apps

    from opscenter.core.models import Ticket, TicketSequence

    tickets: dict[str, list[type[models.Model]]] = {}
    for model in apps.get_models():
        if issubclass(model, Ticket):
            tickets.setdefault(model.NUMBER_PREFIX, []).append(model)
    return [TicketSequence.sequence_name(prefix, year)
            for prefix, models_of_prefix in sorted(tickets.items()) for year in years
            if TicketSequence.create_sequence(prefix, year, models_of_prefix)]
