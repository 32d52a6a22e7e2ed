"""Incident API: list, detail, report, edit, transitions, links, review meetings, categories and the
priority matrix. Thin: a selector, the filterset, a serializer, one service call."""

from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import selectors
from incidents.api.permissions import IncidentPermissions
from incidents.api.serializers import (
    TRANSITION_SERIALIZERS,
    CategorySerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    IncidentReportSerializer,
    IncidentTransitionSerializer,
    IncidentUpdateSerializer,
    LinkSerializer,
    MajorIncidentReviewSerializer,
    PriorityRuleSerializer,
)
from incidents.filters import IncidentFilterSet
from incidents.models import Incident, MajorIncidentReview, PriorityRule
from incidents.services import (
    incident_link,
    incident_record_review,
    incident_report,
    incident_transition,
    incident_update,
)
from opscenter.core.api.tickets import TicketUpdateMixin, TicketViewSetMixin
from opscenter.core.roles import user_roles, user_team_ids


@extend_schema_view(partial_update=extend_schema(
    request=IncidentUpdateSerializer, responses=IncidentDetailSerializer,
), transition=extend_schema(
    request=IncidentTransitionSerializer,
    responses=IncidentDetailSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition",
    description="classify, reclassify (impact, urgency, comment: the reason), assign, reassign, start_diagnosis, "
                "start_handling, restore, confirm_recovery, "
                "submit_report, approve_report, return_report (comment), hold, resume, cancel, reopen (comment), "
                "declare_major.",
))
class IncidentViewSet(TicketUpdateMixin, TicketViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Incidents the caller may see; another department's incident is 404 everywhere."""

    queryset = Incident.objects.none()  # the schema's model; get_queryset applies visibility
    permission_classes = [IncidentPermissions]
    filterset_class = IncidentFilterSet
    search_fields = ["number", "title", "description", "caller_name"]
    ordering_fields = ["created_at", "updated_at", "occurred_at", "priority", "state", "number"]
    # Without `ordering`, the most urgent first (open, by priority, the nearest deadline): read in index order.
    ordering = selectors.URGENT_FIRST
    http_method_names = ["get", "post", "patch", "head", "options"]
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = TRANSITION_SERIALIZERS
    transition_serializer_class = IncidentTransitionSerializer
    update_serializer_class = IncidentUpdateSerializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Load the caller's roles and teams once: available_transitions reads them for every row.
        user_roles(request.user)
        user_team_ids(request.user)

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Incident.objects.none()
        # Visibility costs a query of its own; work out the rows' base once per request.
        if not hasattr(self, "_visible"):
            self._visible = selectors.incident_list_detailed(user=self.request.user)
        return self._visible.all()

    def filter_queryset(self, queryset):  # noqa: ANN001, ANN201
        # The filters narrow lists; a detail, a transition or a link finds its incident by id alone (building
        # the filterset for them cost a few milliseconds a request and changed nothing).
        if self.action != "list":
            return queryset
        return super().filter_queryset(selectors.list_rows(queryset))

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return IncidentListSerializer
        return IncidentDetailSerializer

    @extend_schema(request=IncidentReportSerializer, responses={201: IncidentDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = IncidentReportSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        incident = incident_report(recorder=request.user, data=serializer.validated_data)
        # Whoever records an incident may see it (they created it), and the saved object holds everything
        # the detail shows: answer with it instead of reading it back.
        return Response(IncidentDetailSerializer(incident, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def perform_ticket_update(self, obj: Incident, *, user: Any, changes: dict[str, Any]) -> Incident:
        return incident_update(obj, user=user, changes=changes)

    def perform_ticket_transition(self, obj: Incident, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Incident:
        return incident_transition(obj, name, user=user, comment=comment, data=data)

    @extend_schema(request=LinkSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def link(self, request: Request, pk: str | None = None) -> Response:
        """Make another visible incident this one's parent (null unlinks)."""
        incident = self.get_object()
        serializer = LinkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        incident = incident_link(incident, user=request.user, parent=serializer.validated_data["parent"])
        return self.detail_response(incident)

    @extend_schema(responses=IncidentListSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def children(self, request: Request, pk: str | None = None) -> Response:
        """The child incidents the caller may see."""
        incident = self.get_object()
        rows = self.get_queryset().filter(parent=incident).order_by("created_at", "pk")
        return Response(IncidentListSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(methods=["GET"], responses=MajorIncidentReviewSerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], request=MajorIncidentReviewSerializer,
                   responses={201: MajorIncidentReviewSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def reviews(self, request: Request, pk: str | None = None) -> Response:
        """The review meetings of a major incident; a supervisor records one (needed before closing)."""
        incident = self.get_object()
        if request.method == "POST":
            serializer = MajorIncidentReviewSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            review = incident_record_review(incident, user=request.user, data=serializer.validated_data)
            return Response(MajorIncidentReviewSerializer(review).data, status=status.HTTP_201_CREATED)
        reviews = MajorIncidentReview.objects.filter(incident=incident).select_related("recorded_by")
        return Response(MajorIncidentReviewSerializer(reviews, many=True).data)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Incident categories (edited in the admin)."""

    queryset = selectors.categories()
    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated]
    search_fields = ["code", "name", "name_zh_hant"]
    filterset_fields = ["is_security"]


class PriorityMatrixViewSet(viewsets.ReadOnlyModelViewSet):
    """The impact × urgency → priority matrix in force (edited in the admin; applies to new classifications)."""

    queryset = PriorityRule.objects.all()
    serializer_class = PriorityRuleSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["impact", "urgency", "priority"]
