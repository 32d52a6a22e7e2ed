"""A DRF viewset for WorkOrder that exercises the kernel's ticket endpoints (tests only)."""

from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from opscenter.core.api.serializers import TransitionInputSerializer
from opscenter.core.api.tickets import AvailableTransitionsField, TicketViewSetMixin
from opscenter.core.tests.workflow_app.models import WorkOrder


class WorkOrderSerializer(serializers.ModelSerializer):
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "title", "state", "estimate_hours", "result", "created_by", "created_at",
                  "available_transitions"]
        read_only_fields = ["number", "state", "result", "created_by", "created_at"]


class FinishInputSerializer(TransitionInputSerializer):
    result = serializers.CharField(max_length=4000)


class WorkOrderViewSet(TicketViewSetMixin, viewsets.ModelViewSet):
    serializer_class = WorkOrderSerializer
    permission_classes = [IsAuthenticated]
    queryset = WorkOrder.objects.none()  # the schema's model; get_queryset applies visibility
    transition_serializers = {"finish": FinishInputSerializer}

    def get_queryset(self):
        return WorkOrder.objects.visible_to(self.request.user).order_by("pk")

    def perform_create(self, serializer: WorkOrderSerializer) -> None:
        serializer.save(created_by=self.request.user)
