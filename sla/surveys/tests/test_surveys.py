"""Satisfaction surveys on resolved incidents: who is asked and when (delay, sampling, quiet period, never the
resolver, never twice), the beat sender (once), the signed one-time link without sign-in (409 answered, 410
expired, 404 forged), low scores and their follow-ups, department isolation and pinned query counts."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from conftest import assert_error
from incidents.choices import State
from incidents.services import incident_transition
from incidents.tests.factories import Crew, incident_in_state, make_crew, transition_data
from opscenter.core import roles
from opscenter.core.models import Notification
from opscenter.core.tests.factories import ServiceFactory, UserFactory
from sla.choices import FollowUpState, SurveyState
from sla.models import FollowUp, Survey, SurveyPolicy
from sla.surveys import services
from sla.surveys.tasks import send_surveys

pytestmark = pytest.mark.django_db


def policy(**fields) -> SurveyPolicy:  # noqa: ANN003
    """The survey policy with the given values (every survey sent, no quiet period unless said)."""
    current = SurveyPolicy.current()
    for name, value in {"delay_minutes": 60, "sampling_percent": 100, "quiet_days": 0, "valid_days": 14,
                        "low_score": 2, **fields}.items():
        setattr(current, name, value)
    current.save()
    return current


def resolved(crew: Crew | None = None, **fields) -> Survey | None:  # noqa: ANN003
    """An incident reported for the crew's caller and resolved by its engineer; its survey, if any."""
    incident = incident_in_state(State.RESOLVED, crew=crew or make_crew(), **fields)
    return Survey.objects.filter(incident=incident).first()


def sent_survey(crew: Crew | None = None, **policy_fields) -> tuple[Survey, str]:  # noqa: ANN003
    """A survey sent by the sweep, and the token of its link."""
    policy(**policy_fields)
    survey = resolved(crew)
    assert services.send_due_surveys(now=survey.send_after) == 1
    survey.refresh_from_db()
    return survey, services.sign(survey.pk, salt=services.SURVEY_SALT)


def answer_url(token: str) -> str:
    return reverse("sla:survey-answer", args=[token])


# --- Who is asked, and when -----------------------------------------------------------------------------


def test_resolving_schedules_the_callers_survey_after_the_delay() -> None:
    policy(delay_minutes=90)
    crew = make_crew()
    service = ServiceFactory()
    survey = resolved(crew, service=service)
    assert survey.respondent == crew.caller and survey.state == SurveyState.PENDING
    assert survey.send_after == survey.incident.resolved_at + timedelta(minutes=90)
    assert (survey.department, survey.team, survey.service) == (crew.department, crew.team, service)


def test_without_a_caller_the_recorder_is_asked_only_when_a_department_user() -> None:
    crew = make_crew()
    incident = incident_in_state(State.RESOLVED, crew=crew)
    incident.caller = None
    assert services.survey_respondent(incident) is None  # recorded by the duty officer
    incident.created_by = crew.caller
    assert services.survey_respondent(incident) == crew.caller


def test_no_survey_when_the_reporter_resolved_it_themselves() -> None:
    policy()
    crew = make_crew()
    assert resolved(crew, caller=crew.engineer) is None


def test_sampling_rate_decides_per_incident_and_always_the_same_way() -> None:
    policy(sampling_percent=0)
    assert resolved() is None
    incident = incident_in_state(State.RESOLVED)
    assert services.sample_bucket(incident) == services.sample_bucket(incident) in range(100)
    Survey.objects.all().delete()
    policy(sampling_percent=50)
    assert services.survey_schedule(incident, bucket=lambda _incident: 50) is None
    assert services.survey_schedule(incident, bucket=lambda _incident: 49) is not None


def test_one_survey_per_person_in_the_quiet_period() -> None:
    policy(quiet_days=7)
    crew = make_crew()
    first = resolved(crew)
    assert first is not None and resolved(crew) is None
    later = incident_in_state(State.RESOLVED, crew=crew)
    assert services.survey_schedule(later, at=first.send_after + timedelta(days=7)) is not None


def test_no_second_survey_when_the_incident_is_resolved_again() -> None:
    policy()
    crew = make_crew()
    survey = resolved(crew)
    incident = incident_transition(survey.incident, "reopen", user=crew.engineer, comment="It failed again")
    for name in ("restore", "confirm_recovery"):
        data, _comment = transition_data(crew, name)
        incident = incident_transition(incident, name, user=crew.engineer, data=data)
    assert Survey.objects.filter(incident=incident).count() == 1
    assert Survey.objects.get(incident=incident).send_after == survey.send_after


# --- Sending ------------------------------------------------------------------------------------------------


def test_sweep_sends_after_the_delay_once_with_a_signed_link() -> None:
    policy(delay_minutes=60, valid_days=14)
    survey = resolved()
    assert services.send_due_surveys(now=survey.send_after - timedelta(minutes=1)) == 0
    assert services.send_due_surveys(now=survey.send_after) == 1
    assert services.send_due_surveys(now=survey.send_after + timedelta(minutes=1)) == 0
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT and survey.expires_at == survey.send_after + timedelta(days=14)
    rows = Notification.objects.filter(event="survey.sent")
    assert {(row.recipient, row.channel) for row in rows} == {(survey.respondent, "in_app"),
                                                               (survey.respondent, "email")}
    token = rows[0].link.rstrip("/").rsplit("/", 1)[-1]
    assert services.survey_from_token(token) == survey
    assert not rows.filter(channel="webhook").exists()  # the link is the respondent's key


def test_the_task_runs_twice_and_sends_once(django_assert_num_queries) -> None:
    policy(delay_minutes=0)
    resolved()
    assert send_surveys() == 1 and send_surveys() == 0
    assert Notification.objects.filter(event="survey.sent").count() == 2  # in-app and email, once
    with django_assert_num_queries(6):  # policy, savepoint, the claim (none), release, expiry, closing campaigns
        send_surveys()


def test_a_survey_waits_while_its_incident_is_reopened() -> None:
    policy(delay_minutes=0)
    crew = make_crew()
    survey = resolved(crew)
    incident_transition(survey.incident, "reopen", user=crew.engineer, comment="It failed again")
    assert services.send_due_surveys() == 0


# --- The answer page: no sign-in, once, until it expires ------------------------------------------------


def test_answer_page_works_without_signing_in_and_only_once(client) -> None:  # noqa: ANN001
    survey, token = sent_survey()
    page = client.get(answer_url(token))
    assert page.status_code == 200 and survey.incident.number in page.content.decode()
    response = client.post(answer_url(token), {"score": "5", "comment": "Quick and polite"})
    assert response.status_code == 302 and response.url == reverse("sla:survey-thanks")
    survey.refresh_from_db()
    assert (survey.state, survey.score, survey.comment) == (SurveyState.ANSWERED, 5, "Quick and polite")
    again = client.post(answer_url(token), {"score": "1", "comment": "changed my mind"})
    assert again.status_code == 409 and "already been answered" in again.content.decode()
    assert client.get(answer_url(token)).status_code == 409
    survey.refresh_from_db()
    assert survey.score == 5


def test_expired_link_is_410_and_changes_nothing(client) -> None:  # noqa: ANN001
    survey, token = sent_survey(valid_days=3)
    services.send_due_surveys(now=survey.expires_at)
    survey.refresh_from_db()
    assert survey.state == SurveyState.EXPIRED
    response = client.post(answer_url(token), {"score": "4"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).score is None


def test_link_past_its_expiry_is_410_before_the_sweep_marks_it(client, settings) -> None:  # noqa: ANN001
    survey, token = sent_survey()
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(answer_url(token)).status_code == 410


@pytest.mark.parametrize("forge", ["tampered", "other_salt", "unsent", "garbage"])
def test_forged_links_are_404(client, forge) -> None:  # noqa: ANN001
    survey, token = sent_survey()
    token = {
        "tampered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "other_salt": signing.dumps(survey.pk, salt=services.CAMPAIGN_SALT),
        "unsent": services.sign(resolved().pk, salt=services.SURVEY_SALT),
        "garbage": "not-a-token",
    }[forge]
    response = client.post(answer_url(token), {"score": "5"})
    assert response.status_code == 404 and "not valid" in response.content.decode()
    assert not Survey.objects.filter(state=SurveyState.ANSWERED).exists()


def test_answer_page_query_count(client, django_assert_num_queries) -> None:  # noqa: ANN001
    _survey, token = sent_survey()
    with django_assert_num_queries(2):  # the survey with its incident, the policy
        assert client.get(answer_url(token)).status_code == 200


def test_answer_page_in_traditional_chinese(client) -> None:  # noqa: ANN001
    _survey, token = sent_survey()
    page = client.get(answer_url(token), HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert page.status_code == 200 and 'lang="zh-Hant"' in page.content.decode()


# --- Low scores and follow-ups --------------------------------------------------------------------------


def test_a_low_score_needs_a_comment(client) -> None:  # noqa: ANN001
    survey, token = sent_survey(low_score=2)
    response = client.post(answer_url(token), {"score": "2"})
    assert response.status_code == 400 and 'id="comment-error"' in response.content.decode()
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT and not FollowUp.objects.exists()


def test_a_low_score_opens_a_follow_up_and_tells_the_supervisors(client) -> None:  # noqa: ANN001
    crew = make_crew()
    survey, token = sent_survey(crew)
    client.post(answer_url(token), {"score": "1", "comment": "Nobody called me back"})
    follow_up = FollowUp.objects.get(survey=survey)
    assert follow_up.state == FollowUpState.OPEN
    told = set(Notification.objects.filter(event="survey.low_score").values_list("recipient", flat=True))
    assert crew.supervisor.pk in told and crew.caller.pk not in told


def test_a_good_score_opens_no_follow_up() -> None:
    _survey, token = sent_survey(low_score=2)
    services.survey_answer(token=token, score=3)
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("score", ["0", "6", "", "4.5", "x"])
def test_scores_outside_one_to_five_are_refused(client, score) -> None:  # noqa: ANN001
    survey, token = sent_survey()
    assert client.post(answer_url(token), {"score": score, "comment": "c"}).status_code == 400
    assert Survey.objects.get(pk=survey.pk).state == SurveyState.SENT


def low_scored() -> tuple[Crew, FollowUp]:
    crew = make_crew()
    _survey, token = sent_survey(crew)
    services.survey_answer(token=token, score=1, comment="Slow")
    return crew, FollowUp.objects.get()


def test_supervisor_closes_a_follow_up_with_a_note(client) -> None:  # noqa: ANN001
    crew, follow_up = low_scored()
    client.force_login(crew.supervisor)
    url = reverse("sla:follow-up-close", args=[follow_up.pk])
    client.post(url, {"note": ""})
    assert FollowUp.objects.get().state == FollowUpState.OPEN
    client.post(url, {"note": "Called Ms Chen, apologised, explained the fix"})
    follow_up.refresh_from_db()
    assert (follow_up.state, follow_up.closed_by) == (FollowUpState.DONE, crew.supervisor)
    assert "Called Ms Chen" in client.get(reverse("sla:follow-up-list")).content.decode()


def test_only_supervisors_read_and_close_follow_ups(client) -> None:  # noqa: ANN001
    crew, follow_up = low_scored()
    for user in (crew.engineer, crew.caller):
        client.force_login(user)
        assert client.get(reverse("sla:follow-up-list")).status_code == 403
        assert client.post(reverse("sla:follow-up-close", args=[follow_up.pk]), {"note": "x"}).status_code == 404
    auditor = UserFactory(roles=[roles.AUDITOR])
    with pytest.raises(services.TransitionForbidden):
        services.follow_up_close(follow_up, user=auditor, note="x")
    assert FollowUp.objects.get().state == FollowUpState.OPEN


def test_follow_up_page_query_count_does_not_grow(client, django_assert_num_queries) -> None:  # noqa: ANN001
    crew, _follow_up = low_scored()
    client.force_login(crew.supervisor)
    client.get(reverse("sla:follow-up-list"))
    counts = []
    for _ in range(2):
        # the user (the session comes from the cache), permissions (2), the count, roles, unread notifications, the
        # page
        with django_assert_num_queries(7) as captured:
            assert client.get(reverse("sla:follow-up-list")).status_code == 200
        counts.append(len(captured))
        _c, token = sent_survey(make_crew(supervisor=crew.supervisor))
        services.survey_answer(token=token, score=1, comment="Again")
    assert counts[0] == counts[1]


# --- The API -------------------------------------------------------------------------------------------


def test_api_answers_by_token_without_authentication(api) -> None:  # noqa: ANN001
    survey, token = sent_survey()
    url = f"/api/v1/surveys/answer/{token}/"
    assert api.get(url).json()["incident_number"] == survey.incident.number
    assert_error(api.post(url, {"score": 2}, format="json"), 400, "invalid")
    assert api.post(url, {"score": 2, "comment": "Too slow"}, format="json").status_code == 204
    assert_error(api.post(url, {"score": 5}, format="json"), 409, "already_answered")
    assert_error(api.get(f"/api/v1/surveys/answer/{token}x/"), 404, "not_found")
    expired, expired_token = sent_survey()
    Survey.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    assert_error(api.post(f"/api/v1/surveys/answer/{expired_token}/", {"score": 5}, format="json"), 410,
                 "expired")


def two_departments() -> tuple[Crew, Crew]:
    policy(delay_minutes=0)
    ours, theirs = make_crew(), make_crew()
    for crew in (ours, theirs):
        resolved(crew)
    services.send_due_surveys()
    return ours, theirs


def test_department_users_see_only_their_departments_surveys(api_as) -> None:  # noqa: ANN001
    ours, theirs = two_departments()
    client = api_as(ours.caller)
    rows = client.get("/api/v1/surveys/").json()["results"]
    assert [row["department"] for row in rows] == [ours.department.pk]
    other = Survey.objects.get(department=theirs.department)
    assert client.get(f"/api/v1/surveys/{other.pk}/").status_code == 404
    assert api_as(ours.supervisor).get("/api/v1/surveys/").json()["count"] == 2
    assert api_as(ours.engineer).get("/api/v1/surveys/").status_code == 403


def test_scores_of_a_department_user_are_their_departments_whatever_they_ask(api_as) -> None:  # noqa: ANN001
    ours, theirs = two_departments()
    for survey, score in zip(Survey.objects.order_by("pk"), (4, 2), strict=True):
        services.survey_answer(token=services.sign(survey.pk, salt=services.SURVEY_SALT), score=score, comment="c")
    start, end = (timezone.now() - timedelta(days=1)).isoformat(), (timezone.now() + timedelta(days=1)).isoformat()
    query = {"start": start, "end": end, "department": theirs.department.pk}
    mine = api_as(ours.caller).get("/api/v1/surveys/scores/", query).json()
    assert mine["count"] == 1 and [row["name"] for row in mine["by_department"]] == [ours.department.name]
    everyone = api_as(ours.supervisor).get("/api/v1/surveys/scores/", {"start": start, "end": end}).json()
    assert everyone["count"] == 2 and everyone["average"] == 3.0
    assert len(everyone["by_team"]) == 2


def test_survey_list_page_shows_a_department_its_own(client) -> None:  # noqa: ANN001
    ours, theirs = two_departments()
    client.force_login(ours.caller)
    page = client.get(reverse("sla:survey-list")).content.decode()
    own, other = (Survey.objects.get(department=c.department).incident.number for c in (ours, theirs))
    assert own in page and other not in page


def test_api_survey_list_query_count_does_not_grow(api_as, django_assert_num_queries) -> None:  # noqa: ANN001
    ours, _theirs = two_departments()
    client = api_as(ours.supervisor)
    for _ in range(2):
        with django_assert_num_queries(5):  # token with its user, permissions (2), the count, the page
            assert client.get("/api/v1/surveys/").status_code == 200
        resolved(make_crew(supervisor=ours.supervisor))


def test_api_follow_up_close(api_as) -> None:  # noqa: ANN001
    crew, follow_up = low_scored()
    url = f"/api/v1/surveys/follow-ups/{follow_up.pk}/close/"
    assert_error(api_as(crew.caller).post(url, {"note": "x"}), 403)
    assert_error(api_as(crew.supervisor).post(url, {}), 400, "invalid")
    assert api_as(crew.supervisor).post(url, {"note": "Called back"}).json()["state"] == FollowUpState.DONE
    assert_error(api_as(crew.supervisor).post(url, {"note": "Again"}), 409)


def test_a_used_link_says_so_before_judging_the_answer() -> None:
    _survey, token = sent_survey()
    services.survey_answer(token=token, score=5)
    with pytest.raises(services.AlreadyAnswered):
        services.survey_answer(token=token, score=1)  # low and without a comment: still 409, not 400


# --- In the browser ---------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_reporter_answers_on_a_phone_without_signing_in(browser_page) -> None:  # noqa: ANN001
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    crew = make_crew()
    survey, token = sent_survey(crew, low_score=2)
    page.goto(page.base_url + answer_url(token))
    assert page.locator("#nav-user").count() == 0  # nobody signed in
    page.click('label[for="score-2"]')
    with page.expect_navigation():
        page.click("#survey-submit")
    assert "required" in page.locator("#comment-error").inner_text()
    page.click('label[for="score-2"]')
    page.fill("#id_comment", "The engineer never called back")
    with page.expect_navigation():
        page.click("#survey-submit")
    assert page.locator("#survey-thanks").is_visible()
    assert FollowUp.objects.get().survey_id == survey.pk
    page.goto(page.base_url + answer_url(token))
    assert page.locator("#link-status").get_attribute("data-code") == "already_answered"


# --- Racing on PostgreSQL ---------------------------------------------------------------------------------


def race(attempt, count: int) -> list[str]:  # noqa: ANN001
    """`count` threads run `attempt` at the same moment; each outcome is "ok", a number, or the error code."""
    import threading

    from django.db import connections

    barrier, outcomes = threading.Barrier(count), []

    def run() -> None:
        barrier.wait()
        try:
            result = attempt()
            outcomes.append("ok" if result is None else str(result))
        except services.OpsCenterError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == count, outcomes
    return outcomes


def pending_surveys(count: int) -> list[Survey]:
    """Surveys of resolved incidents due now, written as rows (no timeline needed)."""
    from incidents.tests.factories import incident_row

    crew = make_crew()
    return [Survey.objects.create(incident=incident_row(State.RESOLVED, crew=crew), respondent=crew.caller,
                                  department=crew.department, send_after=timezone.now() - timedelta(minutes=1))
            for _ in range(count)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_survey_once(policy_defaults) -> None:  # noqa: ANN001
    from opscenter.core.tests.real_services import require_postgres

    require_postgres()
    pending_surveys(30)
    sent = race(lambda: services.send_due_surveys(), 4)
    assert sum(int(n) for n in sent) == 30
    assert Notification.objects.filter(event="survey.sent", channel="email").count() == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_record_one(policy_defaults) -> None:  # noqa: ANN001
    from opscenter.core.tests.real_services import require_postgres

    require_postgres()
    policy(low_score=2)
    survey = pending_surveys(1)[0]
    services.send_due_surveys()
    token = services.sign(survey.pk, salt=services.SURVEY_SALT)
    outcomes = race(lambda: services.survey_answer(token=token, score=1, comment="Slow") and None, 10)
    assert sorted(outcomes) == ["already_answered"] * 9 + ["ok"]
    assert FollowUp.objects.filter(survey=survey).count() == 1
