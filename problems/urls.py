"""Problem management pages."""

from django.urls import path

from problems import candidate_views, known_error_views, views

app_name = "problems"

urlpatterns = [
    # --- the problem's core: the queue, identify, the problem page and its posts ---
    path("problems/", views.problem_list, name="problem-list"),
    path("problems/new/", views.problem_create, name="problem-create"),
    path("problems/incident-search/", views.incident_search, name="incident-search"),
    path("problems/<int:pk>/", views.problem_detail, name="problem-detail"),
    path("problems/<int:pk>/edit/", views.problem_edit, name="problem-edit"),
    path("problems/<int:pk>/transitions/<slug:name>/", views.problem_transition, name="problem-transition"),
    path("problems/<int:pk>/comments/", views.problem_comment, name="problem-comment"),
    path("problems/<int:pk>/attachments/", views.problem_attachment, name="problem-attachment"),
    path("problems/<int:pk>/sections/<slug:section>/", views.problem_section, name="problem-section"),
    path("problems/<int:pk>/incidents/", views.problem_link, name="problem-link"),
    path("problems/<int:pk>/incidents/<int:incident>/unlink/", views.problem_unlink, name="problem-unlink"),
    path("problems/<int:pk>/actions/", views.action_add, name="action-add"),
    path("problems/<int:pk>/actions/<int:action>/", views.action_edit, name="action-edit"),
    path("problems/<int:pk>/actions/<int:action>/<slug:name>/", views.action_move, name="action-move"),
    path("problems/<int:pk>/raise-change/", views.raise_change, name="raise-change"),
    # --- recurring-incident candidates ---
    path("problems/candidates/", candidate_views.candidate_list_page, name="candidate-list"),
    path("problems/candidates/<int:pk>/", candidate_views.candidate_detail_page, name="candidate-detail"),
    path("problems/candidates/<int:pk>/<slug:name>/", candidate_views.candidate_decide, name="candidate-decide"),
    # --- the known-error database ---
    path("problems/known-errors/", known_error_views.known_error_list, name="knownerror-list"),
    path("problems/known-errors/new/", known_error_views.known_error_create, name="knownerror-create"),
    path("problems/known-errors/suggest/", known_error_views.known_error_suggest, name="knownerror-suggest"),
    path("problems/known-errors/<int:pk>/", known_error_views.known_error_detail, name="knownerror-detail"),
    path("problems/known-errors/<int:pk>/edit/", known_error_views.known_error_edit, name="knownerror-edit"),
    path("problems/known-errors/<int:pk>/transitions/<slug:name>/", known_error_views.known_error_transition,
         name="knownerror-transition"),
    path("problems/known-errors/<int:pk>/comments/", known_error_views.known_error_comment,
         name="knownerror-comment"),
    path("problems/known-errors/<int:pk>/attachments/", known_error_views.known_error_attachment,
         name="knownerror-attachment"),
]
