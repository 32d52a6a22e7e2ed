"""Service level pages: a department user's dashboard of their own department, supervisors' departments side
by side, the evaluation page with explain forms and publication, the CSV and the printable report; another
department's numbers appear nowhere; pinned query counts."""

import re

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
    # MTTA and MTTR are spelled out where the page first names them: the table's headers.
    table = text.split('id="overview-table"', 1)[1]
    assert table.index("Mean time to acknowledge (MTTA)") < table.index("Mean time to resolve (MTTR)")


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
    with django_assert_num_queries(15):  # with the unread count and the satisfaction per department
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


# --- In the department's language ---------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "text"), [
    ({"target_minutes": 960, "target_round_the_clock": False, "target_day_minutes": 480}, "2 business days"),
    ({"target_minutes": 480, "target_round_the_clock": False, "target_day_minutes": 480}, "1 business day"),
    ({"target_minutes": 240, "target_round_the_clock": False, "target_day_minutes": 480}, "4 business hours"),
    ({"target_minutes": 60, "target_round_the_clock": False, "target_day_minutes": 480}, "1 business hour"),
    ({"target_minutes": 90, "target_round_the_clock": False, "target_day_minutes": 480}, "1.5 business hours"),
    ({"target_minutes": 30, "target_round_the_clock": False, "target_day_minutes": 480}, "30 business minutes"),
    ({"target_minutes": 240, "target_round_the_clock": True, "target_day_minutes": None}, "4 h"),
    ({"target_minutes": 15, "target_round_the_clock": True, "target_day_minutes": None}, "15 min"),
    ({"target_minutes": 2880, "target_round_the_clock": True, "target_day_minutes": None}, "2 days"),
    ({"target_minutes": 960}, "16 h"),  # a month published before the targets said how they count
    ({"target_minutes": None}, ""),
])
def test_targets_read_in_hours_and_days(row: dict, text: str) -> None:
    from sla.views import target_text

    assert target_text(row) == text


def test_a_department_user_reads_targets_in_business_days_and_met_or_missed(client, two) -> None:  # noqa: ANN001
    from sla.tests.factories import office_calendar

    finance, _logistics = two
    finance.agreement.calendar = office_calendar("Office 09–17", hours=[(9, 17)])
    finance.agreement.save()
    text = page(client, finance.department_user, "sla:home", query=f"?month={MONTH}").content.decode()
    table = text.split('id="compliance-table"', 1)[1].split("</table>", 1)[0]
    assert "1 business day" in table and "30 business minutes" in table
    assert "business min<" not in text and "clocks stopped" not in text
    assert ">Met<" in table and ">Missed<" in table
    assert "3 of 5 targets met" in text


def test_the_availability_chart_carries_each_services_target(client, two) -> None:  # noqa: ANN001
    import json
    import re

    finance, _logistics = two
    text = page(client, finance.department_user, "sla:home", query=f"?month={MONTH}").content.decode()
    data = json.loads(re.search(r'id="sla-trend-data" type="application/json">(.*?)</script>', text).group(1))
    assert [(s["name"], s["target"]) for s in data["availability"]] == [(finance.service.name, 99.9)]
    assert data["labels"]["target"] == "Target"
    assert data["labels"]["minutes"] == "minutes"  # the unit of the MTTA and MTTR chart's axis, translated
    assert "99.900%" in text.split('id="trend-availability-table"', 1)[1]


def test_one_answer_is_one_answer(client, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    survey_answered(finance, score=4, when="2026-04-10 10:00")
    text = page(client, finance.department_user, "sla:home", query=f"?month={MONTH}").content.decode()
    assert "4.0 / 5 from 1 answer<" in text and "1 answers" not in text


def test_team_clocks_are_not_shown_to_the_department(client, two, supervisor) -> None:  # noqa: ANN001
    from opscenter.core.tests.factories import TeamFactory
    from sla.apps import incident_clocks_section
    from sla.models import Clock

    finance, _logistics = two
    late = Breach.objects.filter(department=finance.department).first().incident
    Clock.objects.create(incident=late, kind=ClockKind.OLA, team=TeamFactory(), department=finance.department,
                         started_at=late.created_at, target_seconds=3600)
    kinds = {c["clock"].kind for c in incident_clocks_section(late, finance.department_user)["clocks"]}
    assert kinds == {"response", "resolution"}
    assert ClockKind.OLA in {c["clock"].kind for c in incident_clocks_section(late, supervisor)["clocks"]}
    client.force_login(finance.department_user)
    api = client.get(f"/api/v1/sla/incidents/{late.pk}/clocks/")
    assert api.status_code == 200 and {c["kind"] for c in api.json()} == {"response", "resolution"}
    client.force_login(supervisor)
    assert "ola" in {c["kind"] for c in client.get(f"/api/v1/sla/incidents/{late.pk}/clocks/").json()}


def test_the_breached_at_column_is_local_time(client, two, supervisor) -> None:  # noqa: ANN001
    finance, _logistics = two
    text = page(client, supervisor, "sla:evaluation-detail", finance.department.pk, MONTH).content.decode()
    table = text.split('id="breach-table"', 1)[1].split("</table>", 1)[0]
    # Recorded at 09:30 in Asia/Shanghai (01:30 UTC): shown as the pages show every time.
    assert "2026-04-07 09:30" in table and "2026-04-0701:30" not in table and "2026-04-07 01:30" not in table
    explain_all(finance, supervisor)
    published(finance, supervisor)
    text = page(client, finance.department_user, "sla:evaluation-detail", finance.department.pk,
                MONTH).content.decode()
    table = text.split('id="breach-table"', 1)[1].split("</table>", 1)[0]
    assert "2026-04-07 09:30" in table and "2026-04-07 17:00" in table
    assert finance.service.name in table and "Availability" in table
    # The owner's name and the due date read whole (a name never breaks inside: "林系" over "統").
    assert f'<td class="text-nowrap breach-owner">{supervisor}</td>' in table and "2026-05-15" in table


# --- Surveys waiting for a department user ------------------------------------------------------------------


def survey_sent(month, *, expires: str = "2099-01-01 00:00") -> Survey:  # noqa: ANN001
    incident_ = incident(month.department, "2026-04-01 09:00", responded=5, resolved=30, service=month.service,
                         title="Printer on the third floor")
    return Survey.objects.create(incident=incident_, respondent=month.department_user, department=month.department,
                                 service=month.service, state=SurveyState.SENT, send_after=at("2026-04-02 09:00"),
                                 sent_at=at("2026-04-02 09:00"), expires_at=at(expires))


def test_a_waiting_survey_is_on_the_home_page_and_counted_in_the_navigation(client, two) -> None:  # noqa: ANN001
    from sla.surveys.services import survey_from_token, survey_link

    finance, logistics = two
    panels.register()
    survey = survey_sent(finance)
    survey_sent(finance, expires="2020-01-01 00:00")  # expired: not waiting
    text = page(client, finance.department_user, "home").content.decode()
    panel = text.split('id="panel-sla-surveys"', 1)[1].split("</table>", 1)[0]
    # The link is signed with the time it was made: the page's and this one may be a second apart.
    link = re.search(r'href="(/surveys/answer/[^"/]+/)"', panel)
    assert link and survey_from_token(link.group(1).split("/")[-2]) == survey
    assert survey_link(survey).split(":")[0] == link.group(1).split(":")[0] and "Printer on the third floor" in panel
    assert 'title="Surveys waiting for your answer">1</span>' in text
    # Nobody else's count, and nothing when it is answered.
    other = page(client, logistics.department_user, "home").content.decode()
    assert "nav-count" not in other and "No survey is waiting for your answer." in other
    Survey.objects.filter(pk=survey.pk).update(state=SurveyState.ANSWERED, score=5)
    text = page(client, finance.department_user, "sla:survey-list").content.decode()
    assert "nav-count" not in text and "No survey is waiting for your answer." in text


def test_the_survey_list_lists_what_waits_for_the_department_user(client, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    survey_sent(finance)
    text = page(client, finance.department_user, "sla:survey-list").content.decode()
    assert "Printer on the third floor" in text.split('id="surveys-waiting-card"', 1)[1].split("</table>", 1)[0]


def test_supervisors_compare_satisfaction_side_by_side(client, two, supervisor) -> None:  # noqa: ANN001
    finance, logistics = two
    for month, score, when in ((finance, 4, "2026-04-10 10:00"), (finance, 2, "2026-04-12 10:00"),
                               (logistics, 5, "2026-04-11 10:00"), (logistics, 1, "2026-05-02 10:00")):
        survey_answered(month, score=score, when=when)
    text = page(client, supervisor, "sla:home", query=f"?month={MONTH}").content.decode()
    table = text.split('id="overview-table"', 1)[1]
    assert ">Satisfaction<" in table
    finance_row = table.split(">Finance<", 1)[1].split("</tr>", 1)[0]
    logistics_row = table.split(">Logistics<", 1)[1].split("</tr>", 1)[0]
    assert "3.0 / 5" in finance_row and "2 answers" in finance_row
    assert "5.0 / 5" in logistics_row and "1 answer<" in logistics_row


@pytest.mark.parametrize("extra", [0, 3])
def test_a_department_users_pages_keep_their_query_counts(client, two, django_assert_num_queries,
                                                          extra: int) -> None:  # noqa: ANN001
    finance, _logistics = two
    panels.register()
    for _n in range(1 + extra):
        survey_sent(finance)
    client.force_login(finance.department_user)
    client.get(reverse("home"))  # warm the session and the role caches
    home, dashboard = reverse("home"), reverse("sla:home") + f"?month={MONTH}"
    with django_assert_num_queries(24):  # the panels' own (who is on duty among them), the waiting surveys and
        assert client.get(home).status_code == 200  # questionnaires, their count
    with django_assert_num_queries(21):  # the supervisor's 20 and the waiting count in the navigation
        assert client.get(dashboard).status_code == 200
