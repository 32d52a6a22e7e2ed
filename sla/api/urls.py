"""Service level and satisfaction API routes (/api/v1/sla/…, /api/v1/surveys/…)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from sla.api import clock_views
from sla.api import views as sla_views

# Calendars, agreements, breaches, outages, availability, evaluations and dashboards.
sla_router = SimpleRouter()
sla_router.register("sla/calendars", sla_views.BusinessCalendarViewSet, basename="sla-calendar")
sla_router.register("sla/agreements", sla_views.AgreementViewSet, basename="sla-agreement")
sla_router.register("sla/breaches", sla_views.BreachViewSet, basename="sla-breach")
sla_router.register("sla/outages", sla_views.OutageViewSet, basename="sla-outage")
sla_router.register("sla/evaluations", sla_views.EvaluationViewSet, basename="sla-evaluation")
sla_router.register("sla/dashboard", sla_views.DashboardViewSet, basename="sla-dashboard")

urlpatterns = [
    # Clocks on incidents.
    path("sla/incidents/<int:pk>/clocks/", clock_views.IncidentClocksView.as_view(), name="sla-incident-clocks"),
    path("sla/availability/", sla_views.AvailabilityView.as_view(), name="sla-availability"),
    *sla_router.urls,
    # Satisfaction surveys, follow-ups and campaigns.
    path("surveys/", include("sla.surveys.api.urls")),
]
