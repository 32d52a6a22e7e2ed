"""Incident API routes: /api/v1/incidents/, /api/v1/incident-categories/, /api/v1/priority-matrix/."""

from rest_framework.routers import SimpleRouter

from incidents.api import views

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("incident-categories", views.CategoryViewSet, basename="incident-category")
router.register("priority-matrix", views.PriorityMatrixViewSet, basename="priority-rule")

urlpatterns = router.urls
