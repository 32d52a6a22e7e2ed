"""Change management API routes."""

urlpatterns: list = []
