"""Page routes of the kernel."""

from django.urls import path

from opscenter.core import views
from opscenter.core.feeds import FeedRegenerateView

urlpatterns = [
    path("", views.home, name="home"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read, name="notifications-read"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/api-tokens/revoke/", views.api_tokens_revoke, name="api-tokens-revoke"),
    path("feeds/regenerate/", FeedRegenerateView.as_view(), name="feed-regenerate"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("healthz", views.healthz, name="healthz"),
]
