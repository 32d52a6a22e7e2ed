"""Duty API routes under /api/v1/duty/."""

from rest_framework.routers import SimpleRouter

from duty.api import attend, swaps

router = SimpleRouter()
# --- swap (調班)
router.register("duty/swaps", swaps.SwapViewSet, basename="duty-swap")

# --- roster: /api/v1/duty/rosters/, /api/v1/duty/shifts/, /api/v1/duty/on-duty/ ---
from duty.api import roster_views  # noqa: E402

router.register("duty/rosters", roster_views.RosterViewSet, basename="duty-roster")
router.register("duty/shifts", roster_views.ShiftViewSet, basename="duty-shift")
router.register("duty/on-duty", roster_views.OnDutyViewSet, basename="duty-on-duty")
# --- end roster ---

# --- attend: attendance, the duty log, handovers -----------------------------------------------------------------
router.register("duty/attendance", attend.AttendanceViewSet, basename="duty-attendance")
router.register("duty/log", attend.DutyLogViewSet, basename="duty-log")
router.register("duty/handovers", attend.HandoverViewSet, basename="duty-handover")

urlpatterns = router.urls
