"""Duty pages."""

from django.urls import path

from duty import attend_views

app_name = "duty"

urlpatterns: list = []

# --- attend: My duty, attendance, the duty log, handovers -----------------------------------------------------------
urlpatterns += [
    path("duty/my/", attend_views.my_duty, name="my-duty"),
    path("duty/my/shifts/<int:pk>/handover/", attend_views.handover_write_view, name="handover-write"),
    path("duty/my/shifts/<int:pk>/<str:name>/", attend_views.attendance_action, name="attendance-action"),
    path("duty/log/", attend_views.log_list, name="log-list"),
    path("duty/log/new/", attend_views.log_add, name="log-add"),
    path("duty/log/incident-search/", attend_views.incident_search, name="incident-search"),
    path("duty/log/change-search/", attend_views.change_search, name="change-search"),
    path("duty/handovers/", attend_views.handover_list_view, name="handover-list"),
    path("duty/handovers/<int:pk>/", attend_views.HandoverDetailView.as_view(), name="handover-detail"),
    path("duty/handovers/<int:pk>/transitions/<str:name>/", attend_views.HandoverTransitionView.as_view(),
         name="handover-transition"),
]
