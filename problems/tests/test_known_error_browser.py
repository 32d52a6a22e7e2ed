"""In Debian's Chromium: the problem manager records a known error from a problem's page and publishes it; a duty
officer typing a new incident's title in Chinese on the report form is shown it, with its workaround; and the
known-error pages in English and Traditional Chinese lay out without overflowing the window (screenshots go to
$SCREENSHOT_DIR when it is set)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incidents.tests.factories import IncidentFactory
from opscenter.core.testing.browser import look, shoot, sign_in
from problems.choices import KnownErrorState, State
from problems.models import KnownError
from problems.tests.factories import KnownErrorFactory, make_crew, problem_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_record_publish_and_suggest_on_the_report_form(browser_page, tmp_path) -> None:  # noqa: ANN001
    page, shots = browser_page, Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "known-errors"
    shots.mkdir(parents=True, exist_ok=True)
    crew = make_crew()
    incident = IncidentFactory(title="ERP 登入逾時")
    problem = problem_in_state(State.SOLVING, crew, incidents=[incident], title="ERP 系統登入逾時")
    KnownErrorFactory(title="ERP 系統登入逾時（已停用）", symptom="ERP 系統登入逾時", state=KnownErrorState.RETIRED)

    sign_in(page, crew.manager)
    page.goto(f"{page.base_url}/problems/{problem.pk}/")
    with page.expect_navigation():
        page.locator("#record-known-error").click()
    expect(page.locator("#recorded-from")).to_contain_text(problem.number)
    page.get_by_label("Workaround").fill("重新啟動 ERP 應用服務，兩分鐘後重新登入。")
    with page.expect_navigation():
        page.locator("#save-known-error").click()
    ke = KnownError.objects.get(state=KnownErrorState.DRAFT)
    form = page.locator("#transition-publish")
    form.evaluate("el => el.open = true")
    form.locator("input[type=checkbox]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("#known-error-badges .known-error-state-badge")).to_have_text("Published")
    shoot(page, "published", shots)

    sign_in(page, crew.duty)
    page.goto(f"{page.base_url}/incidents/report/")
    panel = page.locator("#known-error-panel")
    expect(panel).to_be_hidden()
    page.locator("#id_title").fill("ERP 登入逾時")
    expect(panel).to_be_visible()
    expect(panel.locator(".suggested-known-error")).to_have_count(1)
    expect(panel).to_contain_text(ke.number)
    expect(panel).to_contain_text("重新啟動 ERP 應用服務")
    shoot(page, "report-form", shots)
    page.locator("#id_title").fill("印表機卡紙")
    expect(panel).to_be_hidden()


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_known_error_pages_in_the_browser(browser_page, tmp_path, language) -> None:  # noqa: ANN001
    page, shots = browser_page, Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / f"known-errors-{language}"
    shots.mkdir(parents=True, exist_ok=True)
    crew = make_crew()
    problem = problem_in_state(State.ANALYZING, crew)
    ke = KnownErrorFactory(title="ERP 系統登入逾時", problem=problem, state=KnownErrorState.PUBLISHED)
    KnownErrorFactory(title="VPN 連線每隔數分鐘中斷")
    sign_in(page, crew.manager, language)
    look(page, "/problems/known-errors/?queue=all", "list", shots)
    look(page, f"/problems/known-errors/{ke.pk}/", "detail", shots)
    look(page, f"/problems/known-errors/new/?problem={problem.pk}", "create", shots)
    look(page, f"/problems/{problem.pk}/", "problem", shots)
    look(page, "/problems/", "problems-tab", shots)
