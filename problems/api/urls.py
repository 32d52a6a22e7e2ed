"""Problem management API routes: /api/v1/problems/, /api/v1/known-errors/, /api/v1/problem-candidates/."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
