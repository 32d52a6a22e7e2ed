"""Satisfaction API routes, included from sla/api/urls.py under /api/v1/surveys/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from sla.surveys.api import views

router = SimpleRouter()
router.register("follow-ups", views.FollowUpViewSet, basename="survey-follow-up")
router.register("campaigns", views.CampaignViewSet, basename="survey-campaign")
router.register("", views.SurveyViewSet, basename="survey")  # last: its detail route would match the others

urlpatterns = [
    path("answer/<str:token>/", views.SurveyAnswerView.as_view(), name="survey-answer-api"),
    path("campaigns/answer/<str:token>/", views.CampaignAnswerView.as_view(), name="survey-campaign-answer-api"),
    *router.urls,
]
