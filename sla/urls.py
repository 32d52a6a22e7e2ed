"""Service level and satisfaction pages."""

app_name = "sla"

urlpatterns: list = []
