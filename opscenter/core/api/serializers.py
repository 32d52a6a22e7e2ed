"""Serializers of the kernel's resources and of the ticket timeline."""

import copy
import functools
from typing import Any, ClassVar

from django.db import models
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from opscenter.core.filters import ID_MAX
from opscenter.core.models import ConfigurationItem, Department, Notification, Service, Team, User
from opscenter.core.notification_kinds import Rendered, kind_label, reader_language, render
from opscenter.core.roles import user_roles
from opscenter.core.selectors import TimelineEntry, configuration_items_visible_to

_DATETIME = serializers.DateTimeField()


def datetime_text(value: Any) -> str | None:
    """A date-time as DRF's DateTimeField writes it (the site's time zone, ISO 8601)."""
    return None if value is None else _DATETIME.to_representation(value)


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
        fields = ["id", "username", "name", "email", "language", "department", "teams", "roles"]

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


class VisibleConfigurationItemField(serializers.PrimaryKeyRelatedField):
    """A configuration item by id, among those the requesting user may read (as on the CI endpoint); another is
    refused as one that does not exist."""

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        if request is None:
            return ConfigurationItem.objects.none()
        return configuration_items_visible_to(request.user)


class NotificationFactSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer):
    """A notification in the reader's language (their preference, else the request's): its kind's text rendered
    from the event's parameters, or the stored text of an older row."""

    kind = serializers.SerializerMethodField(help_text=_("The kind's name in the reader's language."))
    subject = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    facts = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "kind", "ticket", "subject", "body", "facts", "link", "payload", "created_at",
                  "read_at"]

    def _text(self, row: Notification) -> Rendered:
        request = self.context.get("request")
        language = reader_language(getattr(request, "user", None))
        if getattr(row, "_text_in", None) != language:
            row._text, row._text_in = render(row, language), language
        return row._text

    def get_kind(self, row: Notification) -> str:
        request = self.context.get("request")
        with translation.override(reader_language(getattr(request, "user", None))):
            return kind_label(row.event)

    def get_subject(self, row: Notification) -> str:
        return self._text(row).subject

    def get_body(self, row: Notification) -> str:
        return self._text(row).body

    @extend_schema_field(NotificationFactSerializer(many=True))
    def get_facts(self, row: Notification) -> list[dict[str, str]]:
        return [{"label": label, "value": str(value)} for label, value in self._text(row).facts]


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


class FieldsOnceMixin:
    """Build a serializer class's fields once; write its output with them.

    `ModelSerializer.get_fields` inspects the model and builds every field again for each instance, and DRF then
    binds them to it: the incident detail's 60 fields cost about 1.5 ms a serializer before a value is written,
    the report's input 0.4 ms, and a report through the API builds both (in one process on the benchmark's
    database, December 2026; `bench/incidents.py` measures what it does to a request: docs/performance.md).

    Here the fields are built on the class's first use. Input (`fields`, validation) gets `copy.deepcopy` of them,
    the way DRF copies declared fields. Output is written by one bound copy kept with the class for every field
    whose value depends on the instance alone (the types in `CONTEXT_FREE`), with DRF's own `get_attribute` and
    `to_representation`; any other field (a method field, `available_transitions`, a nested serializer, an app's
    extra field) is copied and bound to the serializer that writes, so it reads that serializer's context.

    Changing it safely: use it only where `get_fields` does not depend on the instance or its context (set a
    context-dependent queryset on the copy in `__init__`, as `CancelSerializer` does); a field type added to
    `CONTEXT_FREE` must not read `self.context`, `self.parent` or the request. A class and each of its subclasses
    keep their own fields. `incidents/tests/test_api_fields.py` compares the output (rows and details in every
    state, as different users) and the validation with DRF's plain serializer's.
    """

    CONTEXT_FREE: ClassVar[tuple[type[serializers.Field], ...]] = (
        serializers.CharField, serializers.IntegerField, serializers.FloatField, serializers.DecimalField,
        serializers.BooleanField, serializers.DateTimeField, serializers.DateField, serializers.TimeField,
        serializers.DurationField, serializers.ChoiceField, serializers.JSONField, serializers.ReadOnlyField,
        serializers.PrimaryKeyRelatedField, serializers.UUIDField,
    )

    _prototype_fields: ClassVar[dict[str, serializers.Field] | None] = None
    _output_plan: ClassVar[list[tuple[str, serializers.Field, bool]] | None] = None

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        prototype = cls.__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = super().get_fields()  # type: ignore[misc]
            cls._prototype_fields = prototype
        return copy.deepcopy(prototype)

    @classmethod
    def output_plan(cls) -> list[tuple[str, serializers.Field, bool]]:
        """(name, field bound once to a serializer of the class, whether the writing serializer binds its own copy)
        of each readable field, in order."""
        plan = cls.__dict__.get("_output_plan")
        if plan is None:
            context_free = (*cls.CONTEXT_FREE, RefField)
            plan = [(name, field, not isinstance(field, context_free))
                    for name, field in cls().fields.items() if not field.write_only]
            cls._output_plan = plan
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """DRF's `Serializer.to_representation`, over the class's bound fields."""
        result: dict[str, Any] = {}
        own = self.__dict__.setdefault("_own_fields", {})  # a list's rows share their serializer's copies
        for name, field, contextual in self.output_plan():
            if contextual:
                if name not in own:
                    own[name] = copy.deepcopy(field)  # a new, unbound field (DRF's __deepcopy__)
                    own[name].bind(field_name=name, parent=self)
                field = own[name]
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            result[name] = None if check_for_none is None else field.to_representation(attribute)
        return result


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


class WholeRowMixin:
    """A row of a nested list written whole (the list replaces the stored rows): it needs every field it requires
    in an edit (PATCH) too, where DRF skips the missing fields of the whole request, nested rows included."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)  # type: ignore[misc]
        missing = {name: [field.error_messages["required"]]
                   for name, field in self.fields.items()  # type: ignore[attr-defined]
                   if field.required and not field.read_only and field.source not in value}
        if missing:
            raise serializers.ValidationError(missing)
        return value


class MarkReadSerializer(StrictInputMixin, serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False,
                                help_text=_("Notifications to mark read; all when omitted. Ids that are not "
                                            "yours refuse the request (404) and mark nothing."))
    event = serializers.CharField(required=False, max_length=64, help_text=_("Only those of this kind."))
    ticket = serializers.CharField(required=False, max_length=24, help_text=_("Only those of this ticket."))


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class InboxGroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    unread = serializers.IntegerField()


class InboxGroupsSerializer(serializers.Serializer):
    kinds = InboxGroupSerializer(many=True)
    tickets = InboxGroupSerializer(many=True)


class ServiceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name"]


class ConfigurationItemRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigurationItem
        fields = ["id", "name", "asset_tag"]


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "code", "name"]


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]


class RefField(serializers.Field):
    """A related record as `serializer_class` shows it (and as the schema describes it, null when
    `allow_null`: a missing record is null, never passed to `to_representation`), read straight
    from its attributes. A list row holds up to eight of these: DRF's nested serializers, which look up
    every field and inspect the signature of every callable source, cost more than the rest of the row."""

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

    def __init__(self, choice_field: str, **kwargs: Any) -> None:
        self.choice_field = choice_field
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return choice_label(instance, self.choice_field)


# --- API tokens ----------------------------------------------------------------------------------------------


class TokenObtainSerializer(StrictInputMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150, write_only=True)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True,
                                     style={"input_type": "password"})


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("The key, shown only now: send it as `Authorization: Token <key>`."))
    key = serializers.CharField(source="token_key",
                                help_text=_("Its first 15 characters: how the token is listed and revoked."))
    expiry = serializers.DateTimeField(help_text=_("When it stops working."))


class ApiTokenSerializer(serializers.Serializer):
    key = serializers.CharField(source="token_key", read_only=True,
                                help_text=_("The first 15 characters of the token's key (the rest is not stored)."))
    created = serializers.DateTimeField(read_only=True)
    expiry = serializers.DateTimeField(read_only=True)
    current = serializers.SerializerMethodField(help_text=_("Whether this request was made with it."))

    def get_current(self, obj: Any) -> bool:
        request = self.context.get("request")
        return getattr(getattr(request, "auth", None), "digest", None) == obj.digest
