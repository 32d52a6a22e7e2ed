"""The problem admin: transition buttons and forms go through the problem services, refusals are messages, edits
of what the state allows are checked (the analysis's structure too) and logged; action items move through their
own transitions; the policy is one row."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from opscenter.core.models import FieldChange
from opscenter.core.tests.factories import UserFactory
from problems.choices import ActionState, KnownErrorState, State
from problems.models import ActionItem, KnownError, Problem, ProblemPolicy
from problems.tests.factories import KnownErrorFactory, ProblemCrew, problem_in_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(supervisor: Any) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def change_url(problem: Problem) -> str:
    return reverse("admin:problems_problem_change", args=[problem.pk])


def form_data(client: Client, problem: Problem, **changes: Any) -> dict[str, Any]:
    """The change form's current values (what the state lets the admin edit), with changes, and the inlines'."""
    response = client.get(change_url(problem))
    form = response.context["adminform"].form
    data = {name: "" if form.initial.get(name) is None else field.prepare_value(form.initial[name])
            for name, field in form.fields.items()}
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
    return {**data, **changes}


def texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_buttons_go_through_the_services_and_refusals_are_messages(admin_client: Client,
                                                                      crew: ProblemCrew) -> None:
    problem = problem_in_state(State.SOLVING, crew)
    ActionItem.objects.create(problem=problem, measure="Still open", owner=crew.engineer)
    page = admin_client.get(change_url(problem))
    assert page.status_code == 200 and b"problem-timeline" in page.content
    response = admin_client.post(change_url(problem), {**form_data(admin_client, problem),
                                                       "_fsm_transition_to": "verify"}, follow=True)
    assert any("Every action must be done" in t for t in texts(response))
    assert Problem.objects.get(pk=problem.pk).state == State.SOLVING
    url = reverse("admin:problems_problem_transition", args=[problem.pk, "cancel"])
    admin_client.post(url, {"comment": "A duplicate."})
    assert Problem.objects.get(pk=problem.pk).state == State.CANCELLED


def test_edits_are_checked_and_logged(admin_client: Client, crew: ProblemCrew) -> None:
    problem = problem_in_state(State.ANALYZING, crew)
    response = admin_client.post(change_url(problem), form_data(admin_client, problem, fishbone='{"peple": ["x"]}'),
                                 follow=True)
    assert any("fishbone" in t for t in texts(response))
    assert Problem.objects.get(pk=problem.pk).fishbone == problem.fishbone
    admin_client.post(change_url(problem), form_data(admin_client, problem, frequency="Twice a week"), follow=True)
    assert Problem.objects.get(pk=problem.pk).frequency == "Twice a week"
    assert FieldChange.objects.filter(object_id=problem.pk, field="frequency", new_value="Twice a week").exists()


def test_actions_move_in_the_admin(admin_client: Client, crew: ProblemCrew) -> None:
    problem = problem_in_state(State.ANALYZING, crew)
    action = problem.actions.get()
    url = reverse("admin:problems_actionitem_transition", args=[action.pk, "drop"])
    admin_client.post(url, {"comment": "Replaced by a vendor fix."})
    assert ActionItem.objects.get(pk=action.pk).state == ActionState.DROPPED


def test_the_policy_is_one_row(admin_client: Client) -> None:
    assert ProblemPolicy.objects.count() == 1
    assert admin_client.get(reverse("admin:problems_problempolicy_add")).status_code == 403
    assert admin_client.get(reverse("admin:problems_problem_add")).status_code == 403


def test_department_users_have_no_problem_admin(crew: ProblemCrew) -> None:
    problem = problem_in_state(State.IDENTIFIED, crew)
    client = Client()
    client.force_login(UserFactory(roles=["department_user"], is_staff=True))
    assert client.get(change_url(problem)).status_code in (302, 403, 404)


# --- the known-error database ---


def known_error_form(client: Client, ke: Any, **changes: Any) -> tuple[str, dict[str, Any]]:
    """The known error's change form address and current values, with changes."""
    url = reverse("admin:problems_knownerror_change", args=[ke.pk])
    form = client.get(url).context["adminform"].form
    data = {name: "" if form.initial.get(name) is None else field.prepare_value(form.initial[name])
            for name, field in form.fields.items()}
    return url, {**data, **changes}


def test_known_errors_publish_and_retire_in_the_admin(admin_client: Client, crew: ProblemCrew) -> None:
    from problems.choices import KnownErrorState
    from problems.models import KnownError
    from problems.tests.factories import KnownErrorFactory

    def publish(ke: KnownError) -> Any:
        url, data = known_error_form(admin_client, ke, _fsm_transition_to="publish")
        return admin_client.post(url, data, follow=True)

    incomplete = KnownErrorFactory(workaround="")
    assert any("workaround" in t for t in texts(publish(incomplete)))
    assert KnownError.objects.get(pk=incomplete.pk).state == KnownErrorState.DRAFT

    ke = KnownErrorFactory()
    publish(ke)
    assert KnownError.objects.get(pk=ke.pk).state == KnownErrorState.PUBLISHED
    url = reverse("admin:problems_knownerror_transition", args=[ke.pk, "retire"])
    admin_client.post(url, {"comment": "The root cause is removed."})
    assert KnownError.objects.get(pk=ke.pk).state == KnownErrorState.RETIRED
    assert admin_client.get(reverse("admin:problems_knownerror_changelist")).status_code == 200


def test_known_error_edits_in_the_admin_are_on_the_timeline(admin_client: Client) -> None:
    from problems.models import KnownError
    from problems.tests.factories import KnownErrorFactory

    ke = KnownErrorFactory()
    url, data = known_error_form(admin_client, ke, workaround="Use the backup portal.")
    admin_client.post(url, data, follow=True)
    assert KnownError.objects.get(pk=ke.pk).workaround == "Use the backup portal."
    assert FieldChange.objects.filter(object_id=ke.pk, field="workaround").exists()


def test_a_known_errors_edits_go_through_its_service_and_a_retired_one_is_read_only(admin_client: Client) -> None:
    known_error = KnownErrorFactory(symptom="Logins time out")
    url = reverse("admin:problems_knownerror_change", args=[known_error.pk])
    response = admin_client.get(url)
    form = response.context["adminform"].form
    assert "symptom" in form.fields and "number" not in form.fields  # the state's fields are inputs, the rest shown
    data = {name: "" if form.initial.get(name) is None else field.prepare_value(form.initial[name])
            for name, field in form.fields.items()}
    response = admin_client.post(url, {**data, "symptom": "Logins time out on Mondays"})
    assert response.status_code == 302
    assert KnownError.objects.get(pk=known_error.pk).symptom == "Logins time out on Mondays"
    assert FieldChange.objects.filter(object_id=known_error.pk, field="symptom").count() == 1
    retired = KnownErrorFactory(state=KnownErrorState.RETIRED)
    page = admin_client.get(reverse("admin:problems_knownerror_change", args=[retired.pk]))
    assert page.status_code == 200 and not page.context["adminform"].form.fields  # shown, nothing to change
    assert admin_client.get(reverse("admin:problems_knownerror_add")).status_code == 403
