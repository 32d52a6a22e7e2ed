"""Known-error API (/api/v1/known-errors/): list with search and filters, detail, record (from a problem or on its
own), edit, publish and retire, timeline and comments, and the published known errors suggested for an incident
being recorded (`suggestions/`). Thin: visibility, the filterset, a serializer, one call of problems.known_errors."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.models import Category
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    ConfigurationItemRefSerializer,
    RefField,
    ServiceRefSerializer,
    StrictInputMixin,
    TransitionInputSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField, TicketViewSetMixin
from opscenter.core.filters import ID_MAX, FilterSet
from opscenter.core.models import ConfigurationItem, Service
from problems import known_errors
from problems.api.serializers import CategoryRefSerializer
from problems.choices import KnownErrorState
from problems.models import KnownError, Problem


class KnownErrorPermissions(RoleModelPermissions):
    """Reading needs `view_knownerror` (department users have none: 403); recording, editing and transitions
    `add_knownerror` (auditors and duty officers only read). Who publishes and retires is the state machine's
    rule."""

    perms_map = {
        **{method: perms for method, perms in RoleModelPermissions.perms_map.items()
           if method not in ("PUT", "DELETE")},
        "PATCH": ["%(app_label)s.add_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        return KnownError.objects.none()


class KnownErrorFilterSet(FilterSet):
    """What a list of known errors can be narrowed by; visibility is applied before, by the view."""

    state = django_filters.MultipleChoiceFilter(choices=KnownErrorState.choices, label=_("state"), distinct=False)
    service = django_filters.ModelChoiceFilter(queryset=Service.objects.all(), label=_("service"))
    configuration_item = django_filters.ModelChoiceFilter(queryset=ConfigurationItem.objects.all(),
                                                          label=_("configuration item"))
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), to_field_name="code",
                                                label=_("category"))
    problem = django_filters.ModelChoiceFilter(queryset=Problem.objects.all(), label=_("problem"))
    q = django_filters.CharFilter(method="filter_text", label=_("search"),
                                  help_text=_("Number, title, symptom, root cause or workaround contains every word."))

    class Meta:
        model = KnownError
        fields = ["state", "service", "configuration_item", "category", "problem"]

    def filter_text(self, queryset: QuerySet[KnownError], name: str, value: str) -> QuerySet[KnownError]:
        return known_errors.known_error_search(queryset, value)


# --- serializers -----------------------------------------------------------------------------------------


class OriginProblemSerializer(serializers.ModelSerializer):
    """The problem a known error was recorded from (on /api/v1/problems/<id>/)."""

    class Meta:
        model = Problem
        fields = ["id", "number", "title", "state"]


class KnownErrorListSerializer(serializers.ModelSerializer):
    """A row of the known-error list: the related records come from the selector's joins."""

    state = serializers.ChoiceField(choices=KnownErrorState.choices, read_only=True)
    state_label = ChoiceLabelField("state")
    service = RefField(ServiceRefSerializer, allow_null=True)
    configuration_item = RefField(ConfigurationItemRefSerializer, allow_null=True)
    category = RefField(CategoryRefSerializer, allow_null=True)
    problem = RefField(OriginProblemSerializer, allow_null=True)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = KnownError
        fields = ["id", "number", "title", "state", "state_label", "symptom", "workaround", "service",
                  "configuration_item", "category", "problem", "published_at", "retired_at", "created_at",
                  "updated_at", "available_transitions"]
        read_only_fields = fields


class KnownErrorDetailSerializer(KnownErrorListSerializer):
    """One known error: its symptom, root cause and workaround, where it applies, and the problem it came from."""

    created_by = RefField(UserRefSerializer)

    class Meta(KnownErrorListSerializer.Meta):
        fields = [*KnownErrorListSerializer.Meta.fields, "root_cause", "permanent_fix", "created_by"]
        read_only_fields = fields


class KnownErrorWriteSerializer(StrictInputMixin, serializers.ModelSerializer):
    """What may be edited on a draft or published known error."""

    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    configuration_item = serializers.PrimaryKeyRelatedField(queryset=ConfigurationItem.objects.all(),
                                                            required=False, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all(), required=False,
                                            allow_null=True)

    class Meta:
        model = KnownError
        fields = ["title", "symptom", "root_cause", "workaround", "service", "configuration_item", "category"]
        extra_kwargs = {"title": {"required": False}, "symptom": {"required": False}}


class KnownErrorCreateSerializer(KnownErrorWriteSerializer):
    """Record a known error as a draft: from `problem` (one being analysed or later; what is left out is filled
    from it), or on its own (then `title` and `symptom` are required)."""

    problem = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False, allow_null=True,
                                       help_text=_("The id of the problem it comes from."))

    class Meta(KnownErrorWriteSerializer.Meta):
        fields = ["problem", *KnownErrorWriteSerializer.Meta.fields]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("problem") is None:
            missing = {f: [_("This field is required.")] for f in ("title", "symptom") if not attrs.get(f)}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class KnownErrorTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """What publish and retire accept: a comment (the reason, required to retire)."""


class SuggestionQuerySerializer(StrictInputMixin, serializers.Serializer):
    """What an incident being recorded says: its words, its service and CI."""

    text = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                 help_text=_("The incident's title and description as typed."))
    service = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX, allow_null=True)
    configuration_item = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX, allow_null=True)


class KnownErrorSuggestionSerializer(serializers.ModelSerializer):
    """A published known error suggested for an incident: what the engineer tries first."""

    service = RefField(ServiceRefSerializer, allow_null=True)
    configuration_item = RefField(ConfigurationItemRefSerializer, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = KnownError
        fields = ["id", "number", "title", "symptom", "workaround", "service", "configuration_item", "url"]
        read_only_fields = fields

    def get_url(self, known_error: KnownError) -> str:
        return f"/api/v1/known-errors/{known_error.pk}/"


# --- the viewset -----------------------------------------------------------------------------------------


@extend_schema_view(transition=extend_schema(
    request=KnownErrorTransitionSerializer, responses=KnownErrorDetailSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition",
    description="publish (symptom, root cause and workaround recorded; the workaround is noted on every open "
                "incident of its problem), retire (comment). Problem managers and supervisors."))
class KnownErrorViewSet(TicketViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Known errors (已知錯誤): IT staff and auditors read them; problem managers, engineers and supervisors record
    and edit them; problem managers and supervisors publish and retire them; department users may not read them
    (403)."""

    queryset = KnownError.objects.none()
    permission_classes = [KnownErrorPermissions]
    filterset_class = KnownErrorFilterSet
    search_fields = ["number", "title", "symptom", "workaround"]
    ordering_fields = ["created_at", "updated_at", "published_at", "number", "state"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    transition_serializer_class = KnownErrorTransitionSerializer

    def get_queryset(self) -> QuerySet[KnownError]:
        if getattr(self, "swagger_fake_view", False):
            return KnownError.objects.none()
        if self.action == "retrieve":
            return known_errors.known_error_list(user=self.request.user).select_related("created_by")
        return known_errors.known_error_list(user=self.request.user)

    def detail_queryset(self) -> QuerySet[KnownError]:
        return known_errors.known_error_list(user=self.request.user).select_related("created_by")

    def filter_queryset(self, queryset: QuerySet[KnownError]) -> QuerySet[KnownError]:
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return KnownErrorListSerializer
        if self.action == "suggestions":
            return KnownErrorSuggestionSerializer
        return KnownErrorDetailSerializer

    @extend_schema(request=KnownErrorCreateSerializer, responses={201: KnownErrorDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a known error as a draft, from a problem the caller may see (404 for any other; 409 before its
        analysis) or on its own."""
        serializer = KnownErrorCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("problem") is not None:
            data["problem"] = known_errors.find_problem(user=request.user, pk=data["problem"])
        else:
            data.pop("problem", None)
        known_error = known_errors.known_error_create(user=request.user, data=data)
        return self.detail_response(known_error, status.HTTP_201_CREATED)

    @extend_schema(request=KnownErrorWriteSerializer, responses=KnownErrorDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit a draft or published known error; each old and new value goes on its timeline (a retired one:
        409)."""
        known_error = self.get_object()
        serializer = KnownErrorWriteSerializer(known_error, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        known_error = known_errors.known_error_update(known_error, user=request.user,
                                                      changes=dict(serializer.validated_data))
        return self.detail_response(known_error)

    def perform_ticket_transition(self, obj: KnownError, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> KnownError:
        return known_errors.known_error_transition(obj, name, user=user, comment=comment, data=data)

    @extend_schema(parameters=[SuggestionQuerySerializer], responses=KnownErrorSuggestionSerializer(many=True),
                   filters=False)
    @action(detail=False, methods=["get"], pagination_class=None)
    def suggestions(self, request: Request) -> Response:
        """The published known errors that may explain an incident being recorded: on its service or CI, or whose
        title or symptom reads like its words (Chinese too), at most five; never drafts or retired ones."""
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = known_errors.known_error_suggestions(user=request.user, **query.validated_data)
        return Response(KnownErrorSuggestionSerializer(found, many=True).data)
