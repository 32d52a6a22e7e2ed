"""Roster API: /api/v1/duty/rosters/ (list, detail with shifts and findings, create = generate, regenerate,
transitions publish / withdraw / accept_findings), /api/v1/duty/shifts/ (list by team, person, roster, role and
time; single assignments added, changed and removed by supervisors) and /api/v1/duty/on-duty/ (who is on duty now
and next, by team). Thin: a selector, a filterset, a serializer, one service call. Times are read and written in
the duty policy's time zone."""

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from duty import rosters
from duty.api.roster_filters import MomentField, RosterFilterSet, ShiftFilterSet
from duty.api.roster_serializers import (
    AcceptFindingsSerializer,
    OnDutySerializer,
    RosterDetailSerializer,
    RosterGenerateSerializer,
    RosterListSerializer,
    RosterRegenerateSerializer,
    RosterTransitionSerializer,
    ShiftInputSerializer,
    ShiftSerializer,
)
from duty.choices import RosterState
from duty.coverage import attach_findings
from duty.models import DutyPolicy, Roster, Shift
from duty.selectors import may_read_duty, on_duty_board, roster_list, roster_shifts, shift_list
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.tickets import TransitionActionMixin
from opscenter.core.filters import ID_MAX
from opscenter.core.models import Team


class PolicyZoneMixin:
    """Date-times read and written in the duty policy's time zone (ISO 8601 with its offset)."""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.policy = DutyPolicy.current()
        with timezone.override(self.policy.zone):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


@extend_schema_view(transition=extend_schema(
    request=AcceptFindingsSerializer, responses=RosterDetailSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition",
    description="publish (comment optional; refused while findings are neither resolved nor accepted), withdraw "
                "(comment: why), accept_findings (note: why the roster may be published with them).",
))
class RosterViewSet(PolicyZoneMixin, TransitionActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """Rosters: IT staff and auditors read them; supervisors generate, regenerate, accept findings, publish and
    withdraw. Department users are refused (403)."""

    queryset = Roster.objects.none()  # the schema's model; get_queryset applies visibility
    permission_classes = [RoleModelPermissions]
    filterset_class = RosterFilterSet
    ordering_fields = ["first_day", "created_at"]
    http_method_names = ["get", "post", "head", "options"]
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {
        "accept_findings": AcceptFindingsSerializer}
    transition_serializer_class = RosterTransitionSerializer

    def get_queryset(self) -> QuerySet[Roster]:
        if getattr(self, "swagger_fake_view", False):
            return Roster.objects.none()
        user = self.request.user
        if self.action == "list":
            return roster_list(user=user)
        if not may_read_duty(user):
            return Roster.objects.none()
        return Roster.objects.select_related("team", "created_by", "findings_accepted_by").prefetch_related(
            Prefetch("shifts", queryset=roster_shifts()))

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return RosterListSerializer if self.action == "list" else RosterDetailSerializer

    def paginate_queryset(self, queryset: QuerySet[Roster]) -> list[Roster] | None:
        """The page's drafts get their findings worked out together (their available transitions read them)."""
        page = super().paginate_queryset(queryset)
        attach_findings([r for r in page or [] if r.state == RosterState.DRAFT and r.findings_accepted_at is None],
                        policy=self.policy)
        return page

    def get_object(self) -> Roster:
        roster = super().get_object()
        attach_findings([roster], policy=self.policy)
        return roster

    def detail_response(self, roster: Roster, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=roster.pk)
        attach_findings([fresh], policy=self.policy)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(request=RosterGenerateSerializer, responses={201: RosterDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Generate a draft roster of a team for a period (at most 92 days, no other roster of the team on any of
        its days) from rotations, by default the team's active ones."""
        serializer = RosterGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        roster = rosters.roster_generate(user=request.user, **serializer.validated_data)
        return self.detail_response(roster, status.HTTP_201_CREATED)

    @extend_schema(request=RosterRegenerateSerializer, responses=RosterDetailSerializer)
    @action(detail=True, methods=["post"])
    def regenerate(self, request: Request, pk: str | None = None) -> Response:
        """Make a draft's shifts that have not started again from the rotations as they are now; the shifts that
        have started stay."""
        roster = self.get_object()
        serializer = RosterRegenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rosters.roster_regenerate(roster, user=request.user, rotations=serializer.validated_data.get("rotations"))
        return self.detail_response(roster)

    def perform_ticket_transition(self, obj: Roster, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Roster:
        return rosters.roster_transition(obj, name, user=user, comment=comment, data=data)

    def transition_response(self, obj: Roster) -> Response:
        return self.detail_response(obj)


class ShiftViewSet(PolicyZoneMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Shifts of every roster (draft and published) as IT staff and auditors read them, filtered by `team`,
    `person`, `roster`, `role` and the time range `from`–`to`; supervisors add a shift to a draft roster, change
    its person, role or times, or remove it, before it starts."""

    queryset = Shift.objects.none()
    serializer_class = ShiftSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = ShiftFilterSet
    ordering_fields = ["start", "end"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Shift]:
        if getattr(self, "swagger_fake_view", False):
            return Shift.objects.none()
        return shift_list(user=self.request.user)

    def _answer(self, shift: Shift, code: int = status.HTTP_200_OK) -> Response:
        return Response(ShiftSerializer(self.get_queryset().get(pk=shift.pk)).data, status=code)

    @extend_schema(request=ShiftInputSerializer, responses={201: ShiftSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add a shift to a draft roster."""
        serializer = ShiftInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        shift = rosters.shift_add(data.pop("roster"), user=request.user, person=data.pop("user"), **data)
        return self._answer(shift, status.HTTP_201_CREATED)

    @extend_schema(request=ShiftInputSerializer, responses=ShiftSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the person, role, times or shift type of a shift that has not started, on a draft roster."""
        shift = self.get_object()
        serializer = ShiftInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        rosters.shift_update(shift, user=request.user, changes=dict(serializer.validated_data))
        return self._answer(shift)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Remove a shift that has not started from a draft roster."""
        rosters.shift_delete(self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OnDutyQuerySerializer(serializers.Serializer):
    team = serializers.CharField(required=False, max_length=32, help_text="A team's id or code; every active team "
                                                                         "when left out.")
    at = serializers.CharField(required=False, max_length=40, help_text="A moment (ISO 8601; a date is local "
                                                                       "midnight); now when left out.")

    def validate_team(self, value: str) -> Team:
        teams = Team.objects.all()
        found = teams.filter(pk=int(value)).first() if value.isdigit() and int(value) <= ID_MAX else None
        found = found or teams.filter(code=value).first()
        if found is None:
            raise serializers.ValidationError(_("There is no such team."))
        return found

    def validate_at(self, value: str) -> Any:
        try:
            return MomentField().clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class OnDutyViewSet(PolicyZoneMixin, viewsets.GenericViewSet):
    """Who is on duty now (or at `at`) and next, per team."""

    queryset = Shift.objects.none()
    permission_classes = [RoleModelPermissions]
    pagination_class = None
    filter_backends: ClassVar[list] = []

    @extend_schema(parameters=[OnDutyQuerySerializer], responses=OnDutySerializer)
    def list(self, request: Request) -> Response:
        """Each active team (or the one asked for) with the people on its published rosters' shifts at the
        moment, and those whose shifts start next."""
        query = OnDutyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        board = on_duty_board(team=query.validated_data.get("team"), at=at)
        return Response(OnDutySerializer({"at": at, "teams": board}).data)
