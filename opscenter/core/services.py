"""Operations on tickets: the one transition service, field updates, comments and attachments."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
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
from opscenter.core.signals import ticket_created, ticket_updated, transition_performed
from opscenter.core.workflow import (
    comment_requirement,
    condition_refusal,
    get_transition,
    is_internal_transition,
    is_transition,
    state_field_name,
)

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
    system: bool = False,
    then: Callable[[models.Model, TransitionLog], None] | None = None,
) -> models.Model:
    """Move a ticket by one transition: the only way any caller changes a ticket's state.

    Locks the row, checks the user's permission, the policy's conditions and a comment the
    transition declares required on the locked copy, runs the transition (which sets fields on
    its own row), saves, appends the transition log, lets the app's service write its own rows
    (`then(locked, log)`: votes, many-to-many fields), and sends `transition_performed` so
    receivers can queue side effects that run after commit. Returns the saved, locked copy.

    `system`: the system itself moves the ticket (a sweep that saw a recurrence …): no person's permission is
    checked, the transition's conditions still are, and the log names no actor (the timeline says "System").
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
            check_transition(locked, name, user=user, allow_internal=allow_internal, system=system)
            check_comment(locked, name, comment)
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
            if then is not None:
                then(locked, log)
            transition_performed.send(
                sender=model, instance=locked, transition=name, source=source, target=target,
                actor=user, log=log, data=data,
            )
    except ConcurrentTransition as exc:
        raise ConcurrentChange() from exc
    return locked


def check_transition(obj: models.Model, name: str, *, user: Any, allow_internal: bool = False,
                     system: bool = False) -> None:
    """Refuse a transition that does not exist or is the system's own (400), does not leave the
    current state (409), is not this user's to take (403), or is blocked by a policy condition
    (409, with its reason).
    """
    model = type(obj)
    if not is_transition(model, name) or (is_internal_transition(model, name) and not allow_internal):
        raise UnknownTransition(_("“%(name)s” is not a transition of %(model)s.") % {
            "name": name, "model": model._meta.verbose_name})
    transition = get_transition(obj, name)
    if transition is None:
        raise InvalidState(
            _("“%(name)s” is not allowed while the %(model)s is %(state)s.")
            % {"name": name, "model": model._meta.verbose_name, "state": _state_label(obj)}
        )
    if not system and not transition.has_perm(obj, user):
        # A permission may explain its refusal (segregation of duties, a vote already cast …).
        refusal = getattr(transition.permission, "refusal", None)
        raise (refusal(obj, user) if refusal else None) or TransitionForbidden()
    for predicate in transition.conditions:
        if not predicate(obj):
            raise ConditionFailed(condition_refusal(predicate, obj))


def check_comment(obj: models.Model, name: str, comment: str) -> None:
    """Refuse (400, naming the comment) a transition declared comment-required that comes without one."""
    required = comment_requirement(obj, name)
    if required and not (comment or "").strip():
        raise InvalidInput({"comment": [str(required)]})


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


def display_value(instance: models.Model, field: str) -> str:
    """A field's value as the timeline shows it: choices by label, many-to-many fields as a sorted list,
    instants in UTC (so that an edit that changes only the time zone records nothing)."""
    model_field = instance._meta.get_field(field)
    if model_field.many_to_many:
        return _display_many(getattr(instance, field).all()) if instance.pk else ""
    value = getattr(instance, field)
    if value is None:
        return ""
    display = getattr(instance, f"get_{field}_display", None)
    if callable(display):
        return str(display())
    if isinstance(value, datetime) and timezone.is_aware(value):
        return str(value.astimezone(UTC))
    return str(value)


def _display_many(values: Any) -> str:
    return ", ".join(sorted(str(v) for v in values))


def ticket_create(
    obj: models.Model,
    *,
    user: Any,
    many: dict[str, Any] | None = None,
    transition: str = "create",
    log_data: dict[str, Any] | None = None,
    then: Callable[[models.Model], None] | None = None,
) -> models.Model:
    """Save a new ticket with its many-to-many fields, write the first row of its timeline and send
    `ticket_created`, all in one transaction.

    The ticket is validated first (a 400 names the fields); `then` writes what the app keeps beside
    the ticket (its steps …) before the log row and the signal.
    """
    try:
        obj.full_clean(exclude=["number", state_field_name(type(obj)), "created_by"])
    except ValidationError as exc:
        raise InvalidInput(_validation_detail(exc)) from exc
    model = type(obj)
    with transaction.atomic():
        obj.save()
        for field, values in (many or {}).items():
            getattr(obj, field).set(values)
        if then is not None:
            then(obj)
        TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(model), object_id=obj.pk, transition=transition,
            source_state="", target_state=getattr(obj, state_field_name(model)),
            actor=user if getattr(user, "pk", None) else None, comment="", data=_loggable(log_data or {}),
        )
        ticket_created.send(sender=model, instance=obj, actor=user)
    return obj


def ticket_update(
    obj: models.Model,
    *,
    user: Any,
    changes: dict[str, Any],
    editable: set[str] | frozenset[str],
    prepare: Callable[[models.Model], list[tuple[str, str, str]]] | None = None,
    then: Callable[[models.Model, list[str]], models.Model] | None = None,
) -> models.Model:
    """Change fields of a ticket, many-to-many fields included, recording each old and new value on its
    timeline and sending `ticket_updated`.

    Only fields in `editable` (what the state the caller saw allows) may change; a ticket that moved on
    meanwhile is refused (409). `prepare(locked)` checks and writes what the app keeps beside the fields
    and returns its own (field, old, new) records; `then(locked, fields)` follows in the same transaction
    and returns the ticket as it ends up.
    """
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise InvalidInput({field: [_("This field cannot be changed now.")] for field in refused})
    model = type(obj)
    state = state_field_name(model)
    many = {f for f in changes if model._meta.get_field(f).many_to_many}
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=obj.pk)
        if getattr(locked, state) != getattr(obj, state):
            raise ConcurrentChange()
        records: list[tuple[str, str, str]] = []
        for field, value in changes.items():
            before = display_value(locked, field)
            if field in many:
                after = _display_many(value)
                if {v.pk for v in getattr(locked, field).all()} != {v.pk for v in value}:
                    records.append((field, before, after))
                continue
            setattr(locked, field, value)
            after = display_value(locked, field)
            if before != after:
                records.append((field, before, after))
        if prepare is not None:
            records += prepare(locked)
        if not records:
            return locked
        try:
            plain = [f for f in changes if f not in many]
            locked.clean_fields(exclude=[f.name for f in locked._meta.concrete_fields if f.name not in plain])
            locked.clean()
        except ValidationError as exc:
            raise InvalidInput(_validation_detail(exc)) from exc
        try:
            locked.save()
        except ConcurrentTransition as exc:
            raise ConcurrentChange() from exc
        for field in many:
            getattr(locked, field).set(changes[field])
        content_type = ContentType.objects.get_for_model(model)
        FieldChange.objects.bulk_create([
            FieldChange(content_type=content_type, object_id=locked.pk, field=field, old_value=old, new_value=new,
                        actor=user)
            for field, old, new in records])
        fields = [field for field, _old, _new in records]
        ticket_updated.send(sender=model, instance=locked, fields=set(fields), actor=user)
        if then is not None:
            locked = then(locked, fields)
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


def user_language_set(user: Any, *, language: str) -> bool:
    """Remember the language a signed-in user reads (pages and notifications); blank is the site's default.
    True when it changed; a language the site does not offer is refused (400)."""
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidInput({"language": [_("Choose one of the languages offered.")]})
    if user.language == language:
        return False
    user.language = language
    get_user_model().objects.filter(pk=user.pk).update(language=language)
    return True
