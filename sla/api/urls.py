"""Service level and satisfaction API routes."""

urlpatterns: list = []
