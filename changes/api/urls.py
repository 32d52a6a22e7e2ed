"""Change management API routes: /api/v1/changes/, /api/v1/change-templates/, /api/v1/freeze-windows/,
/api/v1/maintenance-windows/, /api/v1/change-votes/, /api/v1/risk-questions/."""

from rest_framework.routers import SimpleRouter

from changes.api import views

router = SimpleRouter()
router.register("changes", views.ChangeViewSet, basename="change")
router.register("change-templates", views.ChangeTemplateViewSet, basename="change-template")
router.register("freeze-windows", views.FreezeWindowViewSet, basename="freeze-window")
router.register("maintenance-windows", views.MaintenanceWindowViewSet, basename="maintenance-window")
router.register("change-votes", views.ChangeVoteViewSet, basename="change-vote")
router.register("risk-questions", views.RiskQuestionViewSet, basename="risk-question")

urlpatterns = router.urls
