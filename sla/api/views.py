"""Service level API: calendars and agreements (supervisors write), breaches and their explanations,
outages recorded on incidents (IT staff), availability per service and month, monthly evaluations with
their publication, and the department dashboard. A department user reads only their own department's
figures; another department is 404."""

from datetime import date
from typing import Any, ClassVar

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opscenter.core import roles
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.tickets import TransitionActionMixin
from opscenter.core.exceptions import InvalidInput, TransitionForbidden
from opscenter.core.models import Department
from sla import evaluations, metrics, selectors
from sla.api.filters import BreachFilterSet, EvaluationFilterSet, OutageFilterSet
from sla.api.serializers import (
    AgreementSerializer,
    BreachExplainSerializer,
    BreachSerializer,
    BusinessCalendarSerializer,
    EvaluationPrepareSerializer,
    EvaluationPublishSerializer,
    EvaluationSerializer,
    OutageSerializer,
)
from sla.models import Agreement, Breach, BusinessCalendar, Evaluation, Outage

MONTH_PARAMETER = OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (this month by default)")


def requested_month(request: Request) -> date:
    """?month=YYYY-MM, this month when absent; a malformed or future month is a 400."""
    month = selectors.parse_month(request.query_params.get("month"), metrics.current_month())
    if month is None or month > metrics.current_month():
        raise InvalidInput({"month": [_("Give a month up to this one as YYYY-MM.")]}, code="invalid_month")
    return month


class DepartmentReadsOwn(RoleModelPermissions):
    """Reading: the model's view permission, or a department user (the selector keeps them to their own
    department). Writing: the model's add/change permission."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS and request.user.is_authenticated \
                and roles.has_role(request.user, roles.DEPARTMENT_USER):
            return True
        return super().has_permission(request, view)


class SignedIn(BasePermission):
    """Any signed-in user; what they see is decided by the selectors."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


class BusinessCalendarViewSet(viewsets.ModelViewSet):
    """Business calendars with their weekly hours and exceptions. Supervisors write; an edit recomputes the
    open clocks on the calendar."""

    queryset = BusinessCalendar.objects.prefetch_related("intervals", "exceptions").order_by("name", "pk")
    serializer_class = BusinessCalendarSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["name"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]


class AgreementViewSet(viewsets.ModelViewSet):
    """Agreements with departments, their availability and priority targets and warning thresholds."""

    queryset = (Agreement.objects.select_related("department", "calendar")
                .prefetch_related("service_targets", "priority_targets", "thresholds__users")
                .order_by("department__name", "-valid_from", "pk"))
    serializer_class = AgreementSerializer
    permission_classes = [RoleModelPermissions]
    filterset_fields = ["department", "is_active"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]


class BreachViewSet(viewsets.ReadOnlyModelViewSet):
    """Breaches; a department user sees their own department's. `explain` records the explanation and the
    corrective action (supervisors and IT staff)."""

    queryset = Breach.objects.none()
    serializer_class = BreachSerializer
    permission_classes = [DepartmentReadsOwn]
    filterset_class = BreachFilterSet
    ordering_fields = ["breached_at"]

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Breach.objects.none()
        return selectors.breach_list(user=self.request.user).order_by("-breached_at", "-pk")

    @extend_schema(request=BreachExplainSerializer, responses=BreachSerializer)
    @action(detail=True, methods=["post"], permission_classes=[SignedIn])
    def explain(self, request: Request, pk: str | None = None) -> Response:
        breach = self.get_object()
        data = BreachExplainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        breach = evaluations.breach_explain(breach=breach, user=request.user, **data.validated_data)
        return Response(BreachSerializer(self.get_queryset().get(pk=breach.pk)).data)


class OutageViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Outage periods recorded on incidents (IT staff); read with the incident's visibility."""

    queryset = Outage.objects.none()
    serializer_class = OutageSerializer
    permission_classes = [DepartmentReadsOwn]
    filterset_class = OutageFilterSet
    ordering_fields = ["started_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Outage.objects.none()
        return selectors.outage_list(user=self.request.user).order_by("-started_at", "-pk")

    def perform_create(self, serializer: OutageSerializer) -> None:
        serializer.save(recorded_by=self.request.user)


def _department_ids(request: Request) -> list[int] | None:
    """The departments the caller asks for and may read; naming another department is a 404."""
    visible = selectors.visible_department_ids(request.user)
    asked = request.query_params.get("department")
    if not asked:
        return visible
    if not asked.isdigit() or not 1 <= int(asked) <= 2**63 - 1:
        raise InvalidInput({"department": [_("Give a department id.")]})
    if visible is not None and int(asked) not in visible:
        raise Http404
    if not Department.objects.filter(pk=int(asked)).exists():
        raise Http404
    return [int(asked)]


class AvailabilityView(APIView):
    """Availability of each service of the agreements per department for a month, within service hours."""

    permission_classes = [SignedIn]

    @extend_schema(parameters=[MONTH_PARAMETER, OpenApiParameter("department", OpenApiTypes.INT)],
                   responses=OpenApiTypes.OBJECT, operation_id="sla_availability_list")
    def get(self, request: Request) -> Response:
        month = requested_month(request)
        figures = metrics.departments_side_by_side(month, department_ids=_department_ids(request))
        return Response({"month": f"{month:%Y-%m}", "results": [
            {"department": department_id, "availability": f["availability"]}
            for department_id, f in figures.items()]})


class EvaluationViewSet(TransitionActionMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Monthly evaluations: POST prepares (or refreshes) the draft of a department and month; `publish`
    freezes and publishes it (supervisors; 409 with the list while a breach is unexplained). Department
    users read their own published months."""

    queryset = Evaluation.objects.none()
    serializer_class = EvaluationSerializer
    permission_classes = [SignedIn]
    filterset_class = EvaluationFilterSet
    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {
        "publish": EvaluationPublishSerializer}

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Evaluation.objects.none()
        return selectors.evaluation_list(user=self.request.user)

    @extend_schema(request=EvaluationPrepareSerializer, responses=EvaluationSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = EvaluationPrepareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        month = selectors.parse_month(data.validated_data["month"])
        if month is None:
            raise InvalidInput({"month": [_("Give the month as YYYY-MM.")]}, code="invalid_month")
        if not evaluations.may_manage_evaluations(request.user):
            raise TransitionForbidden(_("Only a supervisor prepares monthly evaluations."))
        department = Department.objects.filter(pk=data.validated_data["department"]).first()
        if department is None:
            raise InvalidInput({"department": [_("No such department.")]})
        evaluation = evaluations.evaluation_prepare(department=department, month=month, user=request.user)
        return Response(self.get_serializer(evaluation).data, status=status.HTTP_201_CREATED)

    def check_ticket_transition(self, obj: Evaluation, name: str, *, user: Any) -> None:
        if name != "publish":  # publishing is refused by the service, with the breaches still to explain
            super().check_ticket_transition(obj, name, user=user)

    def perform_ticket_transition(self, obj: Evaluation, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Evaluation:
        return evaluations.evaluation_publish(evaluation=obj, user=user, summary=data.get("summary"))

    @extend_schema(request=EvaluationPublishSerializer, responses=EvaluationSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """The `publish` transition (as `transitions/publish/`)."""
        return self.transition(request, pk=pk, transition="publish")


class DashboardViewSet(viewsets.ViewSet):
    """Department figures: the list compares the departments the caller may read for a month; the detail is
    one department's month and its twelve-month trend (another department is 404 for a department user)."""

    permission_classes = [SignedIn]
    lookup_value_regex = r"[0-9]+"

    @extend_schema(parameters=[MONTH_PARAMETER], responses=OpenApiTypes.OBJECT, operation_id="sla_dashboard_list")
    def list(self, request: Request) -> Response:
        month = requested_month(request)
        figures = metrics.departments_side_by_side(month, department_ids=selectors.visible_department_ids(
            request.user))
        return Response({"month": f"{month:%Y-%m}", "results": list(figures.values())})

    @extend_schema(parameters=[MONTH_PARAMETER, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
                   responses=OpenApiTypes.OBJECT)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        if int(pk or 0) > 2**63 - 1:
            raise Http404
        department = selectors.department_get(user=request.user, pk=int(pk))
        month = requested_month(request)
        trend = metrics.department_trend(department.pk, month)
        return Response({"department": department.pk, "name": department.name, "month": trend[-1],
                         "trend": trend})
