"""Satisfaction API under /api/v1/surveys/: surveys (a department user reads their own department's),
scores, follow-ups, campaigns with their results, and the answer endpoints of the signed links, which need
no sign-in (the link is the key: 404 forged, 409 answered, 410 expired or closed)."""

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opscenter.core.api.tickets import TransitionActionMixin
from sla.surveys import selectors, services
from sla.surveys.api.serializers import (
    CampaignAnswerSerializer,
    CampaignResultsSerializer,
    CampaignSerializer,
    FollowUpCloseSerializer,
    FollowUpSerializer,
    PublicCampaignSerializer,
    PublicSurveySerializer,
    ScoresPeriodSerializer,
    SurveyAnswerSerializer,
    SurveyScoresSerializer,
    SurveySerializer,
)
from sla.surveys.models import Campaign, FollowUp, Survey


class ReadsSurveys(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and selectors.may_read_surveys(request.user))


class HoldsViewPermission(BasePermission):
    """Reading needs the model's view permission (supervisors, auditors); writes are checked by the services."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(f"sla.view_{view.model_name}"))


class SelectedViewSet(viewsets.ReadOnlyModelViewSet):
    """Rows come from a selector of sla.surveys, visibility applied (none while the schema is generated)."""

    permission_classes = [HoldsViewPermission]
    filterset_fields = ["state"]
    selector: Any = None

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return type(self).selector(user=self.request.user)


class SurveyViewSet(SelectedViewSet):
    """Incident satisfaction surveys; another department's are 404 to a department user."""

    queryset = Survey.objects.none()
    selector = selectors.survey_list
    serializer_class = SurveySerializer
    permission_classes = [ReadsSurveys]
    filterset_fields = ["state", "department", "team", "service", "score"]
    ordering_fields = ["send_after", "answered_at", "score"]

    @extend_schema(parameters=[ScoresPeriodSerializer], responses=SurveyScoresSerializer)
    @action(detail=False, methods=["get"], filter_backends=[])
    def scores(self, request: Request) -> Response:
        """Average score and count over [start, end), overall and per department, team and service; a
        department user gets their own department's whatever they ask."""
        period = ScoresPeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        department = period.validated_data.get("department")
        if not request.user.has_perm("sla.view_survey"):
            department = request.user.department_id
        data = selectors.survey_scores(start=period.validated_data["start"], end=period.validated_data["end"],
                                     department=department)
        return Response(SurveyScoresSerializer(data).data)


class FollowUpViewSet(TransitionActionMixin, SelectedViewSet):
    """Follow-ups of low scores; a supervisor closes one with a note."""

    queryset = FollowUp.objects.none()
    selector = selectors.follow_up_list
    serializer_class = FollowUpSerializer
    model_name = "followup"

    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {"close": FollowUpCloseSerializer}

    def perform_ticket_transition(self, obj: FollowUp, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> FollowUp:
        return services.follow_up_close(obj, user=user, note=data["note"])

    @extend_schema(request=FollowUpCloseSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """The `close` transition (as `transitions/close/`)."""
        return self.transition(request, pk=pk, transition="close")


def campaigns_with_content(*, user: Any) -> Any:
    return selectors.campaign_list(user=user).prefetch_related("departments", "questions")


class CampaignViewSet(TransitionActionMixin, mixins.CreateModelMixin, SelectedViewSet):
    """Questionnaire campaigns: drafted with their questions, opened (invitations sent), closed, and their
    results per question, department, team and service."""

    queryset = Campaign.objects.none()
    selector = campaigns_with_content
    serializer_class = CampaignSerializer
    model_name = "campaign"

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CampaignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        campaign = services.campaign_create(user=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=campaign.pk)).data,
                        status=status.HTTP_201_CREATED)

    def perform_ticket_transition(self, obj: Campaign, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Campaign:
        if name == "open":
            return services.campaign_open(obj, user=user)
        return services.campaign_close(obj, user=user)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str | None = None) -> Response:
        """Invite each chosen department's contacts and send their links (draft → open; as `transitions/open/`)."""
        return self.transition(request, pk=pk, transition="open")

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Stop accepting answers (open → closed; as `transitions/close/`)."""
        return self.transition(request, pk=pk, transition="close")

    @extend_schema(responses=CampaignResultsSerializer)
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        return Response(CampaignResultsSerializer(selectors.campaign_results(self.get_object())).data)


class PublicLinkView(APIView):
    """No sign-in: the signed token in the URL is the only key. GET shows what the link is about while it
    can be answered; POST answers once. A link that cannot be answered says so (404, 409, 410) before the
    answer is judged (400)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    opener: Any = None
    shown: Any = None
    accepted: Any = None

    def answer(self, token: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def get(self, request: Request, token: str) -> Response:
        return Response(self.shown(type(self).opener(token)).data)

    def post(self, request: Request, token: str) -> Response:
        type(self).opener(token)
        data = self.accepted(data=request.data)
        data.is_valid(raise_exception=True)
        self.answer(token, data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(get=extend_schema(responses=PublicSurveySerializer),
                    post=extend_schema(request=SurveyAnswerSerializer, responses={204: None}))
class SurveyAnswerView(PublicLinkView):
    """A survey link: score 1–5, a comment at or below the policy's low score."""

    opener, shown, accepted = services.survey_to_answer, PublicSurveySerializer, SurveyAnswerSerializer

    def answer(self, token: str, data: dict[str, Any]) -> None:
        services.survey_answer(token=token, **data)


@extend_schema_view(get=extend_schema(responses=PublicCampaignSerializer),
                    post=extend_schema(request=CampaignAnswerSerializer, responses={204: None}))
class CampaignAnswerView(PublicLinkView):
    """A questionnaire link: answers keyed by question id, while the campaign is open."""

    opener, shown, accepted = services.invitation_to_answer, PublicCampaignSerializer, CampaignAnswerSerializer

    def answer(self, token: str, data: dict[str, Any]) -> None:
        services.campaign_answer(token=token, answers=data["answers"])
