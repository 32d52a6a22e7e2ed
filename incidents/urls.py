"""Incident pages."""

from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/report/", views.incident_report, name="incident-report"),
    path("incidents/report/callers/", views.caller_options, name="caller-options"),
    path("incidents/report/configuration-items/", views.configuration_item_options,
         name="configuration-item-options"),
    path("incidents/summary/", views.incident_summary, name="incident-summary"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/transitions/<slug:name>/", views.incident_transition, name="incident-transition"),
    path("incidents/<int:pk>/comments/", views.incident_comment, name="incident-comment"),
    path("incidents/<int:pk>/attachments/", views.incident_attachment, name="incident-attachment"),
    path("incidents/<int:pk>/reviews/", views.incident_review, name="incident-review"),
]
