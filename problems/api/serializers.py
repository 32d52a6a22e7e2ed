"""Serializers of the problem API: list rows and the detail (the investigation, the root-cause analysis as
structure — fishbone and 5 whys —, the solution plan, linked incidents and changes, the report), what identifying
and editing accept, links, action items and the data each transition takes."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from changes.models import Change
from incidents.models import Category, Incident
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    ConfigurationItemRefSerializer,
    RefField,
    ServiceRefSerializer,
    StrictInputMixin,
    TeamRefSerializer,
    TransitionInputSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField
from opscenter.core.filters import ID_MAX
from opscenter.core.models import ConfigurationItem, Service, Team, User
from problems.analysis import fishbone_rows
from problems.choices import ActionState, FishboneCategory, Source, State
from problems.models import ActionItem, Problem

OPEN_ACTIONS = (ActionState.OPEN, ActionState.IN_PROGRESS)

# --- references and pieces of the read side ----------------------------------------------------------------


@extend_schema_serializer(component_name="ProblemCategoryRef")
class CategoryRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name"]


class LinkedIncidentSerializer(serializers.ModelSerializer):
    """An incident linked to the problem (one the caller may see), with where the API shows it."""

    state_label = ChoiceLabelField("state")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["id", "number", "title", "state", "state_label", "url"]

    def get_url(self, incident: Incident) -> str:
        return f"/api/v1/incidents/{incident.pk}/"


class LinkedChangeSerializer(serializers.ModelSerializer):
    """A change raised from or linked to the problem."""

    state_label = ChoiceLabelField("state")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = ["id", "number", "title", "state", "state_label", "url"]

    def get_url(self, change: Change) -> str:
        return f"/api/v1/changes/{change.pk}/"


class ProblemRefSerializer(serializers.ModelSerializer):
    """A problem as another record names it (the problems of a change)."""

    state_label = ChoiceLabelField("state")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = ["id", "number", "title", "state", "state_label", "url"]

    def get_url(self, problem: Problem) -> str:
        return f"/api/v1/problems/{problem.pk}/"


class FishboneSerializer(serializers.Serializer):
    """The causes of each category of the fishbone (every category, empty ones too)."""

    people = serializers.ListField(child=serializers.CharField())
    process = serializers.ListField(child=serializers.CharField())
    technology = serializers.ListField(child=serializers.CharField())
    environment = serializers.ListField(child=serializers.CharField())
    suppliers = serializers.ListField(child=serializers.CharField())
    measurement = serializers.ListField(child=serializers.CharField())


class WhySerializer(serializers.Serializer):
    why = serializers.CharField()
    because = serializers.CharField()


class ActionItemSerializer(serializers.ModelSerializer):
    """One action of the solution plan: the measure, its steps, owner, due date and state."""

    problem_number = serializers.CharField(source="problem.number", read_only=True)
    owner = RefField(UserRefSerializer, allow_null=True)
    state = serializers.ChoiceField(choices=ActionState.choices, read_only=True)
    state_label = ChoiceLabelField("state")
    overdue = serializers.SerializerMethodField()
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = ActionItem
        fields = ["id", "problem", "problem_number", "measure", "steps", "owner", "due_date", "state", "state_label",
                  "overdue", "result", "done_at", "created_at", "available_transitions"]
        read_only_fields = fields

    def get_overdue(self, action: ActionItem) -> bool:
        return bool(action.state in OPEN_ACTIONS and action.due_date and action.due_date < timezone.localdate())


# --- problems (read side) ------------------------------------------------------------------------------------


class ProblemListSerializer(serializers.ModelSerializer):
    """A row of the problem list: the related records come from the selector's joins, the action counts from its
    prefetched actions."""

    state = serializers.ChoiceField(choices=State.choices, read_only=True)
    state_label = ChoiceLabelField("state")
    source_label = ChoiceLabelField("source")
    service = RefField(ServiceRefSerializer, allow_null=True)
    configuration_item = RefField(ConfigurationItemRefSerializer, allow_null=True)
    category = RefField(CategoryRefSerializer, allow_null=True)
    team = RefField(TeamRefSerializer, allow_null=True)
    owner = RefField(UserRefSerializer, allow_null=True)
    actions_open = serializers.SerializerMethodField(help_text=_("Actions not finished yet."))
    actions_overdue = serializers.SerializerMethodField(help_text=_("Unfinished actions past their due date."))
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Problem
        fields = ["id", "number", "title", "state", "state_label", "source", "source_label", "service",
                  "configuration_item", "category", "team", "owner", "actions_open", "actions_overdue",
                  "observation_ends_at", "created_at", "updated_at", "closed_at", "available_transitions"]
        read_only_fields = fields

    def get_actions_open(self, problem: Problem) -> int:
        return sum(1 for a in problem.actions.all() if a.state in OPEN_ACTIONS)

    def get_actions_overdue(self, problem: Problem) -> int:
        today = timezone.localdate()
        return sum(1 for a in problem.actions.all() if a.state in OPEN_ACTIONS and a.due_date and a.due_date < today)


class ProblemDetailSerializer(ProblemListSerializer):
    """One problem with everything recorded on it: the investigation, the analysis as structure, the plan, the
    incidents and changes linked (those the caller may see) and the report."""

    created_by = RefField(UserRefSerializer)
    report_submitted_by = RefField(UserRefSerializer, allow_null=True)
    fishbone = serializers.SerializerMethodField()
    five_whys = serializers.SerializerMethodField()
    incidents = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(ProblemListSerializer.Meta):
        fields = [*ProblemListSerializer.Meta.fields,
                  "description", "source_reference", "created_by", "incidents", "frequency", "scope", "impact",
                  "data_collected", "root_cause", "fishbone", "five_whys", "actions", "changes",
                  "observation_started_at", "report_cause", "report_solution", "report_result", "report_lessons",
                  "report_submitted_at", "report_submitted_by"]
        read_only_fields = fields

    @extend_schema_field(FishboneSerializer)
    def get_fishbone(self, problem: Problem) -> dict[str, list[str]]:
        return {row["category"]: row["causes"] for row in fishbone_rows(problem.fishbone)}

    @extend_schema_field(WhySerializer(many=True))
    def get_five_whys(self, problem: Problem) -> list[dict[str, str]]:
        return list(problem.five_whys or [])

    @extend_schema_field(LinkedIncidentSerializer(many=True))
    def get_incidents(self, problem: Problem) -> list[dict[str, Any]]:
        return LinkedIncidentSerializer(problem.visible_incidents, many=True).data

    @extend_schema_field(LinkedChangeSerializer(many=True))
    def get_changes(self, problem: Problem) -> list[dict[str, Any]]:
        return LinkedChangeSerializer(problem.visible_changes, many=True).data

    @extend_schema_field(ActionItemSerializer(many=True))
    def get_actions(self, problem: Problem) -> list[dict[str, Any]]:
        return ActionItemSerializer(problem.actions.all(), many=True, context=self.context).data


# --- problems (write side) -----------------------------------------------------------------------------------


class ProblemWriteSerializer(StrictInputMixin, serializers.ModelSerializer):
    """What may be written on a problem (the state allows some of it; the service refuses the rest, 400): the
    identification, the investigation, the root-cause analysis — `fishbone` {category: [cause, …]} over the
    categories people, process, technology, environment, suppliers, measurement, and `five_whys`
    [{"why", "because"}, …] — and the report."""

    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    configuration_item = serializers.PrimaryKeyRelatedField(queryset=ConfigurationItem.objects.all(),
                                                            required=False, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all(), required=False,
                                            allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               allow_null=True)
    fishbone = serializers.JSONField(required=False, help_text=_(
        "Causes per category: {%(categories)s} each a list of texts.") % {
        "categories": ", ".join(f'"{c}"' for c in FishboneCategory.values)})
    five_whys = serializers.JSONField(required=False, help_text=_('The chain: [{"why": …, "because": …}, …].'))

    class Meta:
        model = Problem
        fields = ["title", "description", "source", "source_reference", "service", "configuration_item", "category",
                  "team", "owner", "frequency", "scope", "impact", "data_collected", "root_cause", "fishbone",
                  "five_whys", "report_cause", "report_solution", "report_result", "report_lessons"]
        extra_kwargs = {"title": {"required": False}, "description": {"required": False}}


class ProblemCreateSerializer(ProblemWriteSerializer):
    """Identify a problem: from `incidents` (ids; source "incidents", the default), from a monitoring alarm or
    user feedback (source "monitoring" or "feedback", named in `source_reference`), or found by an engineer
    ("proactive")."""

    incidents = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False,
                                      default=list, help_text=_("Ids of the incidents to link."))
    source = serializers.ChoiceField(choices=Source.choices, default=Source.INCIDENTS)

    class Meta(ProblemWriteSerializer.Meta):
        fields = ["title", "description", "source", "source_reference", "incidents", "service",
                  "configuration_item", "category", "team", "owner"]
        extra_kwargs = {"title": {"required": True}, "description": {"required": True}}


class LinkIncidentsSerializer(StrictInputMixin, serializers.Serializer):
    incidents = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
                                      allow_empty=False, help_text=_("Ids of the incidents to link."))


class RaisedChangeSerializer(serializers.Serializer):
    """The change just raised from the problem (a draft to complete and submit)."""

    change = LinkedChangeSerializer()


# --- transitions -----------------------------------------------------------------------------------------


class ProblemTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """What every problem transition accepts: a comment (the reason, for reopen, return_report and cancel)."""


class InvestigateSerializer(ProblemTransitionSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True,
        help_text=_("Who owns the problem from now on (left out: its owner stays)."))


PROBLEM_TRANSITION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {"investigate": InvestigateSerializer}


# --- action items ----------------------------------------------------------------------------------------


class ActionWriteSerializer(StrictInputMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               allow_null=True)

    class Meta:
        model = ActionItem
        fields = ["measure", "steps", "owner", "due_date"]
        extra_kwargs = {"measure": {"required": False}}


class ActionCreateSerializer(ActionWriteSerializer):
    """An action of a problem's solution plan: its measure, steps, owner and due date."""

    problem = serializers.PrimaryKeyRelatedField(queryset=Problem.objects.none())

    class Meta(ActionWriteSerializer.Meta):
        fields = ["problem", *ActionWriteSerializer.Meta.fields]
        extra_kwargs = {"measure": {"required": True}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["problem"].queryset = Problem.objects.visible_to(request.user)


class ActionTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """What every action transition accepts: a comment (the reason, for drop)."""


class CompleteActionSerializer(ActionTransitionSerializer):
    result = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                   help_text=_("What the action achieved."))


ACTION_TRANSITION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {"complete": CompleteActionSerializer}

