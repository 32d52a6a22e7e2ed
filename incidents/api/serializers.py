"""Serializers of the incident API: list rows and the detail, what reporting and editing accept,
the data each transition requires, links, review meetings, categories and the priority matrix."""

from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import selectors
from incidents.choices import CancelReason, HoldReason, Level, Priority
from incidents.models import Category, Incident, MajorIncidentReview, PriorityRule
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    ConfigurationItemRefSerializer,
    DepartmentRefSerializer,
    FieldsOnceMixin,
    RefField,
    ServiceRefSerializer,
    TeamRefSerializer,
    TransitionInputSerializer,
    UserRefSerializer,
    VisibleConfigurationItemField,
)
from opscenter.core.api.serializers import StrictInputMixin as KernelStrictInputMixin
from opscenter.core.api.tickets import AvailableTransitionsField
from opscenter.core.extensions import extra_fields
from opscenter.core.models import Department, Service, Team, User

# Set only by classification (the priority matrix) and by transitions; a request naming them is refused
# rather than silently ignored, so a client never believes it forced a priority.
SET_BY_WORKFLOW = frozenset({"state", "priority", "impact", "urgency", "category", "is_major"})


def visible_incidents(context: dict[str, Any]):  # noqa: ANN201
    """The incidents the requesting user may see: the only ones a request may point at (looked up by id,
    so without the list's joins)."""
    request = context.get("request")
    if request is None:
        return Incident.objects.none()
    return Incident.objects.visible_to(request.user)


class StrictInputMixin(KernelStrictInputMixin):
    """The kernel's strict input, naming what classification sets."""

    workflow_fields = SET_BY_WORKFLOW
    workflow_message = _("Set by classification and transitions only.")


# --- references to related records (read side) ---------------------------------------------------------


class CategoryRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "is_security"]


# --- incidents (read side) -------------------------------------------------------------------------------


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class TransitionNamesField(AvailableTransitionsField):
    """The kernel's `available_transitions`, described in the schema as a list of names."""



class IncidentRowsSerializer(serializers.ListSerializer):
    """The rows of a page, with what they show beyond the list's joins loaded for all of them at once."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        return super().to_representation(selectors.complete_rows(list(data)))


class IncidentListSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    """A row of the incident list: every related record comes from the selector's joins, and the rest from
    `complete_rows` (a page's rows together)."""

    state_label = ChoiceLabelField("state")
    # Blank until classification: declared so that the schema's enum holds "" (a read-only model field
    # loses allow_blank).
    priority = serializers.ChoiceField(choices=Priority.choices, allow_blank=True, read_only=True)
    priority_label = ChoiceLabelField("priority")
    category = RefField(CategoryRefSerializer, allow_null=True)
    service = RefField(ServiceRefSerializer, allow_null=True)
    configuration_item = RefField(ConfigurationItemRefSerializer, allow_null=True)
    team = RefField(TeamRefSerializer, allow_null=True)
    assignee = RefField(UserRefSerializer, allow_null=True)
    department = RefField(DepartmentRefSerializer, allow_null=True)
    caller = RefField(UserRefSerializer, allow_null=True)
    created_by = RefField(UserRefSerializer)
    available_transitions = TransitionNamesField()

    class Meta:
        model = Incident
        fields = ["id", "number", "title", "state", "state_label", "priority", "priority_label", "category",
                  "service", "configuration_item", "team", "assignee", "department", "caller", "caller_name",
                  "channel", "created_by", "occurred_at", "created_at", "updated_at", "first_response_at",
                  "resolved_at", "is_major", "parent", "available_transitions"]
        read_only_fields = fields
        list_serializer_class = IncidentRowsSerializer


class IncidentDetailSerializer(IncidentListSerializer):
    """One incident with everything recorded on it so far."""

    hold_reason = serializers.ChoiceField(choices=HoldReason.choices, allow_blank=True, read_only=True)
    cancel_reason = serializers.ChoiceField(choices=CancelReason.choices, allow_blank=True, read_only=True)

    class Meta(IncidentListSerializer.Meta):
        fields = [*IncidentListSerializer.Meta.fields,
                  "description", "impact_scope", "caller_contact", "impact", "urgency", "classified_at",
                  "assign_due_at", "assigned_at", "diagnosis_cause", "diagnosis_scope", "measures",
                  "test_function_note", "test_performance_note", "test_data_note", "resolution", "resolved_by",
                  "held_from", "hold_reason", "cancel_reason", "duplicate_of", "report_cause", "report_process",
                  "report_measures", "report_result", "report_submitted_at", "closed_at", "major_declared_at"]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        # Read-only fields other apps add to the detail (the SLA clocks), described in the schema too.
        return {**super().get_fields(), **extra_fields(Incident)}

    def to_representation(self, instance: Incident) -> dict[str, Any]:
        selectors.complete_rows([instance])
        return super().to_representation(instance)


# --- incidents (write side) ------------------------------------------------------------------------------


class IncidentReportSerializer(FieldsOnceMixin, StrictInputMixin, serializers.ModelSerializer):
    """A fault as it is reported: phenomenon, when, impact scope, channel, and who called.

    A duty officer names the caller (a user, or a name); a department user reports for themselves.
    """

    caller = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                allow_null=True)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.filter(is_active=True),
                                                    required=False, allow_null=True)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(is_active=True), required=False,
                                                 allow_null=True)
    configuration_item = VisibleConfigurationItemField(required=False, allow_null=True)

    class Meta:
        model = Incident
        fields = ["title", "description", "occurred_at", "impact_scope", "channel", "caller", "caller_name",
                  "caller_contact", "department", "service", "configuration_item"]


class IncidentUpdateSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Fields that may be edited; which of them the current state allows is the service's rule."""

    configuration_item = VisibleConfigurationItemField(required=False, allow_null=True)

    class Meta:
        model = Incident
        fields = ["title", "description", "occurred_at", "impact_scope", "service", "configuration_item",
                  "caller_name", "caller_contact", "department", "resolution"]


# --- transitions ----------------------------------------------------------------------------------------


class IncidentTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """What every incident transition accepts: a comment (the reason, for reopen and return_report)."""


class CategoryField(serializers.RelatedField):
    """A category named by its code ("network") or its id."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "does_not_exist": _("There is no category “{value}”."),
        "incorrect_type": _("Give a category code or id."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Category.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Category:
        queryset = self.get_queryset()
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("incorrect_type")
        text = str(data).strip()
        found = queryset.filter(code=text).first() if isinstance(data, str) else None
        if found is None and text.isdigit():
            found = queryset.filter(pk=int(text)).first()
        if found is None:
            self.fail("does_not_exist", value=text)
        return found

    def to_representation(self, value: Category) -> str:
        return value.code


class PrioritySerializer(IncidentTransitionSerializer):
    """Impact and urgency: the priority matrix gives the priority (reclassify; its reason is the comment)."""

    impact = serializers.ChoiceField(choices=Level.choices, help_text=_("1 high, 2 medium, 3 low"))
    urgency = serializers.ChoiceField(choices=Level.choices, help_text=_("1 high, 2 medium, 3 low"))


class ClassifySerializer(PrioritySerializer):
    category = CategoryField()


class AssignSerializer(IncidentTransitionSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(is_active=True), required=False,
                                              allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                  allow_null=True)


class StartHandlingSerializer(IncidentTransitionSerializer):
    cause = serializers.CharField(help_text=_("Diagnosis: the cause found."))
    scope = serializers.CharField(help_text=_("Diagnosis: what is affected."))


class RestoreSerializer(IncidentTransitionSerializer):
    measures = serializers.CharField(help_text=_("The measures taken to restore the service."))


class ConfirmRecoverySerializer(IncidentTransitionSerializer):
    """The policy's three recovery tests, each with a note; any failed test sends it back to handling."""

    function_ok = serializers.BooleanField()
    function_note = serializers.CharField()
    performance_ok = serializers.BooleanField()
    performance_note = serializers.CharField()
    data_ok = serializers.BooleanField()
    data_note = serializers.CharField()
    resolution = serializers.CharField(required=False, allow_blank=True, default="",
                                       help_text=_("Required when every test passed."))
    resolve_children = serializers.BooleanField(
        default=False, help_text=_("Also resolve the open child incidents with this resolution."))


class SubmitReportSerializer(IncidentTransitionSerializer):
    cause = serializers.CharField()
    process = serializers.CharField()
    measures = serializers.CharField()
    result = serializers.CharField()


class HoldSerializer(IncidentTransitionSerializer):
    reason = serializers.ChoiceField(choices=HoldReason.choices)


class CancelSerializer(IncidentTransitionSerializer):
    reason = serializers.ChoiceField(choices=CancelReason.choices)
    duplicate_of = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.none(), required=False,
                                                      allow_null=True,
                                                      help_text=_("Required when the reason is duplicate."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duplicate_of"].queryset = visible_incidents(self.context)


TRANSITION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "classify": ClassifySerializer,
    "reclassify": PrioritySerializer,
    "assign": AssignSerializer,
    "reassign": AssignSerializer,
    "start_handling": StartHandlingSerializer,
    "restore": RestoreSerializer,
    "confirm_recovery": ConfirmRecoverySerializer,
    "submit_report": SubmitReportSerializer,
    "hold": HoldSerializer,
    "cancel": CancelSerializer,
}


# --- links, reviews, reference data ---------------------------------------------------------------------


class LinkSerializer(StrictInputMixin, serializers.Serializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.none(), allow_null=True,
                                                help_text=_("The parent incident; null unlinks."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = visible_incidents(self.context)


class MajorIncidentReviewSerializer(StrictInputMixin, serializers.ModelSerializer):
    recorded_by = UserRefSerializer(read_only=True)

    class Meta:
        model = MajorIncidentReview
        fields = ["id", "held_on", "attendees", "causes", "lessons", "preventive_measures", "owners",
                  "recorded_by", "recorded_at"]
        read_only_fields = ["id", "recorded_by", "recorded_at"]


class CategorySerializer(serializers.ModelSerializer):
    default_team = TeamRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "name_zh_hant", "is_security", "default_team", "ordering"]


class PriorityRuleSerializer(serializers.ModelSerializer):
    impact_label = serializers.CharField(source="get_impact_display", read_only=True)
    urgency_label = serializers.CharField(source="get_urgency_display", read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)

    class Meta:
        model = PriorityRule
        fields = ["id", "impact", "impact_label", "urgency", "urgency_label", "priority", "priority_label"]
