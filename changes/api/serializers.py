"""Serializers of the change API: list rows and the detail (risk, approval, plan, opinions, schedule flags,
related incidents), what a request and an edit accept, the data each transition requires, opinions, votes,
steps, post-implementation reviews, templates, freeze and maintenance windows and the risk questionnaire."""

import copy
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from changes.choices import Recommendation, RiskLevel, State, StepStatus, TemplateState
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
    _localized,
)
from changes.risk import RULE_LABELS
from changes.rules import CONFLICT_LABELS
from incidents.models import Incident
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    ConfigurationItemRefSerializer,
    RefField,
    ServiceRefSerializer,
    StrictInputMixin,
    TransitionInputSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField
from opscenter.core.extensions import extra_fields
from opscenter.core.filters import ID_MAX
from opscenter.core.models import ConfigurationItem, Service, User

# --- references and small read-side pieces ----------------------------------------------------------------


class RefListField(serializers.Field):
    """Related records (a prefetched many-to-many) as `serializer_class` shows each."""

    def __init__(self, serializer_class: type[serializers.Serializer], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.ref = RefField(serializer_class)
        extend_schema_field(serializer_class(many=True))(self)

    def to_representation(self, value: Any) -> list[dict[str, Any]]:
        return [self.ref.to_representation(item) for item in value.all()]


class TemplateRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeTemplate
        fields = ["id", "name"]


class IncidentLinkSerializer(serializers.ModelSerializer):
    """A related incident the caller may see, with where the API shows it."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["id", "number", "title", "state", "url"]

    def get_url(self, obj: Incident) -> str:
        return f"/api/v1/incidents/{obj.pk}/"


class VoteSerializer(serializers.ModelSerializer):
    """One approval decision: who, when, what, why, in which round, and whether in a joint review."""

    voter = UserRefSerializer(read_only=True)
    decision_label = ChoiceLabelField("decision")
    change_number = serializers.CharField(source="change.number", read_only=True)

    class Meta:
        model = ChangeVote
        fields = ["id", "change", "change_number", "round", "voter", "decision", "decision_label", "comment",
                  "is_joint_review", "created_at"]
        read_only_fields = fields


class StepSerializer(serializers.ModelSerializer):
    status_label = ChoiceLabelField("status")
    done_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChangeStep
        fields = ["position", "description", "status", "status_label", "note", "done_by", "done_at"]
        read_only_fields = fields


class OpinionSerializer(serializers.ModelSerializer):
    reviewer = UserRefSerializer(read_only=True)
    requested_by = UserRefSerializer(read_only=True, allow_null=True)
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, allow_blank=True, read_only=True)
    recommendation_label = ChoiceLabelField("recommendation")

    class Meta:
        model = ChangeOpinion
        fields = ["id", "reviewer", "requested_by", "requested_at", "recommendation", "recommendation_label",
                  "opinion", "given_at"]
        read_only_fields = fields


class RiskReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class RiskSerializer(serializers.Serializer):
    """The questionnaire's score, the level the rules computed, the level in force and why."""

    score = serializers.IntegerField(source="risk_score")
    computed_level = serializers.ChoiceField(source="computed_risk_level", choices=RiskLevel.choices, allow_blank=True)
    level = serializers.ChoiceField(source="risk_level", choices=RiskLevel.choices, allow_blank=True)
    level_label = ChoiceLabelField("risk_level")
    reasons = serializers.SerializerMethodField()
    override_reason = serializers.CharField(source="risk_override_reason")
    answers = serializers.JSONField(source="risk_answers")

    @extend_schema_field(RiskReasonSerializer(many=True))
    def get_reasons(self, change: Change) -> list[dict[str, str]]:
        return [{"code": code, "label": str(RULE_LABELS.get(code, code))} for code in change.risk_reasons or []]


class ApprovalSerializer(serializers.Serializer):
    """How the change is approved, by whom, and the decisions of the current round."""

    mode = serializers.CharField(source="approval_mode")
    mode_label = ChoiceLabelField("approval_mode")
    required = serializers.IntegerField(source="approvals_required")
    round = serializers.IntegerField(source="approval_round")
    cab_members = RefListField(UserRefSerializer)
    votes = serializers.SerializerMethodField()
    approved_at = serializers.DateTimeField()

    @extend_schema_field(VoteSerializer(many=True))
    def get_votes(self, change: Change) -> list[dict[str, Any]]:
        votes = [v for v in change.votes.all() if v.round == change.approval_round]
        return VoteSerializer(votes, many=True).data


class ConflictSerializer(serializers.Serializer):
    """Another change overlapping in time on the same service, CI or implementer, and why."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    reasons = serializers.ListField(child=serializers.CharField())
    reason_labels = serializers.SerializerMethodField()

    def get_reason_labels(self, conflict: dict[str, Any]) -> list[str]:
        return [str(CONFLICT_LABELS.get(r, r)) for r in conflict.get("reasons", [])]


# --- changes (read side) --------------------------------------------------------------------------------


def state_field(choices: type[models.TextChoices]) -> serializers.ChoiceField:
    """A state as its code, described as an enum (named per process in SPECTACULAR_SETTINGS)."""
    return serializers.ChoiceField(choices=choices.choices, read_only=True)


class ChangeListSerializer(serializers.ModelSerializer):
    """A row of the change list: the related records come from the view's joins and prefetches."""

    state = state_field(State)
    state_label = ChoiceLabelField("state")
    change_type_label = ChoiceLabelField("change_type")
    category_label = ChoiceLabelField("category")
    risk_level_label = ChoiceLabelField("risk_level")
    services = RefListField(ServiceRefSerializer)
    implementer = RefField(UserRefSerializer, allow_null=True)
    created_by = RefField(UserRefSerializer)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Change
        fields = ["id", "number", "title", "state", "state_label", "change_type", "change_type_label", "category",
                  "category_label", "risk_level", "risk_level_label", "planned_start", "planned_end", "services",
                  "implementer", "created_by", "approval_round", "created_at", "updated_at", "available_transitions"]
        read_only_fields = fields


class ChangeDetailSerializer(ChangeListSerializer):
    """One change with everything recorded on it so far."""

    template = RefField(TemplateRefSerializer, allow_null=True)
    configuration_items = RefListField(ConfigurationItemRefSerializer)
    related_incidents = serializers.SerializerMethodField()
    risk = RiskSerializer(source="*", read_only=True)
    approval = ApprovalSerializer(source="*", read_only=True)
    assessed_by = RefField(UserRefSerializer, allow_null=True)
    steps = StepSerializer(many=True, read_only=True)
    opinions = OpinionSerializer(many=True, read_only=True)
    conflicts_acknowledged = ConflictSerializer(many=True, read_only=True)
    outcome_label = ChoiceLabelField("outcome")
    needs_review = serializers.BooleanField(read_only=True)

    class Meta(ChangeListSerializer.Meta):
        fields = [*ChangeListSerializer.Meta.fields,
                  "template", "description", "purpose", "impact_scope", "configuration_items", "related_incidents",
                  "risk_assessment", "risk_mitigation", "rollback_tested", "submitted_at", "risk",
                  "necessity", "feasibility", "assessment", "assessed_by", "assessed_at", "approval",
                  "rollback_plan", "contingency_plan", "steps", "opinions", "scheduled_at", "freeze_exception",
                  "outside_maintenance", "conflicts_acknowledged", "started_at", "failure_description", "failed_at",
                  "rollback_log", "rolled_back_at", "verify_function", "verify_performance", "verify_data",
                  "verified_at", "implementation_report", "completed_at", "close_review", "outcome",
                  "outcome_label", "needs_review", "closed_at"]
        read_only_fields = fields

    @extend_schema_field(IncidentLinkSerializer(many=True))
    def get_related_incidents(self, change: Change) -> list[dict[str, Any]]:
        return IncidentLinkSerializer(change.related_incidents.all(), many=True).data

    def get_fields(self) -> dict[str, serializers.Field]:
        # Read-only fields other apps add to the detail (the problems a change was raised from), in the schema too.
        return {**super().get_fields(), **extra_fields(Change)}


# --- changes (write side) -------------------------------------------------------------------------------


def _request_user(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


class RiskAnswersField(serializers.DictField):
    """The questionnaire: {question id: chosen answer id}."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, int]:
        answers = super().to_internal_value(data)
        if any(not str(key).isdigit() or int(key) > ID_MAX for key in answers):
            raise serializers.ValidationError(_("Answers map question ids to answer ids."))
        answers = {str(int(key)): value for key, value in answers.items()}
        # A draft may leave questions open (submit asks for all); what it answers must fit the questionnaire.
        fitting = set(RiskOption.objects.filter(pk__in=answers.values(), question__is_active=True)
                      .values_list("question_id", "pk"))
        if any((int(question), option) not in fitting for question, option in answers.items()):
            raise serializers.ValidationError(_("An answer does not belong to its question."))
        return answers


class ChangeRequestSerializer(StrictInputMixin, serializers.ModelSerializer):
    """A change request (變更申請表) as a draft: content, purpose, affected services and CIs, the planned
    window, the requester's risk assessment and mitigation, the questionnaire, and the plan. A `template`
    makes a standard change from an approved template. Steps are a list of texts, in order."""

    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(is_active=True), many=True,
                                                  required=False)
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False,
        help_text=_("Only CIs of services the requester may see."))
    related_incidents = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.none(), many=True,
                                                           required=False)
    implementer = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                     allow_null=True)
    template = serializers.PrimaryKeyRelatedField(queryset=ChangeTemplate.objects.all(), required=False,
                                                  allow_null=True)
    risk_answers = RiskAnswersField(required=False)
    steps = serializers.ListField(child=serializers.CharField(max_length=4000), required=False,
                                  help_text=_("The implementation steps, in order."))

    class Meta:
        model = Change
        fields = ["title", "change_type", "category", "template", "description", "purpose", "impact_scope",
                  "services", "configuration_items", "related_incidents", "planned_start", "planned_end",
                  "risk_assessment", "risk_mitigation", "rollback_tested", "risk_answers", "implementer",
                  "rollback_plan", "contingency_plan", "steps"]
        extra_kwargs = {"title": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = _request_user(self.context)
        if user is not None:
            self.fields["related_incidents"].child_relation.queryset = Incident.objects.visible_to(user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("planned_start", getattr(self.instance, "planned_start", None))
        end = attrs.get("planned_end", getattr(self.instance, "planned_end", None))
        if ("planned_start" in attrs or "planned_end" in attrs) and start and end and end <= start:
            raise serializers.ValidationError({"planned_end": [_("The window must end after it starts.")]})
        return attrs


class ChangeCreateSerializer(ChangeRequestSerializer):
    class Meta(ChangeRequestSerializer.Meta):
        extra_kwargs = {"title": {"required": True}}


# --- transitions ------------------------------------------------------------------------------------------


class ChangeTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """What every change transition accepts: a comment (the reason, for reject, send_back and cancel)."""


class AssessSerializer(ChangeTransitionSerializer):
    necessity = serializers.CharField()
    feasibility = serializers.CharField()
    assessment = serializers.CharField()
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False, allow_blank=True,
                                         help_text=_("Only to override the computed level (justify it)."))
    override_reason = serializers.CharField(required=False, allow_blank=True)
    cab_members = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), many=True, required=False,
        help_text=_("Joint review: the CAB members who vote (the approval rule's default members otherwise)."))
    # Who may sit on the review or implement is the assessment's rule, which names the people refused.
    implementer = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)


class ScheduleSerializer(ChangeTransitionSerializer):
    acknowledge_conflicts = serializers.BooleanField(
        default=False, help_text=_("Proceed although the window conflicts with other changes."))


class FailSerializer(ChangeTransitionSerializer):
    what_happened = serializers.CharField()


class RollBackSerializer(ChangeTransitionSerializer):
    rollback_log = serializers.CharField()


class VerifySerializer(ChangeTransitionSerializer):
    function = serializers.CharField(help_text=_("Function test result."))
    performance = serializers.CharField(help_text=_("Performance test result."))
    data_integrity = serializers.CharField(help_text=_("Data integrity test result."))


class CompleteSerializer(ChangeTransitionSerializer):
    report = serializers.CharField(help_text=_("The implementation report."))


class CloseSerializer(ChangeTransitionSerializer):
    review = serializers.CharField(help_text=_("The supervisor's review of the report."))


TRANSITION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "assess": AssessSerializer,
    "schedule": ScheduleSerializer,
    "fail": FailSerializer,
    "roll_back": RollBackSerializer,
    "verify": VerifySerializer,
    "complete": CompleteSerializer,
    "close": CloseSerializer,
}


# --- opinions, steps, reviews ---------------------------------------------------------------------------


class OpinionInputSerializer(StrictInputMixin, serializers.Serializer):
    """Either `reviewers` (a supervisor invites them) or `recommendation` and `opinion` (a reviewer gives
    theirs)."""

    reviewers = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), many=True,
                                                   required=False, allow_empty=False)
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, required=False)
    opinion = serializers.CharField(required=False, max_length=10000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        giving = {"recommendation", "opinion"} & set(attrs)
        if "reviewers" in attrs and giving:
            raise serializers.ValidationError(_("Invite reviewers or give an opinion, not both."))
        if "reviewers" not in attrs:
            missing = {"recommendation", "opinion"} - giving
            if missing:
                raise serializers.ValidationError({f: [_("This field is required.")] for f in sorted(missing)})
        return attrs


class StepRecordSerializer(StrictInputMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=[StepStatus.DONE, StepStatus.SKIPPED])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                 help_text=_("Required when the step is skipped."))


class ReviewSerializer(StrictInputMixin, serializers.ModelSerializer):
    recorded_by = UserRefSerializer(read_only=True)

    class Meta:
        model = ChangeReview
        fields = ["id", "held_on", "participants", "summary", "lessons", "actions", "recorded_by", "recorded_at"]
        read_only_fields = ["id", "recorded_by", "recorded_at"]


class ScheduleCheckSerializer(serializers.Serializer):
    """What scheduling would meet: freezes (refusing a normal or standard change), services whose
    maintenance windows the change lies outside (a warning), and conflicts to acknowledge."""

    freezes = serializers.ListField(child=serializers.DictField())
    freeze_refuses = serializers.BooleanField()
    maintenance_warnings = ServiceRefSerializer(many=True)
    conflicts = ConflictSerializer(many=True)
    must_acknowledge_conflicts = serializers.BooleanField()


# --- templates, windows, questionnaire --------------------------------------------------------------------


class ModelCleanMixin:
    """Run the model's own `clean()` on the data (e.g. a window must end after it starts): 400, nothing saved."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)  # type: ignore[misc]
        model = self.Meta.model  # type: ignore[attr-defined]
        instance = copy.copy(self.instance) if self.instance is not None else model()  # type: ignore[attr-defined]
        for name, value in attrs.items():
            if not isinstance(model._meta.get_field(name), models.ManyToManyField):
                setattr(instance, name, value)
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        return attrs


class ChangeTemplateSerializer(StrictInputMixin, ModelCleanMixin, serializers.ModelSerializer):
    """A standard change: proposed by IT staff, approved once by a supervisor, retired when no longer used."""

    state = state_field(TemplateState)
    state_label = ChoiceLabelField("state")
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(is_active=True), many=True,
                                                  required=False)
    steps = serializers.ListField(child=serializers.CharField(max_length=4000), allow_empty=False)
    proposed_by = UserRefSerializer(read_only=True)
    approved_by = UserRefSerializer(read_only=True, allow_null=True)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = ChangeTemplate
        fields = ["id", "name", "category", "description", "purpose", "impact_scope", "risk_assessment",
                  "risk_mitigation", "steps", "rollback_plan", "contingency_plan", "services", "state",
                  "state_label", "proposed_by", "approved_by", "approved_at", "created_at", "available_transitions"]
        read_only_fields = ["id", "state", "proposed_by", "approved_by", "approved_at", "created_at"]


class FreezeWindowSerializer(StrictInputMixin, ModelCleanMixin, serializers.ModelSerializer):
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), many=True, required=False,
                                                  help_text=_("Leave empty for a freeze on every service."))
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FreezeWindow
        fields = ["id", "name", "starts_at", "ends_at", "reason", "services", "created_by"]
        read_only_fields = ["id", "created_by"]


class MaintenanceWindowSerializer(StrictInputMixin, ModelCleanMixin, serializers.ModelSerializer):
    class Meta:
        model = MaintenanceWindow
        fields = ["id", "service", "name", "recurrence", "start_time", "duration_minutes", "is_active"]
        read_only_fields = ["id"]


class RiskOptionSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = RiskOption
        fields = ["id", "label", "weight", "ordering"]

    def get_label(self, option: RiskOption) -> str:
        return _localized(option, "label")


class RiskQuestionSerializer(serializers.ModelSerializer):
    """One question of the risk questionnaire with its weighted answers (answered as {question: option})."""

    text = serializers.CharField(source="__str__", read_only=True)
    options = RiskOptionSerializer(many=True, read_only=True)

    class Meta:
        model = RiskQuestion
        fields = ["id", "text", "ordering", "options"]
