"""Service level and satisfaction API routes (/api/v1/sla/…, /api/v1/surveys/…)."""

from django.urls import path

from sla.api import clock_views

urlpatterns: list = []

# --- Clocks on incidents -----------------------------------------------------------------------------------
urlpatterns += [
    path("sla/incidents/<int:pk>/clocks/", clock_views.IncidentClocksView.as_view(), name="sla-incident-clocks"),
]

# --- Calendars, agreements, breaches, outages, availability, evaluations and dashboards --------------------
from django.urls import path  # noqa: E402
from rest_framework.routers import SimpleRouter  # noqa: E402

from sla.api import views as sla_views  # noqa: E402

sla_router = SimpleRouter()
sla_router.register("sla/calendars", sla_views.BusinessCalendarViewSet, basename="sla-calendar")
sla_router.register("sla/agreements", sla_views.AgreementViewSet, basename="sla-agreement")
sla_router.register("sla/breaches", sla_views.BreachViewSet, basename="sla-breach")
sla_router.register("sla/outages", sla_views.OutageViewSet, basename="sla-outage")
sla_router.register("sla/evaluations", sla_views.EvaluationViewSet, basename="sla-evaluation")
sla_router.register("sla/dashboard", sla_views.DashboardViewSet, basename="sla-dashboard")
urlpatterns += [path("sla/availability/", sla_views.AvailabilityView.as_view(), name="sla-availability"),
                *sla_router.urls]

# --- Satisfaction surveys, follow-ups and campaigns -----------------------------------------------------------
from django.urls import include  # noqa: E402

urlpatterns += [path("surveys/", include("sla.api.survey_urls"))]
