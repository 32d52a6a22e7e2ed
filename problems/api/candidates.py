"""Problem candidates API (/api/v1/problem-candidates/): list (`?state=`), detail, and the two decisions as
transitions — `transitions/accept/` (optional title, description, owner: the problem identified from the
candidate's incidents) and `transitions/dismiss/` (`comment`: the reason). Problem managers and supervisors decide;
engineers and auditors read; department users may not (403)."""

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.serializers import (
    ChoiceLabelField,
    ConfigurationItemRefSerializer,
    RefField,
    ServiceRefSerializer,
    StrictInputMixin,
    TransitionInputSerializer,
    UserRefSerializer,
)
from opscenter.core.api.tickets import AvailableTransitionsField, TransitionActionMixin
from opscenter.core.exceptions import InvalidInput
from opscenter.core.models import User
from problems.api.serializers import CategoryRefSerializer, LinkedIncidentSerializer, ProblemRefSerializer
from problems.candidates import (
    candidate_get,
    candidate_list,
    candidate_transition,
    first_incidents,
    with_all_incidents,
)
from problems.choices import CandidateState
from problems.models import WORKERS, Candidate


class CandidatePermissions(RoleModelPermissions):
    """Reading needs `view_candidate`; deciding `change_candidate` (problem managers and supervisors)."""

    perms_map = {
        **{method: perms for method, perms in RoleModelPermissions.perms_map.items()
           if method not in ("PUT", "PATCH", "DELETE")},
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        return Candidate.objects.none()


class CandidateSerializer(serializers.ModelSerializer):
    """A candidate: where the incidents recur (service or CI, category), the incidents the caller may see, and what
    was decided."""

    state = serializers.ChoiceField(choices=CandidateState.choices, read_only=True)
    state_label = ChoiceLabelField("state")
    service = RefField(ServiceRefSerializer, allow_null=True)
    configuration_item = RefField(ConfigurationItemRefSerializer, allow_null=True)
    category = RefField(CategoryRefSerializer, allow_null=True)
    incident_count = serializers.IntegerField(read_only=True, help_text=_("How many incidents the candidate holds."))
    incidents = LinkedIncidentSerializer(
        source="shown_incidents", many=True, read_only=True,
        help_text=_("The incidents the caller may see: the first five in a list, all of them in the detail."))
    problem = ProblemRefSerializer(read_only=True, allow_null=True)
    decided_by = RefField(UserRefSerializer, allow_null=True)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Candidate
        fields = ["id", "state", "state_label", "service", "configuration_item", "category", "incident_count",
                  "incidents", "proposed_at", "problem", "decided_by", "available_transitions"]
        read_only_fields = fields


class CandidateTransitionSerializer(StrictInputMixin, TransitionInputSerializer):
    """Dismiss: `comment` is the reason (required)."""


class AcceptSerializer(CandidateTransitionSerializer):
    """Accept: the problem's title and description (made from the candidate when left out) and its owner (whoever
    accepts, when left out)."""

    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    owner = serializers.PrimaryKeyRelatedField(
        required=False, allow_null=True, help_text=_("A problem manager, an engineer or a supervisor."),
        queryset=User.objects.filter(is_active=True, groups__name__in=WORKERS).distinct())


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("state", str, enum=CandidateState.values)]),
    transition=extend_schema(
        request=AcceptSerializer, responses=CandidateSerializer,
        parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)], summary="Perform a transition",
        description="accept (optional title, description, owner: a problem identified from the candidate's "
                    "incidents), dismiss (comment: the reason)."))
class CandidateViewSet(TransitionActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """Recurring incidents proposed as problem candidates by the periodic task."""

    queryset = Candidate.objects.none()
    serializer_class = CandidateSerializer
    permission_classes = [CandidatePermissions]
    filter_backends: ClassVar[list[Any]] = []
    http_method_names = ["get", "post", "head", "options"]
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {"accept": AcceptSerializer}
    transition_serializer_class = CandidateTransitionSerializer

    def get_queryset(self) -> QuerySet[Candidate]:
        if getattr(self, "swagger_fake_view", False):
            return Candidate.objects.none()
        state = self.request.query_params.get("state", "") if self.action == "list" else ""
        if state and state not in CandidateState.values:
            raise InvalidInput({"state": [_("Choose one of: %(states)s.") % {
                "states": ", ".join(CandidateState.values)}]})
        if self.action == "list":
            return candidate_list(user=self.request.user, state=state)
        return with_all_incidents(candidate_list(user=self.request.user), user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The candidates, newest first, each naming its first incidents."""
        page = self.paginate_queryset(self.get_queryset())
        first_incidents(page, user=request.user)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def perform_ticket_transition(self, obj: Candidate, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Candidate:
        return candidate_transition(obj, name, user=user, comment=comment, data=data)

    def transition_response(self, obj: Candidate) -> Response:
        return Response(self.get_serializer(candidate_get(user=self.request.user, pk=obj.pk)).data)
