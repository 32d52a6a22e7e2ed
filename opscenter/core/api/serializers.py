"""Serializers of the kernel's resources and of the ticket timeline."""

import copy
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import ISO_8601, serializers
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


def _accessor(field: serializers.Field, model: Any, write_datetime: Any = datetime_text) -> Any:
    """How to read one field of a row: straight from the model attribute when DRF would return it unchanged (or
    as its DateTimeField writes it, with `write_datetime`), else through the field as DRF does (None stays
    None)."""
    attrs = field.source_attrs
    model_field = None
    if len(attrs) == 1 and model is not None:
        model_field = next((f for f in model._meta.concrete_fields if f.name == attrs[0]), None)
    if model_field is not None and not model_field.is_relation:
        name = model_field.attname
        if (type(field) is serializers.DateTimeField and "timezone" not in field.__dict__
                and getattr(field, "format", None) == getattr(_DATETIME, "format", None)):
            return lambda row: write_datetime(getattr(row, name))
        if type(field) in PLAIN_FIELDS:
            return lambda row: getattr(row, name)
    if (type(field) is serializers.PrimaryKeyRelatedField and field.use_pk_only_optimization()
            and model_field is not None and model_field.many_to_one):
        name = model_field.attname
        return lambda row: getattr(row, name)

    def through_field(row: Any) -> Any:
        value = field.get_attribute(row)
        return None if value is None else field.to_representation(value)

    return through_field


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
