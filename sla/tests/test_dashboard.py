"""Service level pages: a department user's dashboard of their own department, supervisors' departments side
by side, the evaluation page with explain forms and publication, the CSV and the printable report; another
department's numbers appear nowhere; pinned query counts."""

import pytest
from django.urls import reverse

from opscenter.core import roles
from opscenter.core.navigation import nav_for, panels_for
from sla import panels
from sla.choices import ClockKind, EvaluationState, SurveyState
from sla.evaluations import evaluation_prepare, evaluation_publish
from sla.models import Breach, Evaluation, Survey
from sla.tests.factories import at
from sla.tests.figures import APRIL, april, breach_of, explain_all, incident, stopped_clock, two_departments

pytestmark = pytest.mark.django_db
MONTH = "2026-04"


@pytest.fixture
def two() -> tuple:
    return two_departments()


def published(month, supervisor):  # noqa: ANN001, ANN201
    explain_all(month, supervisor)
    evaluation = evaluation_prepare(department=month.department, month=APRIL, user=supervisor)
    return evaluation_publish(evaluation=evaluation, user=supervisor, summary="Finance April summary")


def page(client, user, name: str, *args, query: str = ""):  # noqa: ANN001, ANN002, ANN201
    client.force_login(user)
    return client.get(reverse(name, args=args) + query)


def test_a_department_user_reads_their_own_dashboard(client, two) -> None:  # noqa: ANN001
    finance, logistics = two
    response = page(client, finance.department_user, "sla:home", query=f"?month={MONTH}")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Finance" in text and "99.884%" in text and "60.0%" in text
    assert "Logistics" not in text and "Warehouse scanning" not in text
    assert 'id="trend-table"' in text and "vendor/echarts/echarts.min.js" in text and "js/sla-charts.js" in text


def test_the_dashboard_shows_the_month_satisfaction_of_the_department_only(client, two) -> None:  # noqa: ANN001
    finance, logistics = two
    for month, score, when in ((finance, 4, "2026-04-10 10:00"), (finance, 2, "2026-04-12 10:00"),
                               (logistics, 1, "2026-04-11 10:00"), (finance, 5, "2026-05-02 10:00")):
        survey_answered(month, score=score, when=when)
    text = page(client, finance.department_user, "sla:department-dashboard", finance.department.pk,
                query=f"?month={MONTH}").content.decode()
    block = text.split('id="dashboard-satisfaction"', 1)[1].split("</table>", 2)
    assert "3.0 / 5 from 2 answers" in block[0]
    assert "1.0" not in "".join(block) and logistics.service.name not in text


def survey_answered(month, *, score: int, when: str) -> Survey:  # noqa: ANN001
    incident_ = incident(month.department, "2026-04-01 09:00", responded=5, resolved=30, service=month.service)
    return Survey.objects.create(incident=incident_, respondent=month.department_user, department=month.department,
                                 service=month.service, state=SurveyState.ANSWERED, send_after=at(when),
                                 answered_at=at(when), score=score)


def test_another_departments_pages_are_404_for_a_department_user(client, two, supervisor) -> None:  # noqa: ANN001
    finance, logistics = two
    published(logistics, supervisor)
    client.force_login(finance.department_user)
    for name, args in (("sla:department-dashboard", [logistics.department.pk]),
                       ("sla:evaluation-detail", [logistics.department.pk, MONTH]),
                       ("sla:evaluation-csv", [logistics.department.pk, MONTH]),
                       ("sla:evaluation-print", [logistics.department.pk, MONTH])):
        assert client.get(reverse(name, args=args)).status_code == 404, name
    listing = client.get(reverse("sla:evaluation-list")).content.decode()
    assert "Logistics" not in listing


def test_a_department_user_reads_only_published_evaluations(client, two, supervisor) -> None:  # noqa: ANN001
    finance, _logistics = two
    url = reverse("sla:evaluation-detail", args=[finance.department.pk, MONTH])
    client.force_login(finance.department_user)
    assert client.get(url).status_code == 404  # nothing published yet
    evaluation_prepare(department=finance.department, month=APRIL, user=supervisor)
    assert client.get(url).status_code == 404  # a draft is not for the department
    Evaluation.objects.all().delete()
    published(finance, supervisor)
    response = client.get(url)
    text = response.content.decode()
    assert response.status_code == 200 and "Database failover took longer than planned." in text
    assert "Finance April summary" in text and 'id="explain-' not in text and 'id="publish-form"' not in text
    assert "Finance April summary" in client.get(reverse("sla:home")).content.decode()


def test_supervisors_see_all_departments_side_by_side(client, two, supervisor) -> None:  # noqa: ANN001
    response = page(client, supervisor, "sla:home", query=f"?month={MONTH}")
    text = response.content.decode()
    assert response.status_code == 200 and "Finance" in text and "Logistics" in text
    assert 'id="overview-table"' in text


def test_a_bad_month_is_400_and_shows_this_month(client, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    assert page(client, finance.department_user, "sla:home", query="?month=2026-13").status_code == 400
    assert page(client, finance.department_user, "sla:home", query="?month=9999-01").status_code == 400
    assert page(client, finance.department_user, "sla:evaluation-detail", finance.department.pk,
                "20xx").status_code == 404


def test_publish_on_the_page_is_refused_while_a_breach_is_unexplained(client, two, supervisor) -> None:  # noqa: ANN001
    finance, _logistics = two
    client.force_login(supervisor)
    url = reverse("sla:evaluation-publish", args=[finance.department.pk, MONTH])
    response = client.post(url, {"summary": "x"})
    assert response.status_code == 409
    assert "Every breach needs an explanation" in response.content.decode()
    assert not Evaluation.objects.filter(state=EvaluationState.PUBLISHED).exists()


def test_explain_on_the_page_then_publish(client, two, supervisor) -> None:  # noqa: ANN001
    finance, _logistics = two
    client.force_login(supervisor)
    detail = reverse("sla:evaluation-detail", args=[finance.department.pk, MONTH])
    text = client.get(detail).content.decode()
    assert 'id="publish-form"' in text and text.count('id="explain-') == 2
    # Nobody prepared April: publishing records the service's availability below target and refuses it.
    refused = client.post(reverse("sla:evaluation-publish", args=[finance.department.pk, MONTH]), {"summary": "x"})
    assert refused.status_code == 409 and refused.content.decode().count('id="explain-') == 3
    for breach in Breach.objects.filter(department=finance.department):
        prefix = f"b{breach.pk}"
        bad = client.post(reverse("sla:breach-explain", args=[breach.pk]), {f"{prefix}-explanation": "Slow."})
        assert bad.status_code == 400
        breach.refresh_from_db()
        assert not breach.explanation
        done = client.post(reverse("sla:breach-explain", args=[breach.pk]), {
            f"{prefix}-explanation": "Slow failover.", f"{prefix}-corrective_action": "Rehearse.",
            f"{prefix}-action_owner": finance.engineer.pk, f"{prefix}-action_due": "2026-05-20"})
        assert done.status_code == 302
    response = client.post(reverse("sla:evaluation-publish", args=[finance.department.pk, MONTH]),
                           {"summary": "Published on the page."})
    assert response.status_code == 302
    assert Evaluation.objects.get(department=finance.department).state == EvaluationState.PUBLISHED
    assert "These figures no longer change." in client.get(detail).content.decode()


@pytest.mark.parametrize("role", [roles.SYSTEM_ENGINEER, roles.AUDITOR])
def test_only_supervisors_publish_on_the_page(client, two, make_user, role: str) -> None:  # noqa: ANN001
    finance, _logistics = two
    user = make_user(role)
    client.force_login(user)
    response = client.post(reverse("sla:evaluation-publish", args=[finance.department.pk, MONTH]))
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_a_department_user_cannot_explain(client, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    breach = Breach.objects.filter(department=finance.department).first()
    client.force_login(finance.department_user)
    prefix = f"b{breach.pk}"
    response = client.post(reverse("sla:breach-explain", args=[breach.pk]), {
        f"{prefix}-explanation": "x", f"{prefix}-corrective_action": "y",
        f"{prefix}-action_owner": finance.engineer.pk, f"{prefix}-action_due": "2026-05-20"})
    assert response.status_code in (403, 404)
    breach.refresh_from_db()
    assert not breach.explanation


def test_the_csv_and_the_printable_report(client, two, supervisor) -> None:  # noqa: ANN001
    finance, _logistics = two
    published(finance, supervisor)
    client.force_login(finance.department_user)
    csv = client.get(reverse("sla:evaluation-csv", args=[finance.department.pk, MONTH]))
    body = csv.content.decode("utf-8-sig")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "availability," in body and "99.884" in body and "Rehearse the failover." in body
    assert "Logistics" not in body and "Warehouse scanning" not in body
    printable = client.get(reverse("sla:evaluation-print", args=[finance.department.pk, MONTH])).content.decode()
    assert "@media print" in printable and "99.884%" in printable and "Logistics" not in printable


def test_the_page_in_traditional_chinese(client, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    client.force_login(finance.department_user)
    response = client.get(reverse("sla:home"), HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert response.status_code == 200 and 'lang="zh-Hant"' in response.content.decode()


def test_nav_item_and_home_panels(client, two, supervisor) -> None:  # noqa: ANN001
    finance, _logistics = two
    panels.register()
    assert any(i.url_name == "sla:home" for i in nav_for(finance.department_user))
    assert "sla-department" in [p.key for p in panels_for(finance.department_user)]
    assert "sla-to-publish" in [p.key for p in panels_for(supervisor)]
    client.force_login(supervisor)
    assert client.get(reverse("home")).status_code == 200
    client.force_login(finance.department_user)
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("extra", [0, 4])
def test_query_counts_do_not_grow_with_rows(client, supervisor, django_assert_num_queries, extra: int) -> None:  # noqa: ANN001
    finance = april("Finance")
    for n in range(extra):
        april(f"Department {n}")
        late = incident(finance.department, f"2026-04-{10 + n:02d} 09:00", responded=90, priority="P2")
        breach_of(stopped_clock(late, ClockKind.RESPONSE, priority="P2", elapsed_minutes=90, target_minutes=30,
                                stopped=f"2026-04-{10 + n:02d} 10:30"), f"2026-04-{10 + n:02d} 09:30")
    explain_all(finance, supervisor)
    Breach.objects.filter(department=finance.department).update(explanation="")  # forms on every row
    client.force_login(supervisor)
    overview = reverse("sla:home") + f"?month={MONTH}"
    dashboard = reverse("sla:department-dashboard", args=[finance.department.pk]) + f"?month={MONTH}"
    detail = reverse("sla:evaluation-detail", args=[finance.department.pk, MONTH])
    client.get(overview)  # warm the session and the role caches
    with django_assert_num_queries(14):  # with the unread count
        assert client.get(overview).status_code == 200
    with django_assert_num_queries(20):  # 15, the published months, the month's satisfaction (overall, by 3)
        assert client.get(dashboard).status_code == 200
    with django_assert_num_queries(17):
        assert client.get(detail).status_code == 200


def test_the_service_levels_entry_stays_highlighted_on_its_sub_pages(client, two, supervisor) -> None:  # noqa: ANN001
    import re

    text = page(client, supervisor, "sla:evaluation-list").content.decode()
    active = re.findall(r'<li class="nav-item active">\s*<a class="nav-link" href="([^"]+)"', text)
    assert active == [reverse("sla:home")]
    text = page(client, supervisor, "incidents:incident-list").content.decode()
    assert reverse("sla:home") not in re.findall(r'<li class="nav-item active">\s*<a class="nav-link" href="([^"]+)"',
                                                 text)
