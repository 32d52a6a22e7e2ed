"""Change management pages."""

from django.urls import path

from changes import views

app_name = "changes"

urlpatterns = [
    path("changes/<int:pk>/", views.change_detail, name="change-detail"),
]
