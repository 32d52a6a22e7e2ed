"""Change API: list, detail, request, edit, transitions, the schedule check, opinions, votes, steps and
post-implementation reviews; standard-change templates, freeze and maintenance windows, votes and the risk
questionnaire. Thin: visibility, the filterset, a serializer, one service call."""

from typing import Any, ClassVar

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from changes.api.filters import ChangeFilterSet, ChangeVoteFilterSet
from changes.api.permissions import ChangePermissions
from changes.api.serializers import (
    TRANSITION_SERIALIZERS,
    ChangeCreateSerializer,
    ChangeDetailSerializer,
    ChangeListSerializer,
    ChangeRequestSerializer,
    ChangeTemplateSerializer,
    ChangeTransitionSerializer,
    FreezeWindowSerializer,
    MaintenanceWindowSerializer,
    OpinionInputSerializer,
    OpinionSerializer,
    ReviewSerializer,
    RiskQuestionSerializer,
    ScheduleCheckSerializer,
    StepRecordSerializer,
    StepSerializer,
    VoteSerializer,
)
from changes.choices import ChangeType
from changes.models import (
    Change,
    ChangeOpinion,
    ChangeReview,
    ChangeStep,
    ChangeTemplate,
    ChangeVote,
    FreezeWindow,
    MaintenanceWindow,
    RiskOption,
    RiskQuestion,
)
from changes.rules import schedule_check
from changes.services import (
    change_create,
    change_give_opinion,
    change_invite_opinions,
    change_record_review,
    change_record_step,
    change_transition,
    change_update,
    template_propose,
)
from incidents.models import Incident
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.tickets import TicketUpdateMixin, TicketViewSetMixin, TransitionActionMixin
from opscenter.core.exceptions import InvalidInput

# A step's position is a small positive integer: anything larger names no step (and is not sent to the database).
MAX_STEP_POSITION = 32767


def list_rows(qs: QuerySet[Change]) -> QuerySet[Change]:
    """What a list row shows and what its available transitions read (votes for approval and segregation of
    duties, steps for verification, reviews for closing), in a number of queries that does not grow with rows."""
    return qs.select_related("created_by", "implementer", "template").prefetch_related(
        "services", "cab_members", "votes", Prefetch("steps", queryset=ChangeStep.objects.only(
            "pk", "change_id", "position", "status").order_by("position")),
        Prefetch("reviews", queryset=ChangeReview.objects.only("pk", "change_id")))


def detail_rows(qs: QuerySet[Change], user: Any) -> QuerySet[Change]:
    """Everything the detail shows; related incidents only as far as the caller may see them."""
    return qs.select_related("created_by", "implementer", "template", "assessed_by").prefetch_related(
        "services", "configuration_items", "cab_members",
        Prefetch("related_incidents", queryset=Incident.objects.visible_to(user).order_by("pk")),
        Prefetch("votes", queryset=ChangeVote.objects.select_related("voter")),
        Prefetch("steps", queryset=ChangeStep.objects.select_related("done_by").order_by("position")),
        Prefetch("opinions", queryset=ChangeOpinion.objects.select_related("reviewer", "requested_by")),
        Prefetch("reviews", queryset=ChangeReview.objects.only("pk", "change_id")))


@extend_schema_view(partial_update=extend_schema(
    request=ChangeRequestSerializer, responses=ChangeDetailSerializer,
    description="Edit what the state allows. Editing approved content (content, window, services, CIs, plan) sends "
                "an approved or scheduled change back to awaiting approval, the old and new values in the timeline.",
), transition=extend_schema(
    request=ChangeTransitionSerializer,
    responses=ChangeDetailSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition",
    description="submit, start_assessment, send_back (comment), assess (necessity, feasibility, assessment, "
                "risk_level, override_reason, cab_members, implementer), approve, reject (comment), schedule "
                "(acknowledge_conflicts), start, fail (what_happened), roll_back (rollback_log), verify "
                "(function, performance, data_integrity), complete (report), close (review), cancel (comment).",
))
class ChangeViewSet(TicketUpdateMixin, TicketViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """Changes the caller may see (IT staff and auditors: all; others: their own requests and the changes on
    their department's services); any other change is 404 everywhere."""

    queryset = Change.objects.none()  # the schema's model; get_queryset applies visibility
    permission_classes = [ChangePermissions]
    filterset_class = ChangeFilterSet
    search_fields = ["number", "title", "description"]
    ordering_fields = ["created_at", "updated_at", "planned_start", "number", "state", "risk_level"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Every transition reads its input strictly (unknown keys are a 400), whether or not it needs data.
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = TRANSITION_SERIALIZERS
    transition_serializer_class = ChangeTransitionSerializer
    list_serializer_class = ChangeListSerializer
    detail_serializer_class = ChangeDetailSerializer
    update_serializer_class = ChangeRequestSerializer

    def get_queryset(self) -> QuerySet[Change]:
        if self.action == "list":
            return list_rows(self.visible())
        if self.action == "retrieve":
            return detail_rows(self.visible(), self.request.user)
        return self.visible()

    def detail_queryset(self) -> QuerySet[Change]:
        return detail_rows(self.visible(), self.request.user)

    @staticmethod
    def _request_data(serializer: serializers.Serializer) -> tuple[dict[str, Any], list[str] | None]:
        data = dict(serializer.validated_data)
        return data, data.pop("steps", None)

    @extend_schema(request=ChangeCreateSerializer, responses={201: ChangeDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Request a change, as a draft (a `template` makes it a standard change); submit it with a transition."""
        serializer = ChangeCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data, steps = self._request_data(serializer)
        change = change_create(requester=request.user, data=data, steps=steps)
        return self.detail_response(change, status.HTTP_201_CREATED)

    def perform_ticket_update(self, obj: Change, *, user: Any, changes: dict[str, Any]) -> Change:
        steps = changes.pop("steps", None)
        return change_update(obj, user=user, changes=changes, steps=steps)

    def perform_ticket_transition(self, obj: Change, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Change:
        return change_transition(obj, name, user=user, comment=comment, data=data)

    @extend_schema(responses=ScheduleCheckSerializer, filters=False)
    @action(detail=True, methods=["get"], url_path="schedule-check", pagination_class=None)
    def schedule_check(self, request: Request, pk: str | None = None) -> Response:
        """What scheduling the change now would meet — the same check the schedule transition enforces."""
        change = self.get_object()
        check = schedule_check(change)
        return Response(ScheduleCheckSerializer({
            "freezes": [{"id": f.pk, "name": f.name, "starts_at": f.starts_at.isoformat(),
                         "ends_at": f.ends_at.isoformat(), "services": [s.pk for s in f.services.all()]}
                        for f in check.freezes],
            "freeze_refuses": bool(check.freezes) and change.change_type != ChangeType.EMERGENCY,
            "maintenance_warnings": check.maintenance_warnings,
            "conflicts": [c.as_dict() for c in check.conflicts],
            "must_acknowledge_conflicts": bool(check.conflicts),
        }).data)

    @extend_schema(methods=["GET"], responses=OpinionSerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], filters=False, request=OpinionInputSerializer,
                   responses={201: OpinionSerializer(many=True)},
                   description="A supervisor invites reviewers (`reviewers`: user ids); an invited engineer or "
                               "security officer gives their opinion (`recommendation` and `opinion`). Answers "
                               "the change's opinions.")
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def opinions(self, request: Request, pk: str | None = None) -> Response:
        """Assessment opinions: invited by the supervisor, given once by each reviewer, while assessing."""
        change = self.get_object()
        if request.method == "POST":
            serializer = OpinionInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            if "reviewers" in data:
                change_invite_opinions(change, user=request.user, reviewers=data["reviewers"])
            else:
                change_give_opinion(change, user=request.user, recommendation=data["recommendation"],
                                    opinion=data["opinion"])
        rows = ChangeOpinion.objects.filter(change=change).select_related("reviewer", "requested_by")
        code = status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK
        return Response(OpinionSerializer(rows, many=True).data, status=code)

    @extend_schema(responses=VoteSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def votes(self, request: Request, pk: str | None = None) -> Response:
        """Every approval decision on the change, of every round: who, when, what, why, joint review or not."""
        change = self.get_object()
        rows = ChangeVote.objects.filter(change=change).select_related("voter", "change").order_by(
            "round", "created_at", "pk")
        return Response(VoteSerializer(rows, many=True).data)

    @extend_schema(request=StepRecordSerializer, responses=StepSerializer,
                   parameters=[OpenApiParameter("position", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<position>[0-9]+)")
    def record_step(self, request: Request, pk: str | None = None, position: str = "") -> Response:
        """The implementer records a step of the plan done, or skipped with the reason."""
        change = self.get_object()
        serializer = StepRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        number = int(position)
        if not 1 <= number <= MAX_STEP_POSITION:
            raise InvalidInput({"position": [_("The plan has no such step.")]})
        step = change_record_step(change, user=request.user, position=number, **serializer.validated_data)
        return Response(StepSerializer(step).data)

    @extend_schema(methods=["GET"], responses=ReviewSerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], request=ReviewSerializer, responses={201: ReviewSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def reviews(self, request: Request, pk: str | None = None) -> Response:
        """Post-implementation reviews; a supervisor records one (required before closing an emergency or
        failed change)."""
        change = self.get_object()
        if request.method == "POST":
            serializer = ReviewSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            review = change_record_review(change, user=request.user, data=serializer.validated_data)
            return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)
        rows = ChangeReview.objects.filter(change=change).select_related("recorded_by")
        return Response(ReviewSerializer(rows, many=True).data)


@extend_schema_view(transition=extend_schema(
    request=ChangeTransitionSerializer, responses=ChangeTemplateSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition", description="approve, retire (supervisors)."))
class ChangeTemplateViewSet(TransitionActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    """Standard-change templates: IT staff read and propose them; a supervisor approves each once (changes made
    from it are then approved at once) and retires it."""

    queryset = ChangeTemplate.objects.select_related("proposed_by", "approved_by").prefetch_related("services")
    serializer_class = ChangeTemplateSerializer
    permission_classes = [RoleModelPermissions]
    filterset_fields = ["state", "category"]
    search_fields = ["name", "description"]
    http_method_names = ["get", "post", "head", "options"]
    transition_serializer_class = ChangeTransitionSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Propose a standard change."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = template_propose(user=request.user, data=dict(serializer.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=template.pk)).data,
                        status=status.HTTP_201_CREATED)


class FreezeWindowViewSet(viewsets.ModelViewSet):
    """Freeze (blackout) windows: no normal or standard change is scheduled inside one. IT staff read them;
    supervisors create, edit and delete them."""

    queryset = FreezeWindow.objects.select_related("created_by").prefetch_related("services")
    serializer_class = FreezeWindowSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["name", "reason"]
    ordering_fields = ["starts_at", "ends_at", "name"]

    def perform_create(self, serializer: serializers.Serializer) -> None:
        serializer.save(created_by=self.request.user)


class MaintenanceWindowViewSet(viewsets.ModelViewSet):
    """Maintenance windows per service (a recurrence): scheduling outside them is a warning. IT staff read
    them; supervisors create, edit and delete them."""

    queryset = MaintenanceWindow.objects.select_related("service")
    serializer_class = MaintenanceWindowSerializer
    permission_classes = [RoleModelPermissions]
    filterset_fields = ["service", "is_active"]
    search_fields = ["name"]


class ChangeVoteViewSet(viewsets.ReadOnlyModelViewSet):
    """Approval decisions and CAB votes on the changes the caller may see (append-only)."""

    queryset = ChangeVote.objects.none()
    serializer_class = VoteSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = ChangeVoteFilterSet
    ordering_fields = ["created_at", "round"]

    def get_queryset(self) -> QuerySet[ChangeVote]:
        if getattr(self, "swagger_fake_view", False):
            return ChangeVote.objects.none()
        visible = Change.objects.visible_to(self.request.user)
        return ChangeVote.objects.filter(change__in=visible.values("pk")).select_related("voter", "change")


class RiskQuestionViewSet(viewsets.ReadOnlyModelViewSet):
    """The risk questionnaire in force, each question with its weighted answers (edited in the admin)."""

    queryset = RiskQuestion.objects.filter(is_active=True).prefetch_related(
        Prefetch("options", queryset=RiskOption.objects.order_by("ordering", "pk")))
    serializer_class = RiskQuestionSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None
