"""Change management pages."""

from django.urls import path

from changes import views
from opscenter.core.feeds import FeedRegenerateView

app_name = "changes"

urlpatterns = [
    path("changes/", views.change_list, name="change-list"),
    path("changes/new/", views.change_request, name="change-request"),
    path("changes/new/from-template/", views.change_from_template, name="change-from-template"),
    path("changes/cab/", views.cab_agenda, name="cab-agenda"),
    path("changes/incident-search/", views.incident_search, name="incident-search"),
    path("changes/calendar/", views.change_calendar, name="calendar"),
    path("changes/calendar/feed/regenerate/", FeedRegenerateView.as_view(success_url_name="changes:calendar"),
         name="calendar-feed-regenerate"),
    path("changes/calendar/feed/<str:key>.ics", views.calendar_feed, name="calendar-feed"),
    path("changes/<int:pk>/", views.change_detail, name="change-detail"),
    path("changes/<int:pk>/edit/", views.change_edit, name="change-edit"),
    path("changes/<int:pk>/transitions/<slug:name>/", views.change_transition, name="change-transition"),
    path("changes/<int:pk>/comments/", views.change_comment, name="change-comment"),
    path("changes/<int:pk>/attachments/", views.change_attachment, name="change-attachment"),
    path("changes/<int:pk>/opinions/invite/", views.change_invite, name="change-invite"),
    path("changes/<int:pk>/opinions/", views.change_opinion, name="change-opinion"),
    path("changes/<int:pk>/steps/", views.change_step, name="change-step"),
    path("changes/<int:pk>/reviews/", views.change_review, name="change-review"),
]
