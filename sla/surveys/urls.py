"""Satisfaction pages, included from sla/urls.py inside its "sla" namespace (sla:survey-answer …)."""

from django.urls import path

from sla.surveys import views

urlpatterns = [
    path("surveys/", views.survey_list, name="survey-list"),
    path("surveys/answer/<str:token>/", views.survey_answer, name="survey-answer"),
    path("surveys/thanks/", views.survey_thanks, name="survey-thanks"),
    path("surveys/follow-ups/", views.follow_up_list, name="follow-up-list"),
    path("surveys/follow-ups/<int:pk>/close/", views.follow_up_close, name="follow-up-close"),
    path("surveys/campaigns/", views.campaign_list, name="campaign-list"),
    path("surveys/campaigns/new/", views.campaign_create, name="campaign-create"),
    path("surveys/campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("surveys/campaigns/<int:pk>/<slug:action>/", views.campaign_action, name="campaign-action"),
    path("questionnaire/<str:token>/", views.campaign_answer, name="campaign-answer"),
]
