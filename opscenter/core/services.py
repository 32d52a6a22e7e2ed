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
    TransitionForbidden,
    UnknownTransition,
)
from opscenter.core.models import Attachment, Comment, FieldChange, TransitionLog
from opscenter.core.signals import transition_performed
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
    try:
        with transaction.atomic():
            locked = model._default_manager.select_for_update().get(pk=obj.pk)
            source = getattr(locked, state_field_name(model))
            check_transition(locked, name, user=user)
            try:
                getattr(locked, name)(by=user, **data)
                locked.clean_fields(exclude=_unchecked_fields(locked))
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


def check_transition(obj: models.Model, name: str, *, user: Any) -> None:
    """Refuse a transition that does not exist (400), does not leave the current state (409),
    is not this user's to take (403), or is blocked by a policy condition (409, with its reason).
    """
    model = type(obj)
    if not is_transition(model, name):
        raise UnknownTransition(_("“%(name)s” is not a transition of %(model)s.") % {
            "name": name, "model": model._meta.verbose_name})
    transition = get_transition(obj, name)
    if transition is None:
        raise InvalidState(
            _("“%(name)s” is not allowed while the %(model)s is %(state)s.")
            % {"name": name, "model": model._meta.verbose_name, "state": _state_label(obj)}
        )
    if not transition.has_perm(obj, user):
        raise TransitionForbidden()
    for predicate in transition.conditions:
        if not predicate(obj):
            raise ConditionFailed(condition_reason(predicate))


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
            locked.clean_fields(exclude=_unchecked_fields(locked))
            locked.clean()
        except ValidationError as exc:
            raise InvalidInput(_validation_detail(exc)) from exc
        try:
            locked.save()
        except ConcurrentTransition as exc:
            raise ConcurrentChange() from exc
        FieldChange.objects.bulk_create(records)
    return locked


def comment_add(obj: models.Model, *, user: Any, body: str, is_internal: bool = False) -> Comment:
    """Add a note to a ticket's timeline."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput({"body": [_("Write a comment.")]})
    return Comment.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
        author=user, body=body, is_internal=is_internal,
    )


def attachment_add(obj: models.Model, *, user: Any, upload: UploadedFile) -> Attachment:
    """Attach a file to a ticket, refusing files that are too large or of a type not allowed."""
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
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
        file=upload, original_name=name, size=upload.size,
        mime_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
        uploaded_by=user,
    )
