"""The project's routes plus the WorkOrder API at api/v1/work-orders/ (tests only)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from opscenter.core.tests.workflow_app.api import WorkOrderViewSet
from opscenter.urls import urlpatterns as project_urlpatterns

router = SimpleRouter()
router.register("work-orders", WorkOrderViewSet, basename="work-order")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    *project_urlpatterns,
]
