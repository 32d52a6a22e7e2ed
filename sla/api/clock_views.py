"""An incident's clocks in the API: each clock's due time and remaining business time (on the incident's own
detail, through the kernel's extra fields), and GET /api/v1/sla/incidents/<id>/clocks/ with their timelines,
for whoever may see the incident."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Incident
from opscenter.core.api.serializers import UserRefSerializer, choice_label, datetime_text
from opscenter.core.filters import ID_MAX
from sla.choices import ClockEventKind, ClockKind, ClockState
from sla.clocks import ClockStatus, clock_status, incident_agreement_data, incident_clocks
from sla.selectors import sees_all_departments


class ClockTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ClockEventSerializer(serializers.Serializer):
    """One entry of a clock's timeline, with who and why and the business seconds it counted."""

    kind = serializers.ChoiceField(choices=ClockEventKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    at = serializers.DateTimeField()
    actor = UserRefSerializer(allow_null=True)
    reason = serializers.CharField()
    segment_seconds = serializers.IntegerField()
    target_seconds = serializers.IntegerField(allow_null=True)


class ClockSerializer(serializers.Serializer):
    """A clock as it stands now: `due_at` while it runs toward a target, `remaining_seconds` of business time
    (negative once past the target), paused, stopped, breached; and its timeline."""

    id = serializers.IntegerField(source="clock.pk")
    # A plain string in the schema: as an enum it would share its name "kind" with the breaches' one.
    kind = serializers.CharField(source="clock.kind", help_text=", ".join(ClockKind.values))
    kind_label = serializers.CharField(source="clock.get_kind_display")
    team = ClockTeamSerializer(source="clock.team", allow_null=True)
    state = serializers.ChoiceField(choices=ClockState.choices, source="clock.state")
    state_label = serializers.CharField(source="clock.get_state_display")
    priority = serializers.CharField(source="clock.priority")
    calendar = serializers.CharField(source="clock.calendar.name", allow_null=True)
    target_seconds = serializers.IntegerField(source="clock.target_seconds", allow_null=True)
    elapsed_seconds = serializers.IntegerField()
    remaining_seconds = serializers.IntegerField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(source="clock.started_at")
    stopped_at = serializers.DateTimeField(source="clock.stopped_at", allow_null=True)
    paused = serializers.SerializerMethodField()
    breached = serializers.BooleanField(source="clock.breached")
    overdue = serializers.BooleanField()
    events = ClockEventSerializer(source="clock.events.all", many=True)

    def get_paused(self, status: ClockStatus) -> bool:
        return status.clock.state == ClockState.PAUSED


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "username": user.username, "name": str(user)}


def clock_data(status: ClockStatus) -> dict[str, Any]:
    """What `ClockSerializer` gives for a clock, written out: an incident's detail shows its clocks with their
    timelines, and DRF's serializers took ≈ 1 ms a clock (a test compares the two)."""
    clock = status.clock
    team = clock.team
    calendar = clock.calendar
    return {
        "id": clock.pk, "kind": clock.kind, "kind_label": choice_label(clock, "kind"),
        "team": None if team is None else {"id": team.pk, "code": team.code, "name": team.name},
        "state": clock.state, "state_label": choice_label(clock, "state"), "priority": clock.priority,
        "calendar": None if calendar is None else calendar.name, "target_seconds": clock.target_seconds,
        "elapsed_seconds": status.elapsed_seconds, "remaining_seconds": status.remaining_seconds,
        "due_at": datetime_text(status.due_at), "started_at": datetime_text(clock.started_at),
        "stopped_at": datetime_text(clock.stopped_at),
        "paused": clock.state == ClockState.PAUSED, "breached": clock.breached, "overdue": status.overdue,
        "events": [{"kind": event.kind, "kind_label": choice_label(event, "kind"), "at": datetime_text(event.at),
                    "actor": _person(event.actor), "reason": event.reason, "segment_seconds": event.segment_seconds,
                    "target_seconds": event.target_seconds} for event in clock.events.all()],
    }


def department_view(clocks: list[dict[str, Any]], user: Any) -> list[dict[str, Any]]:
    """The clocks a reader sees: a department's users not the IT center's internal team (OLA) clocks."""
    if user is not None and sees_all_departments(user):
        return clocks
    return [c for c in clocks if c["kind"] != ClockKind.OLA]


@extend_schema_field(ClockSerializer(many=True))
class IncidentClocksField(serializers.Field):
    """The `sla_clocks` of an incident's detail: its clocks now with their timelines (one query, and three
    more when it has clocks: their calendars' hours and exceptions, their events)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, incident: Incident) -> list[dict[str, Any]]:
        request = self.context.get("request")
        return department_view([clock_data(clock_status(c)) for c in incident_clocks(incident, events=True)],
                               getattr(request, "user", None))


class IncidentAgreementSerializer(serializers.Serializer):
    """The agreement an incident's clocks count against, and why it applies."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    department_id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=["department", "service_owner", "default"], help_text=(
        "department: the incident's department's; service_owner: the agreement of its service's owner department "
        "(the incident's own department has none); default: the default agreement the supervisors set."))


@extend_schema_field(IncidentAgreementSerializer(allow_null=True))
class IncidentAgreementField(serializers.Field):
    """The `sla_agreement` of an incident's detail: the agreement its response and resolution clocks count against,
    null when none applies (its clocks then have no target: set its department, or ask a supervisor for a default
    agreement). One query (none right after reporting)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, incident: Incident) -> dict[str, Any] | None:
        return incident_agreement_data(incident)


class IncidentClocksView(APIView):
    """GET: the incident's clocks with their timelines; 404 for an incident the caller may not see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ClockSerializer(many=True), operation_id="sla_incident_clocks")
    def get(self, request: Request, pk: int) -> Response:
        if not 1 <= pk <= ID_MAX or not Incident.objects.visible_to(request.user).filter(pk=pk).exists():
            raise NotFound()
        return Response(department_view([clock_data(clock_status(c)) for c in incident_clocks(pk, events=True)],
                                        request.user))
