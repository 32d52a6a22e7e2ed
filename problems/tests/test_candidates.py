"""Problem candidates through the API and the pages: list and detail with the incidents, accept and dismiss by role
and by state (403, 409, 400), department users kept out, pinned query counts."""

import pytest

from conftest import assert_error
from incidents.tests.factories import IncidentFactory, category
from opscenter.core import roles
from opscenter.core.testing.pages import html, page_queries, signed_in
from opscenter.core.tests.factories import ServiceFactory, UserFactory
from problems.candidates import candidate_dismiss
from problems.choices import CandidateState, State
from problems.models import Candidate, Problem
from problems.recurrence import candidates_propose
from problems.tests.factories import problem_in_state

pytestmark = pytest.mark.django_db

API = "/api/v1/problem-candidates/"
PAGE = "/problems/candidates/"


def propose(n: int = 3, title: str = "ERP 登入逾時") -> Candidate:
    service, cat = ServiceFactory(), category()
    for _ in range(n):
        IncidentFactory(service=service, category=cat, title=title)
    (made,) = candidates_propose()
    return made


@pytest.fixture
def candidate(db) -> Candidate:  # noqa: ANN001
    return propose()


# --- API -----------------------------------------------------------------------------------------------------


def test_the_list_and_detail_show_the_incidents(api_as, crew, candidate) -> None:  # noqa: ANN001
    client = api_as(crew.engineer)
    body = client.get(API).json()
    (row,) = body["results"]
    assert row["state"] == CandidateState.PROPOSED and len(row["incidents"]) == 3
    assert row["incidents"][0]["title"] == "ERP 登入逾時"
    assert row["available_transitions"] == []  # an engineer reads, does not decide
    detail = client.get(f"{API}{candidate.pk}/").json()
    assert detail["service"]["id"] == candidate.service_id and detail["problem"] is None
    assert api_as(crew.manager).get(f"{API}{candidate.pk}/").json()["available_transitions"] == ["accept", "dismiss"]


def test_the_list_filters_by_state(api_as, crew, candidate) -> None:  # noqa: ANN001
    client = api_as(crew.manager)
    assert client.get(API, {"state": "dismissed"}).json()["results"] == []
    assert len(client.get(API, {"state": "proposed"}).json()["results"]) == 1
    assert_error(client.get(API, {"state": "nonsense"}), 400, "invalid")


@pytest.mark.parametrize("who", ["manager", "supervisor"])
def test_accept_makes_the_problem(api_as, crew, candidate, who) -> None:  # noqa: ANN001
    response = api_as(getattr(crew, who)).post(f"{API}{candidate.pk}/transitions/accept/",
                                               {"title": "ERP login timeouts recur"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == CandidateState.ACCEPTED
    problem = Problem.objects.get(pk=body["problem"]["id"])
    assert problem.title == "ERP login timeouts recur" and problem.incidents.count() == 3


def test_dismiss_needs_the_reason(api_as, crew, candidate) -> None:  # noqa: ANN001
    client = api_as(crew.manager)
    assert_error(client.post(f"{API}{candidate.pk}/transitions/dismiss/", {}, format="json"), 400, "invalid")
    response = client.post(f"{API}{candidate.pk}/transitions/dismiss/", {"comment": "Planned maintenance."},
                           format="json")
    assert response.status_code == 200 and response.json()["state"] == CandidateState.DISMISSED


@pytest.mark.parametrize("who", ["engineer", "duty", "auditor"])
@pytest.mark.parametrize("name", ["accept", "dismiss"])
def test_others_are_refused_by_role(api_as, crew, candidate, who, name) -> None:  # noqa: ANN001
    user = UserFactory(roles=[roles.AUDITOR]) if who == "auditor" else getattr(crew, who)
    response = api_as(user).post(f"{API}{candidate.pk}/transitions/{name}/", {"comment": "why"}, format="json")
    assert response.status_code in (403, 404)
    assert_error(response, response.status_code)
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.PROPOSED


@pytest.mark.parametrize("name", ["accept", "dismiss"])
def test_a_decided_candidate_is_refused_by_state(api_as, crew, candidate, name) -> None:  # noqa: ANN001
    candidate_dismiss(candidate, user=crew.manager, reason="Maintenance.")
    response = api_as(crew.supervisor).post(f"{API}{candidate.pk}/transitions/{name}/", {"comment": "again"},
                                            format="json")
    assert_error(response, 409, "invalid_state")


def test_accepting_incidents_linked_meanwhile_is_a_failed_condition(api_as, crew, candidate) -> None:  # noqa: ANN001
    problem_in_state(State.IDENTIFIED, crew, incidents=list(candidate.incidents.all()))
    response = api_as(crew.manager).post(f"{API}{candidate.pk}/transitions/accept/", {}, format="json")
    assert_error(response, 409, "condition_failed")
    assert not Candidate.objects.filter(state=CandidateState.ACCEPTED).exists()


def test_department_users_are_kept_out(api_as, client, candidate) -> None:  # noqa: ANN001
    user = UserFactory(roles=[roles.DEPARTMENT_USER])
    api = api_as(user)
    assert_error(api.get(API), 403)
    assert_error(api.get(f"{API}{candidate.pk}/"), 403)
    assert_error(api.post(f"{API}{candidate.pk}/transitions/accept/", {}, format="json"), 403)
    pages = signed_in(user)
    assert pages.get(PAGE).status_code == 403
    assert pages.get(f"{PAGE}{candidate.pk}/").status_code == 404


def test_an_unknown_candidate_is_not_found(api_as, crew) -> None:  # noqa: ANN001
    assert_error(api_as(crew.manager).get(f"{API}999999/"), 404)


def test_api_list_query_count_does_not_grow(api_as, crew, candidate, django_assert_num_queries) -> None:  # noqa: ANN001
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(crew.manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(API).status_code == 200
        return len(ctx)

    few = count()
    propose(5)
    propose(4)
    assert count() == few
    with django_assert_num_queries(API_LIST_QUERIES):
        client.get(API)


# The token and its user, the user's permissions (own and by group: 2), their roles, the page count, the rows (joined
# with service, CI, category, problem and who decided, their incidents counted), the first links of each row ranked,
# the user's team kinds (for security incidents) and the incidents the user may see among them.
API_LIST_QUERIES = 9


# --- pages ---------------------------------------------------------------------------------------------------


def test_the_candidates_tab_and_page(crew, candidate) -> None:  # noqa: ANN001
    client = signed_in(crew.manager)
    assert f'href="{PAGE}"' in html(client.get("/problems/"))
    page = html(client.get(PAGE))
    assert 'id="candidate-table"' in page and "ERP 登入逾時" in page
    detail = html(client.get(f"{PAGE}{candidate.pk}/"))
    assert 'id="accept-form"' in detail and 'id="dismiss-form"' in detail
    assert all(i.number in detail for i in candidate.incidents.all())


def test_an_engineer_reads_without_the_buttons(crew, candidate) -> None:  # noqa: ANN001
    detail = html(signed_in(crew.engineer).get(f"{PAGE}{candidate.pk}/"))
    assert 'id="accept-form"' not in detail and "ERP 登入逾時" in detail


def test_accept_and_dismiss_on_the_page(crew) -> None:  # noqa: ANN001
    first, second = propose(), propose()
    client = signed_in(crew.manager)
    response = client.post(f"{PAGE}{first.pk}/accept/", {"title": ""})
    first.refresh_from_db()
    assert first.state == CandidateState.ACCEPTED and response.status_code == 302
    assert response["Location"] == f"/problems/{first.problem_id}/"
    assert client.post(f"{PAGE}{second.pk}/dismiss/", {"reason": ""}).status_code == 400
    second.refresh_from_db()
    assert second.state == CandidateState.PROPOSED
    assert client.post(f"{PAGE}{second.pk}/dismiss/", {"reason": "Maintenance."}).status_code == 302
    second.refresh_from_db()
    assert second.state == CandidateState.DISMISSED


def test_an_engineer_may_not_decide_on_the_page(crew, candidate) -> None:  # noqa: ANN001
    assert signed_in(crew.engineer).post(f"{PAGE}{candidate.pk}/accept/", {}).status_code == 403
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.PROPOSED


def test_page_query_counts_do_not_grow(crew, candidate, django_assert_num_queries) -> None:  # noqa: ANN001
    client = signed_in(crew.manager)
    client.get(PAGE)
    few, one = page_queries(client, PAGE), page_queries(client, f"{PAGE}{candidate.pk}/")
    propose(5)
    propose(4)
    assert page_queries(client, PAGE) == few
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(PAGE)
    assert one == DETAIL_QUERIES


# The user (the session from the cache), their roles, the unread count, the page count, the rows (their incidents
# counted), the first links of each row ranked, the incidents the user may see among them (their team kinds, the
# incidents).
PAGE_QUERIES = 8
# The same for one candidate, with its transitions' log (who dismissed and why).
DETAIL_QUERIES = 7


# --- admin ---------------------------------------------------------------------------------------------------


def test_the_admin_shows_a_candidate_and_decides_through_the_service(crew, candidate) -> None:  # noqa: ANN001
    from django.test import Client
    from django.urls import reverse

    crew.manager.is_staff = True
    crew.manager.save()
    client = Client()
    client.force_login(crew.manager)
    page = client.get(reverse("admin:problems_candidate_change", args=[candidate.pk]))
    assert page.status_code == 200 and b"candidate-timeline" in page.content
    url = reverse("admin:problems_candidate_transition", args=[candidate.pk, "dismiss"])
    client.post(url, {"comment": ""})
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.PROPOSED
    client.post(url, {"comment": "Planned maintenance."})
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.DISMISSED
    assert client.get(reverse("admin:problems_candidate_add")).status_code == 403


def test_a_list_row_names_the_first_incidents_and_counts_them_all(api_as, crew) -> None:  # noqa: ANN001
    big = propose(8)
    row = api_as(crew.manager).get(API).json()["results"][0]
    assert row["incident_count"] == 8 and len(row["incidents"]) == 5
    assert len(api_as(crew.manager).get(f"{API}{big.pk}/").json()["incidents"]) == 8
    page = html(signed_in(crew.manager).get(PAGE))
    assert "8 incidents" in page


def test_the_demo_proposes_a_candidate_with_chinese_incident_titles() -> None:
    import io

    from incidents import demo as incident_demo
    from opscenter.core.demo import seed_organisation
    from problems import demo

    seed_organisation("pw")
    out = io.StringIO()
    incident_demo.seed(stdout=out)
    demo.seed(stdout=out)
    titles = {t for c in Candidate.objects.filter(state=CandidateState.PROPOSED)
              for t in c.incidents.values_list("title", flat=True)}
    assert {"財務部印表機佇列卡住，無法列印憑證", "財務部印表機再次卡單，列印工作全部停住"} <= titles


def test_a_candidate_of_security_incidents_is_hidden_from_who_may_not_see_them(api_as, crew) -> None:  # noqa: ANN001
    service = ServiceFactory()
    for _ in range(3):
        IncidentFactory(service=service, category=category("security"), title="異常登入")
    (hidden,) = candidates_propose()
    assert_error(api_as(crew.manager).get(f"{API}{hidden.pk}/"), 404)
    assert api_as(crew.manager).get(API).json()["results"] == []
    assert signed_in(crew.manager).get(f"{PAGE}{hidden.pk}/").status_code == 404
    assert api_as(crew.supervisor).get(f"{API}{hidden.pk}/").json()["incident_count"] == 3


def test_the_problem_managers_home_lists_the_candidates_waiting(crew, candidate) -> None:  # noqa: ANN001
    """Proposed ones only, with how many incidents each holds; not on an engineer's home page."""
    dismissed = propose(title="印表機卡紙")
    candidate_dismiss(dismissed, user=crew.manager, reason="Each jam had its own cause.")
    home = html(signed_in(crew.manager).get("/"))
    panel = home.split('id="panel-problems-candidates"', 1)[1].split('class="card-footer"', 1)[0]
    assert f"/problems/candidates/{candidate.pk}/" in panel and "3 incidents" in panel
    assert f"/problems/candidates/{dismissed.pk}/" not in panel
    assert 'id="panel-problems-candidates"' not in html(signed_in(crew.engineer).get("/"))
