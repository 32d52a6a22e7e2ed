"""Duty pages."""

from django.urls import path

from duty import swap_views

app_name = "duty"

urlpatterns: list = [
    # --- swap (調班)
    path("duty/swaps/", swap_views.swap_list_page, name="swaprequest-list"),
    path("duty/swaps/<int:pk>/", swap_views.swap_detail, name="swaprequest-detail"),
    path("duty/swaps/<int:pk>/transitions/<slug:name>/", swap_views.swap_transition_page,
         name="swaprequest-transition"),
    path("duty/swaps/<int:pk>/comments/", swap_views.swap_comment, name="swaprequest-comment"),
    path("duty/swaps/<int:pk>/attachments/", swap_views.swap_attachment, name="swaprequest-attachment"),
    path("duty/shifts/<int:shift>/swap/", swap_views.swap_request_page, name="swap-request"),
]
