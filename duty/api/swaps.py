"""Swap API (/api/v1/duty/swaps/): list, detail with its state and available transitions, asking for a swap, and
its transitions (`transitions/<name>/`). Thin: a selector, a serializer, one service call."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from duty.choices import SwapKind
from duty.models import Shift, SwapRequest
from duty.swaps import swap_list, swap_problems, swap_request, swap_transition
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    RefField,
    StrictInputMixin,
    TeamRefSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField, TicketViewSetMixin
from opscenter.core.models import User


class SwapShiftSerializer(serializers.ModelSerializer):
    team = RefField(TeamRefSerializer)
    user = RefField(UserRefSerializer)
    role_label = ChoiceLabelField("role")

    class Meta:
        model = Shift
        fields = ["id", "start", "end", "team", "role", "role_label", "user"]


class SwapListSerializer(serializers.ModelSerializer):
    """A row of the swaps list: the people, the time given (and taken), the state."""

    kind_label = ChoiceLabelField("kind")
    state_label = ChoiceLabelField("state")
    requester = RefField(UserRefSerializer)
    colleague = RefField(UserRefSerializer)
    created_by = RefField(UserRefSerializer)
    decided_by = RefField(UserRefSerializer, allow_null=True)
    shift = SwapShiftSerializer(read_only=True)
    counter_shift = SwapShiftSerializer(read_only=True, allow_null=True)

    class Meta:
        model = SwapRequest
        fields = ["id", "kind", "kind_label", "state", "state_label", "requester", "colleague", "shift",
                  "part_start", "part_end", "counter_shift", "reason", "created_by", "created_at", "expires_at",
                  "decided_by", "decided_at"]


class SwapDetailSerializer(SwapListSerializer):
    """A swap with what the caller may do now and, while it waits, why it could not be applied as it stands."""

    available_transitions = AvailableTransitionsField()
    problems = serializers.SerializerMethodField(help_text="Why the swap cannot be applied now (empty when it can).")

    class Meta(SwapListSerializer.Meta):
        fields = [*SwapListSerializer.Meta.fields, "problems", "available_transitions"]

    def get_problems(self, obj: SwapRequest) -> list[str]:
        return [] if obj.is_read_only else swap_problems(obj)


class SwapRequestInputSerializer(StrictInputMixin, serializers.Serializer):
    """Ask for a swap: a shift of yours (or, for a supervisor, of the person you act for), the colleague, and for a
    trade the colleague's shift you take; for a part, its start and end within the shift."""

    shift = serializers.PrimaryKeyRelatedField(queryset=Shift.objects.select_related("team", "user", "roster"))
    colleague = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    kind = serializers.ChoiceField(choices=SwapKind.choices, default=SwapKind.GIVE)
    part_start = serializers.DateTimeField(required=False, allow_null=True)
    part_end = serializers.DateTimeField(required=False, allow_null=True)
    counter_shift = serializers.PrimaryKeyRelatedField(
        queryset=Shift.objects.select_related("team", "user", "roster"), required=False, allow_null=True)
    reason = serializers.CharField(max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # only shifts the caller may read can be named
            for name in ("shift", "counter_shift"):
                field = self.fields[name]
                field.queryset = field.queryset.visible_to(request.user)


@extend_schema_view(transition=extend_schema(
    responses=SwapDetailSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Perform a transition",
    description="accept, decline (the colleague, or a supervisor for them), approve, reject (comment: the reason; a "
                "supervisor not part of the swap), cancel (the requester, or a supervisor).",
))
class SwapViewSet(TicketViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Swaps the caller may read: supervisors and auditors all, others the ones they asked for or were asked."""

    queryset = SwapRequest.objects.none()  # the schema's model; get_queryset applies visibility
    permission_classes = [RoleModelPermissions]
    filterset_fields = ["state", "kind"]
    ordering_fields = ["created_at", "expires_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return SwapRequest.objects.none()
        return swap_list(user=self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return SwapListSerializer if self.action == "list" else SwapDetailSerializer

    @extend_schema(request=SwapRequestInputSerializer, responses={201: SwapDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SwapRequestInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        swap = swap_request(by=request.user, **serializer.validated_data)
        return self.detail_response(swap, status.HTTP_201_CREATED)

    def perform_ticket_transition(self, obj: SwapRequest, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> SwapRequest:
        return swap_transition(obj, name, user=user, comment=comment, data=data)
