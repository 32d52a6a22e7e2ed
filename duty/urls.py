"""Duty pages."""

from django.urls import path

from duty import feed_views, report_views

app_name = "duty"

urlpatterns: list = []

# --- remind: my shifts and calendar feeds, reports
urlpatterns += [
    path("duty/calendar/", feed_views.shift_calendar, name="calendar"),
    path("duty/calendar/<str:key>.ics", feed_views.shift_feed, name="shift-feed"),
    path("duty/calendar/<str:key>/teams/<int:team_id>.ics", feed_views.team_feed, name="team-feed"),
    path("duty/reports/", report_views.duty_report_page, name="report"),
]
