"""Serializers of the kernel's resources and of the ticket timeline."""

import copy
import functools
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from opscenter.core.filters import ID_MAX
from opscenter.core.models import ConfigurationItem, Department, Notification, Service, Team, User
from opscenter.core.roles import user_roles
from opscenter.core.selectors import TimelineEntry


class FieldPrototypesMixin:
    """For a ModelSerializer whose fields depend on its class alone (not on the request or the instance):
    work them out from the model once per class and give each serializer its own copies, as DRF does with
    declared fields. Looking at the model for every field was a fifth of the time of reporting an incident.

    A field without inner fields is copied shallowly: binding it to its serializer sets attributes of the
    copy alone, and the prototype's validators, choices and querysets are only read. DRF's deep copy builds
    every field anew from its arguments (≈ 0.75 ms for the incident detail's 53 fields, ≈ 0.2 ms this way).
    A nested serializer or a field holding a child field is deep-copied as DRF does."""

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = super().get_fields()  # type: ignore[misc]
            cls._field_prototypes = prototypes
        return {name: copy.deepcopy(field) if has_inner_fields(field) else copy.copy(field)
                for name, field in prototypes.items()}

    def get_validators(self) -> list[Any]:
        # The serializer-wide validators (the model's unique-together and unique-for-date checks) depend on the
        # class alone too; DRF's look through the model's fields and constraints for every request. They hold no
        # state of a validation (DRF passes them the serializer), so the list's items are shared.
        cls = type(self)
        validators = cls.__dict__.get("_validator_prototypes")
        if validators is None:
            validators = cls._validator_prototypes = tuple(super().get_validators())  # type: ignore[misc]
        return list(validators)


def has_inner_fields(field: serializers.Field) -> bool:
    """Serializers, and fields that bind a child field of their own (lists, dicts, many-related)."""
    return isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation")


# Field classes whose output is the model attribute itself when it holds its model field's own type (a str for
# a CharField or a choice, an int, a bool): DRF's to_representation returns such a value unchanged.
PLAIN_FIELDS = (serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.ChoiceField)
_DATETIME = serializers.DateTimeField()


def datetime_text(value: Any) -> str | None:
    """A date-time as DRF's DateTimeField writes it (the site's time zone, ISO 8601)."""
    return None if value is None else _DATETIME.to_representation(value)


def datetime_writer() -> Any:
    """`datetime_text` for the many date-times of one response: DRF looks the current time zone up for each
    value (a context-local lookup); this looks it up once. The same text: ISO 8601 in that zone, UTC as "Z"."""
    if not settings.USE_TZ or (getattr(_DATETIME, "format", api_settings.DATETIME_FORMAT) or "").lower() != ISO_8601:
        return datetime_text
    zone = timezone.get_current_timezone()

    def write(value: Any) -> str | None:
        if value is None:
            return None
        if timezone.is_naive(value):
            return datetime_text(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


def _direct_read(field: serializers.Field, model: Any) -> tuple[bool, str] | None:
    """(as a date-time, attribute name) when a bound field's output is its model attribute itself (DRF would
    return it unchanged) or that attribute as its DateTimeField writes it; None when it must go through the field."""
    attrs = field.source_attrs
    model_field = None
    if len(attrs) == 1 and model is not None:
        model_field = next((f for f in model._meta.concrete_fields if f.name == attrs[0]), None)
    if model_field is not None and not model_field.is_relation:
        if (type(field) is serializers.DateTimeField and "timezone" not in field.__dict__
                and getattr(field, "format", None) == getattr(_DATETIME, "format", None)):
            return True, model_field.attname
        if type(field) in PLAIN_FIELDS:
            return False, model_field.attname
    if (type(field) is serializers.PrimaryKeyRelatedField and field.use_pk_only_optimization()
            and model_field is not None and model_field.many_to_one):
        return False, model_field.attname
    return None


def _through_field(field: serializers.Field, row: Any) -> Any:
    """What DRF's Serializer.to_representation writes for one field of a row (SkipField propagates)."""
    value = field.get_attribute(row)
    checked = value.pk if isinstance(value, PKOnlyObject) else value
    return None if checked is None else field.to_representation(value)


def _accessor(field: serializers.Field, model: Any, write_datetime: Any = datetime_text) -> Any:
    """How to read one field of a row: straight from the model attribute when DRF would return it unchanged (or
    as its DateTimeField writes it, with `write_datetime`), else through the field as DRF does (None stays
    None)."""
    direct = _direct_read(field, model)
    if direct is not None:
        as_datetime, name = direct
        if as_datetime:
            return lambda row: write_datetime(getattr(row, name))
        return lambda row: getattr(row, name)
    return functools.partial(_through_field, field)


class CompiledRowsSerializer(serializers.ListSerializer):
    """The rows of a list, each as its serializer (`child`) writes it, with the way to read each field worked
    out once per response instead of once per row and field: DRF's per-field machinery (and its date-time
    conversion) was most of the time of serialising an API page. A test of each user compares the two."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        model = getattr(getattr(self.child, "Meta", None), "model", None)
        write_datetime = datetime_writer()
        plan = [(name, _accessor(field, model, write_datetime)) for name, field in self.child.fields.items()
                if not field.write_only]
        return [{name: read(row) for name, read in plan} for row in data]


# How CompiledObjectMixin reads a field: the attribute, the attribute as a date-time, through one copy of the field
# shared by every serializer of the class, or through the serializer's own bound copy.
_ATTRIBUTE, _DATETIME_ATTRIBUTE, _SHARED_FIELD, _OWN_FIELD = range(4)


class CompiledObjectMixin(FieldPrototypesMixin):
    """For a read-only serializer of one object whose fields depend on its class alone: the object is written as
    DRF writes it, each field read the way CompiledRowsSerializer reads a row's, by a plan worked out once per
    class. Only the fields that may read the request (anything but a model attribute or a field marked
    `context_free`) are copied and bound for each serializer: copying and binding all 60 fields of the incident
    detail, and DRF's per-field calls, were most of the time of writing it. A test compares the two for every
    state."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        write_datetime = datetime_writer()
        data: dict[str, Any] = {}
        for name, how, what in object_plan(self):
            if how == _ATTRIBUTE:
                data[name] = getattr(instance, what)
            elif how == _DATETIME_ATTRIBUTE:
                data[name] = write_datetime(getattr(instance, what))
            else:
                field = what if how == _SHARED_FIELD else self._own_field(name, what)
                try:
                    data[name] = _through_field(field, instance)
                except SkipField:
                    continue
        return data

    def _own_field(self, name: str, prototype: serializers.Field) -> serializers.Field:
        field = copy.deepcopy(prototype) if has_inner_fields(prototype) else copy.copy(prototype)
        field.bind(name, self)
        return field


def object_plan(serializer: serializers.Serializer) -> list[tuple[str, int, Any]]:
    """(name, how, attribute name or field) for each readable field of the serializer's class, in its order."""
    cls = type(serializer)
    plan = cls.__dict__.get("_object_plan")
    if plan is None:
        model = getattr(getattr(cls, "Meta", None), "model", None)
        holder = serializers.Serializer()  # binds the shared copies without tying them to a request
        plan = []
        for name, prototype in serializer.get_fields().items():
            if prototype.write_only:
                continue
            field = copy.copy(prototype)
            field.bind(name, holder)
            direct = _direct_read(field, model)
            if direct is not None:
                plan.append((name, _DATETIME_ATTRIBUTE if direct[0] else _ATTRIBUTE, direct[1]))
            elif getattr(field, "context_free", False) and not has_inner_fields(field):
                plan.append((name, _SHARED_FIELD, field))
            else:
                plan.append((name, _OWN_FIELD, prototype))
        cls._object_plan = plan
    return plan


@functools.cache
def _choice_labels(field: models.Field, language: str | None) -> dict[Any, str]:
    return {value: str(label) for value, label in field.flatchoices}


def choice_label(instance: models.Model, name: str) -> Any:
    """What `instance.get_<name>_display()` gives. Django's method rebuilds and hashes the whole choice list,
    translating every label, on each call; here each language's labels are translated once."""
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)
    return _choice_labels(field, get_language()).get(value, value)


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


@extend_schema_serializer(many=False)  # `me` is a list route answering one object
class MeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    roles = serializers.SerializerMethodField()
    teams = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    department = serializers.SlugRelatedField(read_only=True, slug_field="code", allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "department", "teams", "roles"]

    def get_roles(self, obj: User) -> list[str]:
        return sorted(user_roles(obj))


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "contact_email", "is_active"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "code", "name", "kind", "email", "lead", "members", "is_active"]


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    roles = serializers.SlugRelatedField(source="groups", many=True, read_only=True, slug_field="name")

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "department", "roles", "is_active"]


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name", "description", "criticality", "owner_department", "support_team",
                  "service_hours", "is_active"]


class ConfigurationItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigurationItem
        fields = ["id", "name", "ci_type", "asset_tag", "serial_number", "location", "owner_team", "owner",
                  "status", "services", "description"]

    def validate_asset_tag(self, value: str | None) -> str | None:
        # A blank tag is no tag (NULL, as the admin's form saves it): tags are unique, and a blank
        # skips the uniqueness check, so a second blank one failed in the database instead (a 500).
        return value or None


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "subject", "body", "link", "created_at", "read_at"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False,
                                help_text=_("Notifications to mark read; all when omitted."))


class TransitionInputSerializer(serializers.Serializer):
    """What every transition accepts; a process app extends it with what a transition requires."""

    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class AvailableTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    target = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.CharField()


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000)
    is_internal = serializers.BooleanField(default=False)


class CommentCreatedSerializer(serializers.Serializer):
    """The comment just added (described for the schema)."""

    id = serializers.IntegerField()
    body = serializers.CharField()
    internal = serializers.BooleanField()


class AttachmentInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class AttachmentCreatedSerializer(serializers.Serializer):
    """The file just attached (described for the schema)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()


class AttachmentEntrySerializer(AttachmentCreatedSerializer):
    """A file of the ticket's list of attachments (described for the schema)."""

    type = serializers.CharField()
    uploaded_by = serializers.CharField()
    at = serializers.DateTimeField()


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField()

    def get_actor(self, entry: TimelineEntry) -> str | None:
        return str(entry.actor) if entry.actor else None

    def get_detail(self, entry: TimelineEntry) -> dict:
        r = entry.record
        if entry.kind == "transition":
            return {"transition": r.transition, "from": r.source_state, "to": r.target_state,
                    "comment": r.comment, "data": r.data}
        if entry.kind == "change":
            return {"field": r.field, "old": r.old_value, "new": r.new_value}
        if entry.kind == "comment":
            return {"id": r.pk, "body": r.body, "internal": r.is_internal}
        return {"id": r.pk, "name": r.original_name, "size": r.size, "type": r.mime_type}


# --- Input and reference pieces every process app's serializers use -------------------------------------------

# Form plumbing of the browsable API, not data.
IGNORED_KEYS = frozenset({"csrfmiddlewaretoken"})


class StrictInputMixin:
    """Refuse keys the serializer does not accept (400 naming them) instead of dropping them. Keys in
    `workflow_fields` are named as set by the workflow, so that a client never believes it forced them."""

    workflow_fields: frozenset[str] = frozenset({"state"})
    workflow_message = _("Set by transitions only.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        keys = set(data.keys()) if hasattr(data, "keys") else set()
        writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
        errors: dict[str, Any] = {
            key: [self.workflow_message if key in self.workflow_fields else _("This field is not accepted here.")]
            for key in sorted(keys - writable - IGNORED_KEYS)
        }
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **errors}) from exc
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ServiceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name"]


class ConfigurationItemRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigurationItem
        fields = ["id", "name", "asset_tag"]


class RefField(serializers.Field):
    """A related record as `serializer_class` shows it (and as the schema describes it, null when
    `allow_null`: a missing record is null, never passed to `to_representation`), read straight
    from its attributes. A list row holds up to eight of these: DRF's nested serializers, which look up
    every field and inspect the signature of every callable source, cost more than the rest of the row."""

    context_free = True  # reads the object alone: CompiledObjectMixin shares one copy

    def __init__(self, serializer_class: type[serializers.Serializer], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.sources = ref_sources(serializer_class)
        extend_schema_field(serializer_class)(self)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {name: str(value) if source == "__str__" else getattr(value, source) for name, source in self.sources}


@functools.cache
def ref_sources(serializer_class: type[serializers.Serializer]) -> tuple[tuple[str, str], ...]:
    """(name, source) of each field of a reference serializer; worked out once, not per request."""
    return tuple((name, field.source) for name, field in serializer_class().fields.items())


@extend_schema_field(OpenApiTypes.STR)
class ChoiceLabelField(serializers.ReadOnlyField):
    """The label of a choice, as `get_<field>_display()` gives it, each language's labels translated once
    (`choice_label`)."""

    context_free = True  # reads the object alone: CompiledObjectMixin shares one copy

    def __init__(self, choice_field: str, **kwargs: Any) -> None:
        self.choice_field = choice_field
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return choice_label(instance, self.choice_field)
