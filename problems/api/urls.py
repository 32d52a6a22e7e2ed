"""Problem management API routes: /api/v1/problems/, /api/v1/known-errors/, /api/v1/problem-candidates/."""

from rest_framework.routers import SimpleRouter

from problems.api import candidates, views

router = SimpleRouter()
# --- the problem's core: problems and their solution plans ---
router.register("problems", views.ProblemViewSet, basename="problem")
router.register("problem-actions", views.ActionItemViewSet, basename="problem-action")
# --- recurring-incident candidates ---
router.register("problem-candidates", candidates.CandidateViewSet, basename="problem-candidate")

urlpatterns = router.urls

# --- the known-error database ---
from problems.api.known_errors import KnownErrorViewSet  # noqa: E402

router.register("known-errors", KnownErrorViewSet, basename="known-error")
urlpatterns = router.urls
