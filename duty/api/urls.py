"""Duty API routes under /api/v1/duty/."""

from rest_framework.routers import SimpleRouter

from duty.api import swaps

router = SimpleRouter()
# --- swap (調班)
router.register("duty/swaps", swaps.SwapViewSet, basename="duty-swap")

urlpatterns = router.urls
