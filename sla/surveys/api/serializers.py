"""Serializers of the satisfaction API: surveys, follow-ups, campaigns with their questions, answers given
through a signed link, and the results and scores dashboards read."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from opscenter.core.api.serializers import UserRefSerializer
from opscenter.core.api.tickets import AvailableTransitionsField
from opscenter.core.models import Department, Service, Team
from sla.choices import QuestionKind
from sla.surveys.models import Campaign, CampaignQuestion, FollowUp, Survey


class SurveySerializer(serializers.ModelSerializer):
    incident_number = serializers.CharField(source="incident.number", read_only=True)
    respondent = UserRefSerializer(read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True, default=None)
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    service_name = serializers.CharField(source="service.name", read_only=True, default=None)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    follow_up = serializers.SerializerMethodField()
    available_transitions = AvailableTransitionsField()  # none: the sweep and the respondent's link move surveys

    class Meta:
        model = Survey
        fields = ["id", "incident", "incident_number", "respondent", "department", "department_name", "team",
                  "team_name", "service", "service_name", "state", "state_label", "send_after", "sent_at",
                  "expires_at", "answered_at", "score", "comment", "follow_up", "available_transitions"]
        read_only_fields = fields

    def get_follow_up(self, survey: Survey) -> int | None:
        follow_up = getattr(survey, "follow_up", None)  # the reverse one-to-one raises an AttributeError when absent
        return follow_up.pk if follow_up else None


class FollowUpSerializer(serializers.ModelSerializer):
    survey = SurveySerializer(read_only=True)
    closed_by = UserRefSerializer(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = FollowUp
        fields = ["id", "survey", "state", "state_label", "note", "created_at", "closed_by", "closed_at",
                  "available_transitions"]
        read_only_fields = fields


class FollowUpCloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000)


class SurveyAnswerSerializer(serializers.Serializer):
    """What a survey link accepts: a score 1–5, and a comment (required for low scores)."""

    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class PublicSurveySerializer(serializers.Serializer):
    """What a survey link shows without signing in: the incident it is about, nothing more."""

    incident_number = serializers.CharField(source="incident.number")
    incident_title = serializers.CharField(source="incident.title")
    resolved_at = serializers.DateTimeField(source="incident.resolved_at")
    expires_at = serializers.DateTimeField()
    low_score = serializers.IntegerField()


class QuestionSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=QuestionKind.choices, default=QuestionKind.SCORE)

    class Meta:
        model = CampaignQuestion
        fields = ["id", "text", "kind", "team", "service", "required", "ordering"]
        read_only_fields = ["id", "ordering"]


class CampaignSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True)
    departments = serializers.PrimaryKeyRelatedField(queryset=Department.objects.filter(is_active=True),
                                                     many=True)
    created_by = UserRefSerializer(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    invited = serializers.IntegerField(read_only=True, default=0)
    answered = serializers.IntegerField(read_only=True, default=0)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "description", "state", "state_label", "opens_at", "closes_at", "departments",
                  "questions", "created_by", "created_at", "invited", "answered", "available_transitions"]
        read_only_fields = ["id", "state", "state_label", "opens_at", "created_by", "created_at",
                            "available_transitions"]

    def validate_questions(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError(_("Give at least one question."))
        return value


class PublicQuestionSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", default=None)
    service = serializers.CharField(source="service.name", default=None)

    class Meta:
        model = CampaignQuestion
        fields = ["id", "text", "kind", "team", "service", "required"]


class PublicCampaignSerializer(serializers.Serializer):
    """What a questionnaire link shows without signing in."""

    name = serializers.CharField(source="campaign.name")
    description = serializers.CharField(source="campaign.description")
    closes_at = serializers.DateTimeField(source="campaign.closes_at")
    department = serializers.CharField(source="department.name")
    questions = PublicQuestionSerializer(many=True)


class CampaignAnswerSerializer(serializers.Serializer):
    """Answers keyed by question id: a score 1–5 for score questions, text for text questions."""

    answers = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=4000))


class ScoreRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class SurveyScoresSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()
    by_department = ScoreRowSerializer(many=True)
    by_team = ScoreRowSerializer(many=True)
    by_service = ScoreRowSerializer(many=True)


class QuestionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    kind = serializers.CharField()
    team = serializers.CharField(allow_null=True)
    service = serializers.CharField(allow_null=True)
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()
    answers = serializers.ListField(child=serializers.CharField())


class CampaignResultsSerializer(SurveyScoresSerializer):
    average = None
    count = None
    campaign = serializers.IntegerField()
    invited = serializers.IntegerField()
    answered = serializers.IntegerField()
    questions = QuestionResultSerializer(many=True)


class ScoresPeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    department = serializers.IntegerField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": _("The period must end after it starts.")})
        return attrs
