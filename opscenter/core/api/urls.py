"""API routes of the kernel."""

from rest_framework.routers import DefaultRouter

from opscenter.core.api import views

router = DefaultRouter()
router.register("me", views.MeViewSet, basename="me")
router.register("departments", views.DepartmentViewSet)
router.register("teams", views.TeamViewSet)
router.register("users", views.UserViewSet)
router.register("services", views.ServiceViewSet)
router.register("configuration-items", views.ConfigurationItemViewSet)
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
