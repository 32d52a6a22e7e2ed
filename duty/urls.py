"""Duty pages."""

from django.urls import path

from duty import attend_views, feed_views, report_views

app_name = "duty"

urlpatterns: list = []

# --- roster: the rosters, the month grid, its CSV, generating and editing ---
from duty import roster_views  # noqa: E402

urlpatterns += [
    path("duty/rosters/", roster_views.roster_list_page, name="roster-list"),
    path("duty/rosters/new/", roster_views.roster_generate_page, name="roster-generate"),
    path("duty/rosters/<int:pk>/", roster_views.roster_detail, name="roster-detail"),
    path("duty/rosters/<int:pk>/roster.csv", roster_views.roster_csv, name="roster-csv"),
    path("duty/rosters/<int:pk>/transitions/<slug:name>/", roster_views.roster_transition, name="roster-transition"),
    path("duty/rosters/<int:pk>/regenerate/", roster_views.roster_regenerate_page, name="roster-regenerate"),
    path("duty/rosters/<int:pk>/shifts/", roster_views.roster_shift_add, name="roster-shift-add"),
    path("duty/shifts/<int:pk>/edit/", roster_views.shift_edit, name="shift-edit"),
    path("duty/shifts/<int:pk>/delete/", roster_views.shift_delete, name="shift-delete"),
]
# --- end roster ---

# --- swap (調班)
from duty import swap_views  # noqa: E402

urlpatterns += [
    path("duty/swaps/", swap_views.swap_list_page, name="swaprequest-list"),
    path("duty/swaps/<int:pk>/", swap_views.swap_detail, name="swaprequest-detail"),
    path("duty/swaps/<int:pk>/transitions/<slug:name>/", swap_views.swap_transition_page,
         name="swaprequest-transition"),
    path("duty/swaps/<int:pk>/comments/", swap_views.swap_comment, name="swaprequest-comment"),
    path("duty/swaps/<int:pk>/attachments/", swap_views.swap_attachment, name="swaprequest-attachment"),
    path("duty/shifts/<int:shift>/swap/", swap_views.swap_request_page, name="swap-request"),
]

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

# --- remind: my shifts and calendar feeds, reports
urlpatterns += [
    path("duty/calendar/", feed_views.shift_calendar, name="calendar"),
    path("duty/calendar/<str:key>.ics", feed_views.shift_feed, name="shift-feed"),
    path("duty/calendar/<str:key>/teams/<int:team_id>.ics", feed_views.team_feed, name="team-feed"),
    path("duty/reports/", report_views.duty_report_page, name="report"),
]
