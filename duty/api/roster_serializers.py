"""Serializers of rosters, shifts, findings and who is on duty. Input is strict (unknown keys are a 400); the
rules of the roster live in duty.rosters, not here."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from duty.choices import FindingKind, RosterState
from duty.coverage import Finding, roster_findings
from duty.models import DUTY_ROLES, Roster, Rotation, Shift, ShiftType
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    RefField,
    StrictInputMixin,
    TeamRefSerializer,
    TransitionInputSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField
from opscenter.core.models import Team, User


class ShiftTypeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShiftType
        fields = ["id", "code", "name"]


class ShiftSerializer(serializers.ModelSerializer):
    """A shift: who, in which role, from when to when (ISO 8601 in the duty policy's time zone)."""

    team = RefField(TeamRefSerializer)
    user = RefField(UserRefSerializer)
    shift_type = RefField(ShiftTypeRefSerializer, allow_null=True)
    role_label = ChoiceLabelField("role")
    attendance_label = ChoiceLabelField("attendance")

    class Meta:
        model = Shift
        fields = ["id", "roster", "team", "shift_type", "role", "role_label", "user", "start", "end", "attendance",
                  "attendance_label"]
        read_only_fields = fields


class FindingSerializer(serializers.Serializer):
    """A coverage gap in a role, or a person's over-long stint or short rest."""

    kind = serializers.ChoiceField(choices=FindingKind.choices)
    kind_label = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    role = serializers.CharField(help_text="The role short of people (gaps).")
    role_label = serializers.CharField()
    required = serializers.IntegerField(help_text="People the shift types require (gaps).")
    present = serializers.IntegerField(help_text="People on the roster (gaps).")
    user = serializers.IntegerField(source="user_id", allow_null=True, help_text="The person (stints, rests).")
    person = serializers.CharField()
    limit_hours = serializers.IntegerField(help_text="The policy's longest stint or shortest rest.")
    text = serializers.SerializerMethodField()

    def get_text(self, finding: Finding) -> str:
        return finding.text()


class RosterListSerializer(serializers.ModelSerializer):
    """A roster in a list. `open_findings` counts a draft's findings not accepted yet (null for a published
    roster, which had none or had them accepted)."""

    team = RefField(TeamRefSerializer)
    state_label = ChoiceLabelField("state")
    created_by = RefField(UserRefSerializer)
    shift_count = serializers.SerializerMethodField()
    open_findings = serializers.SerializerMethodField()
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Roster
        fields = ["id", "team", "first_day", "last_day", "state", "state_label", "published_at",
                  "findings_accepted_at", "created_by", "created_at", "shift_count", "open_findings",
                  "available_transitions"]
        read_only_fields = fields

    def get_shift_count(self, roster: Roster) -> int:
        count = getattr(roster, "shift_count", None)
        return count if count is not None else len(roster.shifts.all())

    @extend_schema_field(OpenApiTypes.INT)
    def get_open_findings(self, roster: Roster) -> int | None:
        if roster.state != RosterState.DRAFT:
            return None
        return 0 if roster.findings_accepted_at is not None else len(roster_findings(roster))


class RosterDetailSerializer(RosterListSerializer):
    """A roster with its shifts and findings (as its shifts, the team's shift types and the policy stand now),
    and who accepted them, when and why."""

    findings_accepted_by = RefField(UserRefSerializer, allow_null=True)
    findings = serializers.SerializerMethodField()
    shifts = ShiftSerializer(many=True, read_only=True)

    class Meta(RosterListSerializer.Meta):
        fields = [*RosterListSerializer.Meta.fields, "findings_accepted_by", "findings_note", "findings", "shifts"]
        read_only_fields = fields

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, roster: Roster) -> list[dict[str, Any]]:
        return FindingSerializer(roster_findings(roster), many=True).data


class RosterGenerateSerializer(StrictInputMixin, serializers.Serializer):
    """Generate a draft roster of a team for a period (at most 92 days) from rotations (by default the team's
    active ones)."""

    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    rotations = serializers.PrimaryKeyRelatedField(queryset=Rotation.objects.all(), many=True, required=False)


class RosterRegenerateSerializer(StrictInputMixin, serializers.Serializer):
    """Make the draft's shifts that have not started again (from the rotations named, or the team's active ones)."""

    rotations = serializers.PrimaryKeyRelatedField(queryset=Rotation.objects.all(), many=True, required=False)


class RosterTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """publish (comment optional), withdraw (comment: why)."""


class AcceptFindingsSerializer(RosterTransitionSerializer):
    """accept_findings: the note says why the roster may be published with them."""

    note = serializers.CharField(max_length=4000, trim_whitespace=True)


class ShiftInputSerializer(StrictInputMixin, serializers.Serializer):
    """A shift added to a draft roster, or the fields of one changed (PATCH: the roster stays)."""

    roster = serializers.PrimaryKeyRelatedField(queryset=Roster.objects.all())
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    role = serializers.ChoiceField(choices=DUTY_ROLES)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    shift_type = serializers.PrimaryKeyRelatedField(queryset=ShiftType.objects.all(), required=False,
                                                    allow_null=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.partial:
            del self.fields["roster"]


class TeamOnDutySerializer(serializers.Serializer):
    team = RefField(TeamRefSerializer)
    now = ShiftSerializer(many=True, help_text="On duty at the moment asked about.")
    next = ShiftSerializer(many=True, help_text="For each role, the shifts starting next (within two days).")


class OnDutySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    teams = TeamOnDutySerializer(many=True)
