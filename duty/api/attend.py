"""Attendance, duty log and handover API under /api/v1/duty/: `attendance/` (a shift's attendance, and its
`transitions/check_in|check_out/`), `log/` (append-only: list, read, add) and `handovers/` (written by the
outgoing person, `transitions/acknowledge/` by the incoming one). Thin: a selector, a serializer, one service."""

from typing import Any, ClassVar

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from duty.attendance import attendance_shifts, attendance_transition, check_attendance
from duty.choices import HandoverState, LogKind
from duty.handovers import handover_acknowledge, handover_list, handover_write
from duty.log import changes_visible_to, incidents_visible_to, log_entries_filtered, log_entry_list, log_entry_record
from duty.models import DutyLogEntry, Handover, HandoverItem, Shift
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    RefField,
    StrictInputMixin,
    TeamRefSerializer,
    TransitionInputSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField, TransitionActionMixin
from opscenter.core.filters import FilterSet
from opscenter.core.models import Team


class ReadAndAddPermissions(RoleModelPermissions):
    """Reading needs the model's view permission; a post (a new record, or a transition, which its service
    checks) needs the view permission too, and the services say who may write what."""

    # PUT, PATCH and DELETE are left out: they are not offered (405), whoever asks.
    perms_map = {**{method: perms for method, perms in RoleModelPermissions.perms_map.items()
                    if method not in ("PUT", "PATCH", "DELETE")},
                 "POST": ["%(app_label)s.view_%(model_name)s"]}


class DutyRecordViewSet(viewsets.GenericViewSet):
    """The base of these endpoints: read by those with the view permission, posted to (a record, a transition)
    as the services allow; `rows(user)` gives the records the caller may read."""

    permission_classes = [ReadAndAddPermissions]
    http_method_names = ["get", "post", "head", "options"]

    def rows(self, user: Any) -> Any:
        raise NotImplementedError

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.rows(self.request.user)


class ServiceCreateMixin:
    """A create done by the app's service: the input checked by `input_serializer_class`, the record made by
    `perform_service_create(user, data)`, and the answer the record as the viewset's serializer shows it (201)."""

    input_serializer_class: ClassVar[type[serializers.Serializer]]

    def perform_service_create(self, user: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        record = self.perform_service_create(request.user, dict(data.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data,
                        status=status.HTTP_201_CREATED)


# --- Attendance -------------------------------------------------------------------------------------------------


class ShiftAttendanceSerializer(serializers.ModelSerializer):
    team = RefField(TeamRefSerializer)
    user = RefField(UserRefSerializer)
    role_label = ChoiceLabelField("role")
    attendance_label = ChoiceLabelField("attendance")
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Shift
        fields = ["id", "team", "user", "role", "role_label", "start", "end", "attendance", "attendance_label",
                  "checked_in_at", "checked_out_at", "late_minutes", "absence_notified_at", "available_transitions"]
        read_only_fields = fields


class ShiftAttendanceFilterSet(FilterSet):
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("only my shifts"))
    starts_after = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Shift
        fields = ["team", "user", "role", "attendance", "mine", "starts_after", "starts_before"]

    def filter_mine(self, queryset: Any, name: str, value: bool) -> Any:
        return queryset.filter(user=self.request.user) if value else queryset


@extend_schema_view(transition=extend_schema(
    request=TransitionInputSerializer, responses=ShiftAttendanceSerializer,
    parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
    summary="Check in or out of a shift",
    description="check_in (from the policy's minutes before the start until the end; late after the grace "
                "period), check_out (once the incoming person has acknowledged the handover).",
))
class AttendanceViewSet(TransitionActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, DutyRecordViewSet):
    """The attendance of published shifts (IT staff and auditors read them; department users none)."""

    queryset = Shift.objects.none()
    serializer_class = ShiftAttendanceSerializer
    filterset_class = ShiftAttendanceFilterSet
    ordering_fields = ["start"]

    def rows(self, user: Any) -> Any:
        return attendance_shifts(user=user).order_by("start", "pk")

    def check_ticket_transition(self, obj: Shift, name: str, *, user: Any) -> None:
        check_attendance(obj, name, user=user)

    def perform_ticket_transition(self, obj: Shift, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Shift:
        return attendance_transition(obj, name, user=user, comment=comment)


# --- The duty log -----------------------------------------------------------------------------------------------


class LinkedTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()


class DutyLogEntrySerializer(serializers.ModelSerializer):
    author = RefField(UserRefSerializer)
    team = serializers.SerializerMethodField()
    kind_label = ChoiceLabelField("kind")
    incidents = LinkedTicketSerializer(many=True, read_only=True)
    changes = LinkedTicketSerializer(many=True, read_only=True)

    class Meta:
        model = DutyLogEntry
        fields = ["id", "shift", "team", "author", "occurred_at", "recorded_at", "kind", "kind_label", "text",
                  "informed", "incidents", "changes"]
        read_only_fields = fields

    def get_team(self, entry: DutyLogEntry) -> dict[str, Any] | None:
        team = entry.shift.team if entry.shift_id else None
        return {"id": team.pk, "code": team.code, "name": team.name} if team else None


@extend_schema_field(OpenApiTypes.INT)
class VisibleTicketsField(serializers.PrimaryKeyRelatedField):
    """A ticket by id among those the requesting user may see; another is refused as one that does not exist."""

    def __init__(self, visible: Any, **kwargs: Any) -> None:
        self.visible = visible
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.visible(self.context["request"].user)


class DutyLogEntryInputSerializer(StrictInputMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=LogKind.choices)
    occurred_at = serializers.DateTimeField(required=False, help_text=_("When it happened; now when omitted."))
    text = serializers.CharField(max_length=10000)
    informed = serializers.CharField(max_length=200, required=False, allow_blank=True)
    incidents = VisibleTicketsField(incidents_visible_to, many=True, required=False)
    changes = VisibleTicketsField(changes_visible_to, many=True, required=False)


class DutyLogFilterSet(FilterSet):
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), method="by")
    day = django_filters.DateFilter(method="by", help_text=_("A day of the duty policy's time zone."))
    kind = django_filters.ChoiceFilter(choices=LogKind.choices, method="by")

    class Meta:
        model = DutyLogEntry
        fields = ["team", "day", "kind", "shift"]

    def by(self, queryset: Any, name: str, value: Any) -> Any:
        return log_entries_filtered(queryset, **{name: value})


@extend_schema_view(create=extend_schema(request=DutyLogEntryInputSerializer, responses={201: DutyLogEntrySerializer}))
class DutyLogViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, DutyRecordViewSet):
    """值班日誌: append-only. An entry is added to the author's current shift and never changed or deleted (PUT,
    PATCH and DELETE answer 405)."""

    queryset = DutyLogEntry.objects.none()
    serializer_class = DutyLogEntrySerializer
    filterset_class = DutyLogFilterSet
    input_serializer_class = DutyLogEntryInputSerializer

    def rows(self, user: Any) -> Any:
        return log_entry_list(user=user)

    def perform_service_create(self, user: Any, data: dict[str, Any]) -> DutyLogEntry:
        return log_entry_record(user=user, **data)


# --- Handovers --------------------------------------------------------------------------------------------------


class HandoverItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoverItem
        fields = ["source", "reference", "title", "status", "url"]


class ShiftRefSerializer(serializers.ModelSerializer):
    user = RefField(UserRefSerializer)

    class Meta:
        model = Shift
        fields = ["id", "user", "role", "start", "end"]


class HandoverSerializer(serializers.ModelSerializer):
    team = serializers.SerializerMethodField()
    shift = ShiftRefSerializer(read_only=True)
    incoming_shift = ShiftRefSerializer(read_only=True)
    written_by = RefField(UserRefSerializer)
    acknowledged_by = RefField(UserRefSerializer, allow_null=True)
    state_label = ChoiceLabelField("state")
    items = HandoverItemSerializer(many=True, read_only=True)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Handover
        fields = ["id", "team", "shift", "incoming_shift", "summary", "written_by", "written_at", "state",
                  "state_label", "acknowledged_by", "acknowledged_at", "items", "available_transitions"]
        read_only_fields = fields

    def get_team(self, handover: Handover) -> dict[str, Any]:
        team = handover.shift.team
        return {"id": team.pk, "code": team.code, "name": team.name}


class HandoverInputSerializer(StrictInputMixin, serializers.Serializer):
    shift = serializers.PrimaryKeyRelatedField(queryset=Shift.objects.none(), help_text=_("The outgoing shift."))
    summary = serializers.CharField(max_length=20000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["shift"].queryset = attendance_shifts(user=request.user)


class HandoverFilterSet(FilterSet):
    team = django_filters.ModelChoiceFilter(field_name="shift__team", queryset=Team.objects.all())
    state = django_filters.ChoiceFilter(choices=HandoverState.choices)

    class Meta:
        model = Handover
        fields = ["team", "state"]


@extend_schema_view(
    create=extend_schema(request=HandoverInputSerializer, responses={201: HandoverSerializer}),
    transition=extend_schema(request=TransitionInputSerializer, responses=HandoverSerializer,
                             parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
                             summary="Acknowledge a handover", description="acknowledge (the incoming person)."),
)
class HandoverViewSet(ServiceCreateMixin, TransitionActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      DutyRecordViewSet):
    """交接班: written by the outgoing person with what it carries over, acknowledged by the incoming one."""

    queryset = Handover.objects.none()
    serializer_class = HandoverSerializer
    filterset_class = HandoverFilterSet
    input_serializer_class = HandoverInputSerializer

    def rows(self, user: Any) -> Any:
        return handover_list(user=user).prefetch_related("items")

    def perform_service_create(self, user: Any, data: dict[str, Any]) -> Handover:
        return handover_write(user=user, **data)

    def perform_ticket_transition(self, obj: Handover, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Handover:
        if name == "acknowledge":
            return handover_acknowledge(obj, user=user, comment=comment)
        return super().perform_ticket_transition(obj, name, user=user, comment=comment, data=data)
