"""Problem management pages."""

app_name = "problems"

urlpatterns: list = []
