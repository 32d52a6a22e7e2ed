"""Service level and satisfaction pages."""

from django.urls import include, path

from sla import views

app_name = "sla"

urlpatterns: list = [
    # Dashboards, monthly evaluations and their reports.
    path("sla/", views.sla_home, name="home"),
    path("sla/departments/<int:pk>/", views.department_dashboard, name="department-dashboard"),
    path("sla/evaluations/", views.evaluation_list, name="evaluation-list"),
    path("sla/evaluations/<int:department_id>/<str:month>/", views.evaluation_detail, name="evaluation-detail"),
    path("sla/evaluations/<int:department_id>/<str:month>/prepare/", views.evaluation_prepare,
         name="evaluation-prepare"),
    path("sla/evaluations/<int:department_id>/<str:month>/publish/", views.evaluation_publish,
         name="evaluation-publish"),
    path("sla/evaluations/<int:department_id>/<str:month>/report.csv", views.evaluation_csv, name="evaluation-csv"),
    path("sla/evaluations/<int:department_id>/<str:month>/print/", views.evaluation_print, name="evaluation-print"),
    path("sla/breaches/<int:pk>/explain/", views.breach_explain, name="breach-explain"),
    # Satisfaction surveys, follow-ups and questionnaire campaigns.
    path("", include("sla.surveys.urls")),
]
