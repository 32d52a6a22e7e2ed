"""API routes of the kernel."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from opscenter.core.api import views

router = DefaultRouter()
router.register("auth/tokens", views.ApiTokenViewSet, basename="api-token")
router.register("me", views.MeViewSet, basename="me")
router.register("departments", views.DepartmentViewSet)
router.register("teams", views.TeamViewSet)
router.register("users", views.UserViewSet)
router.register("services", views.ServiceViewSet)
router.register("configuration-items", views.ConfigurationItemViewSet)
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-token"),
    path("auth/logout/", views.TokenLogoutView.as_view(), name="api-logout"),
    path("auth/logoutall/", views.TokenLogoutAllView.as_view(), name="api-logout-all"),
    *router.urls,
]
