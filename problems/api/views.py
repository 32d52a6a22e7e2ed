"""Problem API: list, detail, identify, edit (the analysis as structure), transitions, linked incidents, raising a
change; the action items of the solution plan with their transitions. Thin: visibility, the filterset, a
serializer, one service call."""

from typing import Any, ClassVar

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from changes.models import Change
from incidents.models import Incident
from opscenter.core.api.tickets import TicketUpdateMixin, TicketViewSetMixin, TransitionActionMixin
from opscenter.core.exceptions import NotFound
from opscenter.core.filters import ID_MAX
from problems import selectors
from problems.api.permissions import ActionItemPermissions, ProblemPermissions
from problems.api.serializers import (
    ACTION_TRANSITION_SERIALIZERS,
    PROBLEM_TRANSITION_SERIALIZERS,
    ActionCreateSerializer,
    ActionItemSerializer,
    ActionTransitionSerializer,
    ActionWriteSerializer,
    LinkedChangeSerializer,
    LinkedIncidentSerializer,
    LinkIncidentsSerializer,
    ProblemCreateSerializer,
    ProblemDetailSerializer,
    ProblemListSerializer,
    ProblemTransitionSerializer,
    ProblemWriteSerializer,
    RaisedChangeSerializer,
)
from problems.filters import ActionItemFilterSet, ProblemFilterSet
from problems.models import ActionItem, Problem
from problems.services import (
    action_add,
    action_transition,
    action_update,
    problem_create,
    problem_link_incidents,
    problem_raise_change,
    problem_transition,
    problem_unlink_incident,
    problem_update,
)


def detail_rows(qs: QuerySet[Problem], user: Any) -> QuerySet[Problem]:
    """Everything the detail shows: incidents and changes only as far as the caller may see them."""
    return qs.select_related(*selectors.LIST_RELATED, "created_by", "report_submitted_by").prefetch_related(
        Prefetch("incidents", queryset=Incident.objects.visible_to(user).order_by("pk"), to_attr="visible_incidents"),
        Prefetch("changes", queryset=Change.objects.visible_to(user).order_by("pk"), to_attr="visible_changes"),
        Prefetch("actions", queryset=ActionItem.objects.select_related("owner").order_by("due_date", "pk")))


@extend_schema_view(partial_update=extend_schema(
    request=ProblemWriteSerializer, responses=ProblemDetailSerializer,
    description="Edit what the state allows: the identification, the investigation (frequency, scope, impact, data "
                "collected), the root-cause analysis (`root_cause`, `fishbone`, `five_whys`; malformed: 400 naming the "
                "field), the report. Each old and new value goes on the timeline.",
), transition=extend_schema(
    request=ProblemTransitionSerializer,
    responses=ProblemDetailSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition",
    description="investigate (owner), analyze, solve (a root cause and a planned action first), verify (every "
                "action done: the observation window starts), reopen (comment), submit_report (the window over "
                "and the report written), approve_report, return_report (comment), cancel (comment).",
))
class ProblemViewSet(TicketUpdateMixin, TicketViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Problems: IT staff and auditors read them; problem managers, engineers and supervisors work them; a
    department user may not read them (403)."""

    queryset = Problem.objects.none()  # the schema's model; get_queryset applies visibility
    permission_classes = [ProblemPermissions]
    filterset_class = ProblemFilterSet
    search_fields = ["number", "title", "description"]
    ordering_fields = ["created_at", "updated_at", "number", "state"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = PROBLEM_TRANSITION_SERIALIZERS
    transition_serializer_class = ProblemTransitionSerializer
    list_serializer_class = ProblemListSerializer
    detail_serializer_class = ProblemDetailSerializer
    update_serializer_class = ProblemWriteSerializer

    def get_queryset(self) -> QuerySet[Problem]:
        if self.action == "list":
            return selectors.problem_list(user=self.request.user)
        if self.action == "retrieve":
            return self.detail_queryset()
        return self.visible()

    def detail_queryset(self) -> QuerySet[Problem]:
        return detail_rows(self.visible(), self.request.user)

    @extend_schema(request=ProblemCreateSerializer, responses={201: ProblemDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Identify a problem from incidents the caller may see (404 for any other), a monitoring alarm or user
        feedback."""
        serializer = ProblemCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        incidents = data.pop("incidents", [])
        problem = problem_create(user=request.user, data=data, incidents=incidents)
        return self.detail_response(problem, status.HTTP_201_CREATED)

    def perform_ticket_update(self, obj: Problem, *, user: Any, changes: dict[str, Any]) -> Problem:
        return problem_update(obj, user=user, changes=changes)

    def perform_ticket_transition(self, obj: Problem, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Problem:
        return problem_transition(obj, name, user=user, comment=comment, data=data)

    @extend_schema(methods=["GET"], responses=LinkedIncidentSerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], filters=False, request=LinkIncidentsSerializer,
                   responses=LinkedIncidentSerializer(many=True),
                   description="Link incidents (ids) the caller may see (any other: 404); one already linked stays "
                               "linked once. Answers the incidents linked now.")
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def incidents(self, request: Request, pk: str | None = None) -> Response:
        """The incidents linked to the problem that the caller may see; linking more."""
        problem = self.get_object()
        if request.method == "POST":
            serializer = LinkIncidentsSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            problem_link_incidents(problem, user=request.user, incidents=serializer.validated_data["incidents"])
        rows = selectors.problem_incidents(user=request.user, problem=problem)
        return Response(LinkedIncidentSerializer(rows, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("incident_id", int, OpenApiParameter.PATH)], request=None,
                   responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"incidents/(?P<incident_id>[0-9]+)")
    def unlink_incident(self, request: Request, pk: str | None = None, incident_id: str = "") -> Response:
        """Unlink an incident (one the caller may see and that is linked: 404 otherwise), on the timeline."""
        problem = self.get_object()
        number = int(incident_id)
        if not 1 <= number <= ID_MAX:  # no incident has such an id (nor could the database be asked)
            raise NotFound({"incident": [_("There is no such incident.")]})
        problem_unlink_incident(problem, user=request.user, incident=number)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={201: RaisedChangeSerializer})
    @action(detail=True, methods=["post"], url_path="raise-change")
    def raise_change(self, request: Request, pk: str | None = None) -> Response:
        """Raise a change from the problem: a draft change request filled from it, linked both ways. Complete and
        submit it on /api/v1/changes/<id>/."""
        problem = self.get_object()
        change = problem_raise_change(problem, user=request.user)
        return Response({"change": LinkedChangeSerializer(change).data}, status=status.HTTP_201_CREATED)


@extend_schema_view(transition=extend_schema(
    request=ActionTransitionSerializer, responses=ActionItemSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition", description="start, complete (result), drop (comment)."))
class ActionItemViewSet(TransitionActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """The action items of the problems' solution plans (measure, steps, owner, due date, state): added and edited
    by the problem's owner or a problem manager while it is analysed or solved; started and completed by their
    owner; `?overdue=true` lists those past their due date."""

    queryset = ActionItem.objects.none()
    serializer_class = ActionItemSerializer
    permission_classes = [ActionItemPermissions]
    filterset_class = ActionItemFilterSet
    search_fields = ["measure", "problem__number"]
    ordering_fields = ["due_date", "created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = ACTION_TRANSITION_SERIALIZERS
    transition_serializer_class = ActionTransitionSerializer

    def get_queryset(self) -> QuerySet[ActionItem]:
        if getattr(self, "swagger_fake_view", False):
            return ActionItem.objects.none()
        visible = Problem.objects.visible_to(self.request.user)
        return (ActionItem.objects.filter(problem__in=visible).select_related("problem", "owner")
                .order_by("due_date", "pk"))

    def _answer(self, action: ActionItem, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=action.pk)).data, status=code)

    @extend_schema(request=ActionCreateSerializer, responses={201: ActionItemSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add an action to a problem's solution plan."""
        serializer = ActionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        problem = data.pop("problem")
        return self._answer(action_add(problem, user=request.user, data=data), status.HTTP_201_CREATED)

    @extend_schema(request=ActionWriteSerializer, responses=ActionItemSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit an unfinished action: measure, steps, owner, due date."""
        item = self.get_object()
        serializer = ActionWriteSerializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._answer(action_update(item, user=request.user, changes=dict(serializer.validated_data)))

    def perform_ticket_transition(self, obj: ActionItem, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> ActionItem:
        return action_transition(obj, name, user=user, comment=comment, data=data)

    def transition_response(self, obj: ActionItem) -> Response:
        return self._answer(obj)
