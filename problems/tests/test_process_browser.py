"""Problem management end to end in Debian's Chromium, the path of its policy: three similar incidents with Chinese
titles recur on one service, the periodic check proposes them, the problem manager accepts the candidate, analyses
the cause with a fishbone and a 5-whys chain, records and publishes a known error, plans an action that is done,
verifies, writes the report, and a supervisor approves it; the known error then carries the permanent fix and a duty
officer recording a new incident with a similar title is shown it. Screenshots go to $SCREENSHOT_DIR when set."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.tests.factories import IncidentFactory, category
from opscenter.core.testing.browser import act, look, shoot, sign_in
from opscenter.core.tests.factories import ServiceFactory
from problems.choices import KnownErrorState
from problems.models import Candidate, KnownError, Problem
from problems.tasks import propose_problem_candidates
from problems.tests.factories import make_crew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click_and_wait(page, button) -> None:  # noqa: ANN001
    with page.expect_navigation():
        button.click()
    expect(page.locator(".alert-danger")).to_have_count(0)


def expect_state(page, label: str) -> None:  # noqa: ANN001
    expect(page.locator("#problem-badges .state-badge")).to_have_text(label)


def test_from_recurring_incidents_to_a_known_error_suggested_on_a_new_incident(browser_page, tmp_path) -> None:  # noqa: ANN001, E501
    page, shots = browser_page, Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "problem-process"
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    crew = make_crew()
    erp, software = ServiceFactory(name="ERP 企業資源規劃系統"), category()
    incidents = [IncidentFactory(title=title, service=erp, category=software)
                 for title in ("ERP 登入逾時", "ERP 系統登入逾時", "ERP 早上登入逾時")]
    assert propose_problem_candidates() == 1 and propose_problem_candidates() == 0  # as beat runs it, twice
    candidate = Candidate.objects.get()

    # The problem manager accepts the candidate: the problem opens with the three incidents linked.
    sign_in(page, crew.manager)
    look(page, "/problems/candidates/", "candidates", shots)
    page.goto(f"{page.base_url}/problems/candidates/{candidate.pk}/")
    for incident in incidents:
        expect(page.locator("#candidate-incidents")).to_contain_text(incident.number)
    page.locator("#accept-form").get_by_label("Title").fill("ERP 登入逾時反覆發生")
    click_and_wait(page, page.locator("#accept-form button[type=submit]"))
    problem = Problem.objects.get()
    expect_state(page, "Identified")
    for incident in incidents:
        expect(page.locator("#incidents")).to_contain_text(incident.number)

    act(page, "investigate")
    section = page.locator("#investigation")
    section.locator("summary").click()
    section.get_by_label("Frequency").fill("每週一 09:00 起約二十分鐘")
    click_and_wait(page, section.get_by_role("button", name="Save the investigation"))
    act(page, "analyze", checks=("confirm",))
    expect_state(page, "Analysing")

    analysis = page.locator("#analysis-form")
    analysis.get_by_label("Root cause").fill("週一批次作業耗盡共用連線池。")
    analysis.get_by_label("Technology and equipment").fill("連線池僅 50 條\n無連線池飽和告警")
    analysis.get_by_label("Process").fill("批次排在 09:00")
    analysis.get_by_label("Why? (1)").fill("為什麼登入逾時？")
    analysis.get_by_label("Because (1)").fill("沒有可用的資料庫連線。")
    click_and_wait(page, analysis.get_by_role("button", name="Save the analysis"))
    expect(page.locator("#fishbone [data-category=technology]")).to_contain_text("無連線池飽和告警")
    shoot(page, "analysed", shots)

    # A known error from the analysis, published: engineers have the workaround before the fix.
    click_and_wait(page, page.locator("#record-known-error"))
    page.get_by_label("Workaround").fill("重新啟動 ERP 應用服務，兩分鐘後重新登入。")
    click_and_wait(page, page.locator("#save-known-error"))
    act(page, "publish", checks=("confirm",))
    known_error = KnownError.objects.get()
    assert known_error.state == KnownErrorState.PUBLISHED
    page.goto(f"{page.base_url}/problems/{problem.pk}/")

    plan = page.locator("#action-form")
    plan.get_by_label("Measure").fill("批次作業改用獨立連線池")
    plan.get_by_label("Owner").select_option(value=str(crew.manager.pk))
    plan.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=5)).isoformat())
    click_and_wait(page, plan.get_by_role("button", name="Add to the plan"))
    act(page, "solve", checks=("confirm",))
    expect_state(page, "Solving")
    action = page.locator(".action-row").first
    action.locator("summary", has_text="Mark done").click()
    click_and_wait(page, action.get_by_role("button", name="Mark done"))
    act(page, "verify", checks=("confirm",))
    expect_state(page, "Verifying")

    # The observation window passes without a recurrence; the report is written and submitted.
    Problem.objects.filter(pk=problem.pk).update(observation_ends_at=timezone.now() - timedelta(minutes=1))
    page.reload()
    report = page.locator("#report-form")
    for label, text in (("Cause", "週一批次作業耗盡共用連線池"), ("Solution", "批次作業改用獨立連線池"),
                        ("Result", "觀察期兩週內未再發生"), ("Lessons learned", "新增連線池飽和告警")):
        report.get_by_label(label, exact=True).fill(text)
    click_and_wait(page, report.get_by_role("button", name="Save the report"))
    act(page, "submit_report", checks=("confirm",))
    expect_state(page, "Report under review")

    # Not the report's author: the supervisor approves; the known error takes the permanent fix.
    sign_in(page, crew.supervisor)
    page.goto(f"{page.base_url}/problems/{problem.pk}/")
    act(page, "approve_report")
    expect_state(page, "Closed")
    look(page, f"/problems/known-errors/{known_error.pk}/", "known-error-closed", shots)
    expect(page.locator("#permanent-fix")).to_contain_text("批次作業改用獨立連線池")

    # A new incident like the old ones: the report form suggests the known error with its workaround.
    sign_in(page, crew.duty)
    page.goto(f"{page.base_url}/incidents/report/")
    page.locator("#id_title").fill("ERP 登入逾時，無法進入系統")
    panel = page.locator("#known-error-panel")
    expect(panel).to_contain_text(known_error.number)
    expect(panel).to_contain_text("重新啟動 ERP 應用服務")
    shoot(page, "report-form-suggestion", shots)
