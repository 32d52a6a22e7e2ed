"""In Debian's Chromium: a department user reads their department's service levels — this month, the twelve-month
trend drawn as charts with tables beside them, the published evaluation with its breach explanations — without a
trace of another department; answers the satisfaction survey of their resolved fault through its signed link (a
low score needs a comment, the link works once); and the supervisor finds the low score to follow up and closes it.

The month the pages open on is pinned to May 2026 so that the known figures of sla.tests.figures (April) are last
month and a small May set is this month."""

import dataclasses
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from incidents.choices import State
from incidents.tests.factories import incident_in_state, make_crew
from opscenter.core.models import User
from sla import metrics
from sla.choices import ClockKind, FollowUpState
from sla.evaluations import evaluation_prepare, evaluation_publish
from sla.models import FollowUp, Survey
from sla.surveys import services
from sla.surveys.tests.test_surveys import policy
from sla.tests.figures import APRIL, Month, explain_all, incident, stopped_clock, two_departments
from sla.views import readable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MAY = date(2026, 5, 1)
COMMENT = "The printer was fixed, but nobody told me for two days."


# --- The known figures -------------------------------------------------------------------------------------


def may_for(month: Month) -> None:
    """This month of a department: one P2 incident responded to in 5 minutes and resolved in an hour."""
    fixed = incident(month.department, "2026-05-06 09:00", responded=5, resolved=60, priority="P2")
    stopped_clock(fixed, ClockKind.RESPONSE, priority="P2", elapsed_minutes=5, target_minutes=30,
                  stopped="2026-05-06 09:05", agreement=month.agreement)
    stopped_clock(fixed, ClockKind.RESOLUTION, priority="P2", elapsed_minutes=60, target_minutes=480,
                  stopped="2026-05-06 10:00", agreement=month.agreement)


def logistics_apart(month: Month) -> None:
    """Logistics gets one more April incident (responded in 4 minutes, resolved in 30), so that its figures
    differ from Finance's everywhere: 71.4% within target, MTTA 21 min, MTTR 4 h 10 min."""
    quick = incident(month.department, "2026-04-09 09:00", responded=4, resolved=30, priority="P2")
    stopped_clock(quick, ClockKind.RESPONSE, priority="P2", elapsed_minutes=4, target_minutes=30,
                  stopped="2026-04-09 09:04", agreement=month.agreement)
    stopped_clock(quick, ClockKind.RESOLUTION, priority="P2", elapsed_minutes=30, target_minutes=480,
                  stopped="2026-04-09 09:30", agreement=month.agreement)


def publish_april(month: Month, supervisor: User) -> None:
    explain_all(month, supervisor)
    evaluation = evaluation_prepare(department=month.department, month=APRIL, user=supervisor)
    evaluation_publish(evaluation=evaluation, user=supervisor, summary=f"{month.department.name} April summary")


def low_score_survey_sent(month: Month, supervisor: User) -> Survey:
    """The department user's fault resolved by an engineer, and its survey sent by the sweep."""
    policy(low_score=2)
    crew = dataclasses.replace(make_crew(department=month.department, supervisor=supervisor),
                               caller=month.department_user)
    resolved = incident_in_state(State.RESOLVED, crew=crew, title="Printer on the third floor jams")
    survey = Survey.objects.get(incident=resolved)
    assert services.send_due_surveys(now=survey.send_after) == 1
    return survey


# --- What a person does in the browser ---------------------------------------------------------------------


def sign_in(page, user: User) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(page.base_url + "/")


def click_and_wait(page, target) -> None:  # noqa: ANN001
    with page.expect_navigation():
        target.click()


def row_cells(table, heading: str) -> list[str]:  # noqa: ANN001
    """The cells of the table's row whose heading cell is `heading`, as read."""
    row = table.get_by_role("row").filter(has=table.page.get_by_role("rowheader", name=heading, exact=True))
    return [text.strip() for text in row.get_by_role("cell").all_inner_texts()]


def chart_series(page, chart_id: str) -> dict[str, list]:  # noqa: ANN001
    """What the chart in the container draws: its series by name, and its months."""
    return page.evaluate("""id => {
        const option = echarts.getInstanceByDom(document.getElementById(id)).getOption();
        const drawn = {months: option.xAxis[0].data};
        option.series.forEach(s => { drawn[s.name] = s.data; });
        return drawn;
    }""", chart_id)


def nowhere(page, figures: list[str]) -> None:  # noqa: ANN001
    html = page.content()
    for text in figures:
        assert text not in html, (text, page.url)


# --- The road -----------------------------------------------------------------------------------------------


def reads_this_month(page, finance: Month, elsewhere: list[str]) -> None:  # noqa: ANN001
    """The "Service levels" entry opens the department's own dashboard on this month (May)."""
    click_and_wait(page, page.locator("#navbar-menu").get_by_role("link", name=re.compile("^Service levels")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Finance · 2026-05")
    tabs = page.get_by_role("navigation", name="Service levels")
    expect(tabs.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Satisfaction surveys")).to_be_visible()
    expect(tabs.get_by_role("link", name="Follow-ups")).to_have_count(0)  # supervisors' work
    expect(page.locator("#figure-compliance")).to_have_text("100.0%")
    expect(page.locator("#figure-mtta")).to_have_text("5 min")
    expect(page.locator("#figure-mttr")).to_have_text("1 h 00 min")
    expect(page.locator("#figure-breaches")).to_have_text("0")
    availability = page.get_by_role("table", name="Availability of each service against its target")
    expect(availability.get_by_role("row").filter(has_text=finance.service.name)).to_contain_text("100.000%")
    nowhere(page, elsewhere)


def reads_the_trend(page) -> None:  # noqa: ANN001
    """Twelve months up to May: the charts draw what the tables beside them list."""
    compliance_chart = page.get_by_role("img", name="Share of targets met and breaches per month")
    expect(compliance_chart.locator("svg")).to_have_count(1)
    expect(page.get_by_role("img", name=re.compile("^MTTA and MTTR in minutes")).locator("svg")).to_have_count(1)
    expect(page.get_by_role("img", name=re.compile("^Availability of each service per month")).locator("svg")
           ).to_have_count(1)

    table = page.get_by_role("table", name="Targets met, MTTA, MTTR and breaches per month")
    expect(table.get_by_role("rowheader")).to_have_count(12)
    assert row_cells(table, "2026-04") == ["60.0%", "27 min", "6 h 00 min", "3"]  # with the availability miss
    assert row_cells(table, "2026-05") == ["100.0%", "5 min", "1 h 00 min", "0"]
    assert row_cells(table, "2026-03") == ["—", "—", "—", "0"]

    drawn = chart_series(page, "trend-compliance")
    assert drawn["months"][0] == "2025-06" and drawn["months"][-2:] == ["2026-04", "2026-05"]
    assert drawn["Targets met (%)"][-2:] == [60.0, 100.0]
    assert drawn["Response"][-2:] == [66.7, 100.0] and drawn["Resolution"][-2:] == [50.0, 100.0]
    assert drawn["Breaches"][-2:] == [3, 0] and drawn["Targets met (%)"][0] is None
    times = chart_series(page, "trend-times")
    assert times["MTTA (minutes)"][-2:] == [26.7, 5.0] and times["MTTR (minutes)"][-2:] == [360.0, 60.0]
    assert page.evaluate("id => echarts.getInstanceByDom(document.getElementById(id)).getOption().yAxis[0].name",
                         "trend-times") == "minutes"  # the page's word for the unit, not the script's

    per_service = page.get_by_role("table", name="Availability of each service per month")
    april = per_service.get_by_role("row").filter(has=page.get_by_role("rowheader", name="2026-04"))
    expect(april).to_contain_text("99.884%")
    expect(april).to_contain_text("below target")
    availability = chart_series(page, "trend-availability")
    service_series = [values for name, values in availability.items() if name != "months"]
    assert [values[-2:] for values in service_series] == [[99.884, 100.0]]


def picks_last_month(page, finance: Month, elsewhere: list[str]) -> None:  # noqa: ANN001
    """The month picker shows April's figures: the outage took the service below its target."""
    page.get_by_label("Month", exact=True).select_option("2026-04")
    click_and_wait(page, page.get_by_role("button", name="Show"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Finance · 2026-04")
    expect(page.locator("#figure-compliance")).to_have_text("60.0%")
    expect(page.locator("#figure-breaches")).to_have_text("3")
    availability = page.get_by_role("table", name="Availability of each service against its target")
    row = availability.get_by_role("row").filter(has_text=finance.service.name)
    expect(row).to_contain_text("99.884%")
    expect(row).to_contain_text("below target")
    nowhere(page, elsewhere)


def reads_the_published_evaluation(page, supervisor: User, elsewhere: list[str]) -> None:  # noqa: ANN001
    """From the dashboard's published evaluations to April's: its figures and each breach explained."""
    published = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Summary"))
    expect(published).to_contain_text("Finance April summary")
    click_and_wait(page, published.get_by_role("link", name="2026-04"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Finance · 2026-04")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Published")
    expect(page.get_by_text("These figures no longer change.")).to_be_visible()
    expect(page.locator("#figure-compliance")).to_have_text("60.0%")
    breaches = page.get_by_role("table", name="Breaches of the month and what was done about them")
    rows = breaches.get_by_role("row").filter(has_text="Database failover took longer than planned.")
    expect(rows).to_have_count(3)
    for kind in ("Response", "Resolution", "Availability"):
        row = rows.filter(has_text=kind)
        expect(row).to_contain_text("Rehearse the failover.")
        expect(row).to_contain_text(str(supervisor))
        expect(row).to_contain_text("2026-05-15")
    expect(page.get_by_role("button", name="Publish to the department")).to_have_count(0)
    expect(page.get_by_role("button", name="Save the explanation")).to_have_count(0)
    nowhere(page, elsewhere)
    click_and_wait(page, page.get_by_role("navigation", name="Service levels").get_by_role(
        "link", name="Monthly evaluations"))
    expect(page.get_by_role("table")).to_contain_text("2026-04")
    nowhere(page, elsewhere)


def answers_the_survey(page, survey: Survey) -> str:  # noqa: ANN001
    """The link of the notification; a score of 2 without a comment is refused on the page, with the comment
    it is thanked; the link then says it was answered. Returns the link."""
    page.goto(page.base_url + "/notifications/")
    click_and_wait(page, page.get_by_role("link", name=f"How did we do on {survey.incident.number}?"))
    link = page.url
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    expect(page.get_by_text("Printer on the third floor jams")).to_be_visible()
    scores = page.get_by_role("group", name="How satisfied are you with how your fault was handled?")
    scores.get_by_text("2 · Dissatisfied", exact=True).click()
    click_and_wait(page, page.get_by_role("button", name="Send my answer"))
    refusal = "Tell us what went wrong: a comment is required for a score of 2 or lower."
    expect(page.get_by_text(refusal)).to_be_visible()
    expect(scores.get_by_role("radio", name="2 · Dissatisfied")).to_be_checked()  # the choice is kept
    assert Survey.objects.get(pk=survey.pk).score is None and not FollowUp.objects.exists()

    page.get_by_label("Comment").fill(COMMENT)
    click_and_wait(page, page.get_by_role("button", name="Send my answer"))
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Your answer was recorded.")).to_be_visible()

    page.goto(link)
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(page.get_by_text("This has already been answered. Thank you.")).to_be_visible()
    expect(page.get_by_role("button", name="Send my answer")).to_have_count(0)
    return link


def sees_their_answer(page, survey: Survey, elsewhere: list[str]) -> None:  # noqa: ANN001
    page.goto(page.base_url + "/sla/")
    click_and_wait(page, page.get_by_role("navigation", name="Service levels").get_by_role(
        "link", name="Satisfaction surveys"))
    row = page.get_by_role("row").filter(has_text=survey.incident.number)
    expect(row).to_contain_text("Answered")
    expect(row).to_contain_text(COMMENT)
    nowhere(page, elsewhere)


def supervisor_follows_up(page, supervisor: User, survey: Survey) -> None:  # noqa: ANN001
    """The home panel lists the low score; its list closes it with what was done."""
    sign_in(page, supervisor)
    panel = page.locator("#panel-sla-follow-ups")
    expect(panel.get_by_role("heading", name="Satisfaction follow-ups")).to_be_visible()
    expect(panel).to_contain_text(survey.incident.number)
    expect(panel).to_contain_text("2 / 5")
    expect(panel).to_contain_text(COMMENT[:40])
    click_and_wait(page, panel.get_by_role("link", name="1 open follow-up"))
    row = page.get_by_role("row").filter(has_text=survey.incident.number)
    expect(row).to_contain_text(COMMENT)
    expect(row).to_contain_text("Open")
    row.get_by_label("What was done").fill("Called the user; the printer's driver is now pushed by policy.")
    click_and_wait(page, row.get_by_role("button", name="Close"))
    expect(page.get_by_text("The follow-up was closed.")).to_be_visible()
    assert FollowUp.objects.get(survey=survey).state == FollowUpState.DONE
    page.goto(page.base_url + "/")
    expect(page.locator("#panel-sla-follow-ups")).to_contain_text("No low scores to follow up.")


def test_a_department_user_reads_the_dashboard_and_answers_a_survey(browser_page, supervisor,  # noqa: ANN001
                                                                      monkeypatch) -> None:  # noqa: ANN001
    page = browser_page
    finance, logistics = two_departments()
    logistics_apart(logistics)
    may_for(finance)
    monkeypatch.setattr(metrics, "current_month", lambda: MAY)
    publish_april(finance, supervisor)
    publish_april(logistics, supervisor)
    survey = low_score_survey_sent(finance, supervisor)
    theirs = readable(metrics.department_month(logistics.department.pk, APRIL))
    elsewhere = ["Logistics", "Warehouse scanning", theirs["compliance_label"], theirs["mtta"], theirs["mttr"]]
    assert elsewhere[2:] == ["71.4%", "21 min", "4 h 10 min"]

    sign_in(page, finance.department_user)
    reads_this_month(page, finance, elsewhere)
    reads_the_trend(page)
    picks_last_month(page, finance, elsewhere)
    reads_the_published_evaluation(page, supervisor, elsewhere)
    answers_the_survey(page, survey)
    sees_their_answer(page, survey, elsewhere)
    supervisor_follows_up(page, supervisor, survey)


def test_the_finance_user_reads_the_dashboard_in_plain_units(browser_page, supervisor, monkeypatch) -> None:  # noqa: ANN001
    """財務部's user `finance` reads targets in business hours and days, met or missed, no team clocks, the
    availability target drawn on its chart; a survey waiting for them is counted in the navigation and listed on
    their home page."""
    from sla.tests.factories import office_calendar
    from sla.tests.figures import april

    page = browser_page
    finance = april("財務部")
    finance.department_user.username = "finance"
    finance.department_user.save()
    finance.agreement.calendar = office_calendar("Office 09–17", hours=[(9, 17)])
    finance.agreement.save()
    monkeypatch.setattr(metrics, "current_month", lambda: MAY)
    publish_april(finance, supervisor)
    low_score_survey_sent(finance, supervisor)

    sign_in(page, finance.department_user)
    count = page.locator("#navbar-menu").get_by_title("Surveys waiting for your answer")
    expect(count).to_have_text("1")
    panel = page.locator("#panel-sla-surveys")
    expect(panel.get_by_role("link", name=re.compile("Printer on the third floor jams"))).to_be_visible()

    click_and_wait(page, page.locator("#navbar-menu").get_by_role("link", name=re.compile("^Service levels")))
    page.get_by_label("Month", exact=True).select_option("2026-04")
    click_and_wait(page, page.get_by_role("button", name="Show"))
    expect(page.get_by_role("heading", level=1)).to_have_text("財務部 · 2026-04")
    expect(page.locator("#figure-compliance-count")).to_have_text("3 of 5 targets met")
    targets = page.get_by_role("table", name=re.compile("^Response and resolution targets of the month"))
    expect(targets.get_by_role("columnheader", name="Met", exact=True)).to_be_visible()
    expect(targets.get_by_role("columnheader", name="Missed", exact=True)).to_be_visible()
    expect(targets.get_by_role("row").filter(has_text="Response").first).to_contain_text("30 business minutes")
    expect(targets.get_by_role("row").filter(has_text="Resolution").first).to_contain_text("1 business day")
    html = page.content()
    assert "business min<" not in html and "clocks stopped" not in html and "Team (OLA)" not in html
    target_line = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById("trend-availability")).getOption();
        return option.series.map(s => s.markLine.data[0].yAxis);
    }""")
    assert target_line == [99.9]

    click_and_wait(page, page.get_by_role("table").filter(
        has=page.get_by_role("columnheader", name="Summary")).get_by_role("link", name="2026-04"))
    breaches = page.get_by_role("table", name="Breaches of the month and what was done about them")
    expect(breaches.get_by_role("row").filter(has_text="Response")).to_contain_text("2026-04-07 09:30")
    expect(breaches.get_by_role("row").filter(has_text="Availability")).to_contain_text(finance.service.name)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_supervisors_read_the_departments_side_by_side_at_1366_pixels(browser_page, supervisor, language,  # noqa: ANN001
                                                                      monkeypatch) -> None:  # noqa: ANN001
    """The supervisors' overview spells MTTA and MTTR out in its headers, fits the window with its eleven columns
    and keeps a department's name whole."""
    from opscenter.core.testing import browser

    page = browser_page
    finance, _logistics = two_departments()
    finance.department.name = "客戶服務中心"
    finance.department.save(update_fields=["name"])
    monkeypatch.setattr(metrics, "current_month", lambda: MAY)
    page.set_viewport_size({"width": 1366, "height": 768})
    browser.sign_in(page, supervisor, language)
    page.goto(page.base_url + "/sla/?month=2026-04")
    table = page.locator("#overview-table")
    headers = table.locator("thead").inner_text()
    spelled = ("Mean time to acknowledge (MTTA)", "Mean time to resolve (MTTR)") if language == "en" else (
        "平均響應時間（MTTA）", "平均解決時間（MTTR）")
    assert all(text.upper() in headers.upper() for text in spelled), headers
    width = table.evaluate("t => ({table: t.scrollWidth, room: t.parentElement.clientWidth})")
    assert width["table"] <= width["room"] + 1, width
    name = table.locator("tbody tr > :first-child").filter(has_text="客戶服務中心").locator("a, span").first
    assert name.evaluate("e => e.getClientRects().length") == 1
