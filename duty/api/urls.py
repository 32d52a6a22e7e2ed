"""Duty API routes under /api/v1/duty/."""

from rest_framework.routers import SimpleRouter

from duty.api import attend

router = SimpleRouter()

# --- attend: attendance, the duty log, handovers -----------------------------------------------------------------
router.register("duty/attendance", attend.AttendanceViewSet, basename="duty-attendance")
router.register("duty/log", attend.DutyLogViewSet, basename="duty-log")
router.register("duty/handovers", attend.HandoverViewSet, basename="duty-handover")

urlpatterns = router.urls
