"""Questionnaire campaigns: drafted by supervisors with their questions, opened to each department's
contacts with signed links, answered once without signing in while open (410 once closed or past), closed,
and their results per question, department, team and service; scores dashboards read."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import assert_error
from incidents.tests.factories import make_crew
from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidState
from opscenter.core.models import Notification
from opscenter.core.tests.factories import DepartmentFactory, ServiceFactory, TeamFactory, UserFactory
from sla.choices import CampaignState, QuestionKind
from sla.models import Campaign, CampaignAnswer, CampaignInvitation
from sla.surveys import selectors, services
from sla.surveys.tasks import send_surveys

pytestmark = pytest.mark.django_db


def draft(supervisor, departments, **fields) -> Campaign:  # noqa: ANN001, ANN003
    """A campaign with a score question about a team, one about a service, and an optional text question."""
    team, service = fields.pop("team", TeamFactory()), fields.pop("service", ServiceFactory())
    return services.campaign_create(
        user=supervisor, name=fields.pop("name", "Service quality 2026 H2"), departments=departments,
        closes_at=fields.pop("closes_at", timezone.now() + timedelta(days=14)),
        questions=[{"text": "How satisfied are you with the system team?", "kind": QuestionKind.SCORE,
                    "team": team},
                   {"text": "How satisfied are you with ERP?", "kind": QuestionKind.SCORE, "service": service},
                   {"text": "What should we improve?", "kind": QuestionKind.TEXT, "required": False}], **fields)


def opened(departments=None) -> tuple[Campaign, object]:  # noqa: ANN001
    crew = make_crew()
    campaign = draft(crew.supervisor, departments or [crew.department])
    return services.campaign_open(campaign, user=crew.supervisor), crew


def token_of(invitation: CampaignInvitation) -> str:
    return services.sign(invitation.pk, salt=services.CAMPAIGN_SALT)


def answers(campaign: Campaign, *scores: int, text: str = "") -> dict[int, str]:
    questions = list(campaign.questions.all())
    return {q.pk: str(scores[i]) if q.kind == QuestionKind.SCORE else text for i, q in enumerate(questions)}


def answer_url(invitation: CampaignInvitation) -> str:
    return reverse("sla:campaign-answer", args=[token_of(invitation)])


# --- Who is invited ---------------------------------------------------------------------------------------


def test_contacts_are_department_users_and_the_contact_email_holder() -> None:
    finance = DepartmentFactory(contact_email="IT-Contact@finance.example")
    member = UserFactory(roles=[roles.DEPARTMENT_USER], department=finance)
    UserFactory(department=finance)  # in the department but without the role
    UserFactory(roles=[roles.DEPARTMENT_USER], department=finance, is_active=False)
    named = UserFactory(email="it-contact@finance.example")  # the contact address, whatever their department
    UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory())
    contacts = selectors.department_contacts([finance])
    assert sorted((user.pk, department.pk) for user, department in contacts) == sorted(
        [(member.pk, finance.pk), (named.pk, finance.pk)])


# --- Drafting, opening, closing ---------------------------------------------------------------------------


def test_opening_invites_each_contact_once_with_a_signed_link() -> None:
    campaign, crew = opened()
    invitation = CampaignInvitation.objects.get(campaign=campaign)
    assert (invitation.respondent, invitation.department) == (crew.caller, crew.department)
    assert campaign.state == CampaignState.OPEN and campaign.opens_at is not None
    rows = Notification.objects.filter(event="campaign.invited", recipient=crew.caller)
    assert {row.channel for row in rows} == {"in_app", "email"}
    token = rows[0].link.rstrip("/").rsplit("/", 1)[-1]
    assert services.invitation_from_token(token) == invitation
    with pytest.raises(InvalidState):
        services.campaign_open(campaign, user=crew.supervisor)
    assert CampaignInvitation.objects.count() == 1


def test_only_supervisors_draft_open_and_close() -> None:
    crew = make_crew()
    for user in (crew.engineer, crew.caller, UserFactory(roles=[roles.AUDITOR])):
        with pytest.raises(services.TransitionForbidden):
            draft(user, [crew.department])
    campaign = draft(crew.supervisor, [crew.department])
    with pytest.raises(services.TransitionForbidden):
        services.campaign_open(campaign, user=crew.engineer)
    assert Campaign.objects.get().state == CampaignState.DRAFT


def test_a_campaign_without_questions_or_contacts_is_not_opened() -> None:
    """A campaign without questions is blocked by a rule of the policy (409); one nobody would receive is
    refused (400)."""
    crew = make_crew()
    empty = services.campaign_create(user=crew.supervisor, name="Empty", departments=[crew.department],
                                     closes_at=timezone.now() + timedelta(days=1), questions=[])
    with pytest.raises(ConditionFailed, match="at least one question"):
        services.campaign_open(empty, user=crew.supervisor)
    nobody = draft(crew.supervisor, [DepartmentFactory()])
    with pytest.raises(services.InvalidInput, match="no contacts to invite"):
        services.campaign_open(nobody, user=crew.supervisor)
    assert not Campaign.objects.filter(state=CampaignState.OPEN).exists()


def test_a_campaign_must_close_in_the_future() -> None:
    crew = make_crew()
    with pytest.raises(services.InvalidInput):
        draft(crew.supervisor, [crew.department], closes_at=timezone.now() - timedelta(minutes=1))
    assert not Campaign.objects.exists()


# --- Answering without signing in -------------------------------------------------------------------------


def test_contact_answers_once_without_signing_in(client) -> None:  # noqa: ANN001
    campaign, crew = opened()
    invitation = CampaignInvitation.objects.get()
    page = client.get(answer_url(invitation))
    assert page.status_code == 200 and "How satisfied are you with ERP?" in page.content.decode()
    questions = list(campaign.questions.all())
    response = client.post(answer_url(invitation), {f"q_{questions[0].pk}": "4", f"q_{questions[1].pk}": "5",
                                                    f"q_{questions[2].pk}": "Faster callbacks"})
    assert response.status_code == 302
    assert CampaignAnswer.objects.filter(invitation=invitation).count() == 3
    again = client.post(answer_url(invitation), {f"q_{questions[0].pk}": "1", f"q_{questions[1].pk}": "1"})
    assert again.status_code == 409
    assert sorted(CampaignAnswer.objects.values_list("score", flat=True), key=str) == [4, 5, None]


def test_required_questions_and_scores_are_checked(client) -> None:  # noqa: ANN001
    campaign, _crew = opened()
    invitation = CampaignInvitation.objects.get()
    first, second, _text = campaign.questions.all()
    response = client.post(answer_url(invitation), {f"q_{first.pk}": "9"})
    assert response.status_code == 400 and 'id="campaign-errors"' in response.content.decode()
    assert not CampaignAnswer.objects.exists() and CampaignInvitation.objects.get().answered_at is None
    with pytest.raises(services.InvalidInput) as refused:
        services.campaign_answer(token=token_of(invitation), answers={first.pk: "3"})
    assert set(refused.value.detail) == {str(second.pk)}


def test_closed_or_past_campaign_links_are_410(client) -> None:  # noqa: ANN001
    campaign, crew = opened()
    invitation = CampaignInvitation.objects.get()
    Campaign.objects.filter(pk=campaign.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert client.get(answer_url(invitation)).status_code == 410
    assert send_surveys() == 0 and Campaign.objects.get().state == CampaignState.CLOSED
    response = client.post(answer_url(invitation), answers(campaign, 5, 5))
    assert response.status_code == 410 and not CampaignAnswer.objects.exists()


def test_closing_stops_the_links(api) -> None:  # noqa: ANN001
    campaign, crew = opened()
    services.campaign_close(campaign, user=crew.supervisor)
    url = f"/api/v1/surveys/campaigns/answer/{token_of(CampaignInvitation.objects.get())}/"
    assert_error(api.post(url, {"answers": answers(campaign, 5, 5)}, format="json"), 410, "expired")
    with pytest.raises(InvalidState):
        services.campaign_close(campaign, user=crew.supervisor)


def test_forged_and_cross_salted_links_are_404(client) -> None:  # noqa: ANN001
    opened()
    invitation = CampaignInvitation.objects.get()
    survey_salted = services.sign(invitation.pk, salt=services.SURVEY_SALT)
    for token in (survey_salted, token_of(invitation)[:-3] + "xyz", "nothing"):
        assert client.get(reverse("sla:campaign-answer", args=[token])).status_code == 404


def test_api_answers_by_token_without_authentication(api) -> None:  # noqa: ANN001
    campaign, _crew = opened()
    url = f"/api/v1/surveys/campaigns/answer/{token_of(CampaignInvitation.objects.get())}/"
    assert len(api.get(url).json()["questions"]) == 3
    assert_error(api.post(url, {"answers": {}}, format="json"), 400, "invalid")
    assert api.post(url, {"answers": answers(campaign, 3, 4, text="ok")}, format="json").status_code == 204
    assert_error(api.post(url, {"answers": answers(campaign, 3, 4)}, format="json"), 409, "already_answered")


# --- Results -------------------------------------------------------------------------------------------------


def answered_by_two_departments() -> tuple[Campaign, object, object]:
    ours, theirs = make_crew(), make_crew()
    campaign = draft(ours.supervisor, [ours.department, theirs.department])
    services.campaign_open(campaign, user=ours.supervisor)
    for crew, scores, text in ((ours, (5, 4), "Great"), (theirs, (3, 2), "")):
        invitation = CampaignInvitation.objects.get(respondent=crew.caller)
        services.campaign_answer(token=token_of(invitation), answers=answers(campaign, *scores, text=text))
    return campaign, ours, theirs


def test_results_per_question_department_team_and_service() -> None:
    campaign, ours, theirs = answered_by_two_departments()
    results = selectors.campaign_results(campaign)
    assert (results["invited"], results["answered"]) == (2, 2)
    team_question, service_question, text_question = results["questions"]
    assert (team_question["average"], team_question["count"]) == (4.0, 2)
    assert (service_question["average"], service_question["count"]) == (3.0, 2)
    assert text_question["answers"] == ["Great"] and text_question["count"] == 1
    by_department = {row["name"]: (row["average"], row["count"]) for row in results["by_department"]}
    assert by_department == {ours.department.name: (4.5, 2), theirs.department.name: (2.5, 2)}
    assert [(row["average"], row["count"]) for row in results["by_team"]] == [(4.0, 2)]
    assert [(row["average"], row["count"]) for row in results["by_service"]] == [(3.0, 2)]
    own = selectors.campaign_results(campaign, department=ours.department)
    assert [row["name"] for row in own["by_department"]] == [ours.department.name] and own["invited"] == 1


def test_results_page_and_api(client, api_as, django_assert_num_queries) -> None:  # noqa: ANN001
    campaign, ours, _theirs = answered_by_two_departments()
    client.force_login(ours.supervisor)
    page = client.get(reverse("sla:campaign-detail", args=[campaign.pk])).content.decode()
    assert "Great" in page and 'id="results-department"' in page
    api = api_as(ours.supervisor)
    with django_assert_num_queries(13):  # auth 3, the campaign, its result aggregates — whatever the answers
        body = api.get(f"/api/v1/surveys/campaigns/{campaign.pk}/results/").json()
    assert body["answered"] == 2 and len(body["by_department"]) == 2
    assert api_as(ours.caller).get(f"/api/v1/surveys/campaigns/{campaign.pk}/results/").status_code == 403
    assert api_as(ours.engineer).get("/api/v1/surveys/campaigns/").status_code == 403


def test_campaign_pages_query_counts_do_not_grow(client, django_assert_num_queries) -> None:  # noqa: ANN001
    crew = make_crew()
    client.force_login(crew.supervisor)
    for name in ("first", "second"):
        draft(crew.supervisor, [crew.department], name=name)
        # the user (the session comes from the cache), permissions (2), the count, roles, unread count, the page
        with django_assert_num_queries(7):
            assert client.get(reverse("sla:campaign-list")).status_code == 200


def test_api_creates_opens_and_lists_campaigns(api_as, django_assert_num_queries) -> None:  # noqa: ANN001
    crew = make_crew()
    team = TeamFactory()
    payload = {"name": "Desk services", "closes_at": (timezone.now() + timedelta(days=7)).isoformat(),
               "departments": [crew.department.pk],
               "questions": [{"text": "Desktop support?", "kind": "score", "team": team.pk}]}
    assert_error(api_as(crew.caller).post("/api/v1/surveys/campaigns/", payload, format="json"), 403)
    assert_error(api_as(UserFactory(roles=[roles.AUDITOR])).post("/api/v1/surveys/campaigns/", payload,
                                                                 format="json"), 403)
    client = api_as(crew.supervisor)
    assert_error(client.post("/api/v1/surveys/campaigns/", {**payload, "questions": []}, format="json"), 400)
    created = client.post("/api/v1/surveys/campaigns/", payload, format="json")
    assert created.status_code == 201 and created.json()["questions"][0]["team"] == team.pk
    pk = created.json()["id"]
    assert client.post(f"/api/v1/surveys/campaigns/{pk}/open/").json()["invited"] == 1
    assert_error(client.post(f"/api/v1/surveys/campaigns/{pk}/open/"), 409)
    for _ in range(2):
        # auth 4 (the token, the user's and their groups' permissions, roles), the count, the page, the
        # departments and questions prefetched
        with django_assert_num_queries(8):
            assert client.get("/api/v1/surveys/campaigns/").status_code == 200
        client.post("/api/v1/surveys/campaigns/", payload, format="json")


def test_campaigns_move_through_the_kernels_transition_endpoint(api_as) -> None:  # noqa: ANN001
    crew = make_crew()
    payload = {"name": "Network", "closes_at": (timezone.now() + timedelta(days=7)).isoformat(),
               "departments": [crew.department.pk], "questions": [{"text": "Wi-Fi?", "kind": "score"}]}
    client = api_as(crew.supervisor)
    pk = client.post("/api/v1/surveys/campaigns/", payload, format="json").json()["id"]
    url = f"/api/v1/surveys/campaigns/{pk}/transitions/"
    assert_error(client.post(f"{url}nope/"), 400, "unknown_transition")
    assert_error(api_as(crew.caller).post(f"{url}open/"), 403)
    assert_error(client.post(f"{url}close/"), 409, "invalid_state")
    opened = client.post(f"{url}open/")
    assert opened.status_code == 200 and opened.json()["state"] == "open" and opened.json()["invited"] == 1
    assert client.get(f"/api/v1/surveys/campaigns/{pk}/").json()["available_transitions"] == ["close"]
    assert client.post(f"{url}close/").json()["state"] == "closed"


def test_survey_scores_per_department_over_a_period() -> None:
    from sla.models import Survey

    ours, theirs = make_crew(), make_crew()
    now = timezone.now()
    for crew, score, days_ago in ((ours, 5, 1), (ours, 3, 2), (theirs, 1, 1), (ours, 1, 40)):
        from incidents.tests.factories import IncidentFactory

        incident = IncidentFactory(department=crew.department, team=crew.team)
        Survey.objects.create(incident=incident, respondent=crew.caller, department=crew.department,
                              team=crew.team, send_after=now, state="answered", score=score,
                              answered_at=now - timedelta(days=days_ago))
    month = selectors.survey_scores(start=now - timedelta(days=30), end=now)
    assert (month["average"], month["count"]) == (3.0, 3)
    assert {row["name"]: (row["average"], row["count"]) for row in month["by_department"]} == {
        ours.department.name: (4.0, 2), theirs.department.name: (1.0, 1)}
    own = selectors.survey_scores(start=now - timedelta(days=30), end=now, department=ours.department)
    assert own["count"] == 2 and [row["name"] for row in own["by_department"]] == [ours.department.name]


# --- Pages and admin ------------------------------------------------------------------------------------------


def test_supervisor_drafts_opens_and_closes_on_the_pages(client) -> None:  # noqa: ANN001
    crew = make_crew()
    client.force_login(crew.supervisor)
    assert client.get(reverse("sla:campaign-create")).status_code == 200
    form = {"name": "Quarterly", "description": "Tell us", "departments": [crew.department.pk],
            "closes_at": (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
            "questions-TOTAL_FORMS": "2", "questions-INITIAL_FORMS": "0",
            "questions-0-text": "Overall?", "questions-0-kind": "score", "questions-0-required": "on",
            "questions-1-text": "", "questions-1-kind": "score"}
    response = client.post(reverse("sla:campaign-create"), form)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and campaign.questions.count() == 1
    client.post(reverse("sla:campaign-action", args=[campaign.pk, "open"]))
    assert Campaign.objects.get().state == CampaignState.OPEN and CampaignInvitation.objects.count() == 1
    page = client.post(reverse("sla:campaign-action", args=[campaign.pk, "open"]), follow=True)
    assert "is not allowed while the questionnaire campaign is Open" in page.content.decode()
    client.post(reverse("sla:campaign-action", args=[campaign.pk, "close"]))
    assert Campaign.objects.get().state == CampaignState.CLOSED


def test_campaign_form_refuses_a_past_closing_time(client) -> None:  # noqa: ANN001
    crew = make_crew()
    client.force_login(crew.supervisor)
    response = client.post(reverse("sla:campaign-create"), {
        "name": "Late", "departments": [crew.department.pk],
        "closes_at": (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "questions-TOTAL_FORMS": "0", "questions-INITIAL_FORMS": "0"})
    assert response.status_code == 400 and not Campaign.objects.exists()


def test_campaign_pages_are_for_supervisors_and_auditors(client) -> None:  # noqa: ANN001
    campaign, crew = opened()
    for user, status in ((crew.engineer, 403), (crew.caller, 403), (UserFactory(roles=[roles.AUDITOR]), 200)):
        client.force_login(user)
        assert client.get(reverse("sla:campaign-detail", args=[campaign.pk])).status_code == status
    assert client.get(reverse("sla:campaign-create")).status_code == 403
    assert client.post(reverse("sla:campaign-action", args=[campaign.pk, "close"])).status_code == 302
    assert Campaign.objects.get().state == CampaignState.OPEN  # the auditor's close was refused


def test_admin_pages_of_satisfaction_render(client) -> None:  # noqa: ANN001
    import sla.surveys.admin  # noqa: F401 — registered by sla/admin.py

    campaign, crew = opened()
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    for name in ("surveypolicy", "survey", "followup", "campaign"):
        assert client.get(reverse(f"admin:sla_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:sla_campaign_change", args=[campaign.pk])).status_code == 200
