"""In Debian's Chromium: an engineer identifies a problem from an incident's page and works it — investigation,
a fishbone and a 5-whys chain, a planned action done, verification — and the problem manager approves the report;
and the problem pages in English and Traditional Chinese lay out without overflowing the window (screenshots go to
$SCREENSHOT_DIR when it is set)."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.tests.factories import IncidentFactory
from opscenter.core.testing.browser import look, sign_in
from opscenter.core.tests.factories import ServiceFactory
from problems.choices import State
from problems.models import Problem
from problems.tests.factories import ActionItemFactory, make_crew, problem_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click_and_wait(page, button) -> None:  # noqa: ANN001
    with page.expect_navigation():
        button.click()
    expect(page.locator(".alert-danger")).to_have_count(0)


def act(page, name: str, *, check: str = "") -> None:  # noqa: ANN001
    """Open a transition's form on the problem page, tick its confirmation and press its button."""
    form = page.locator(f"#transition-{name}")
    form.evaluate("el => el.open = true")
    if check:
        form.get_by_label(check).check()
    click_and_wait(page, form.locator("button[type=submit]"))


def expect_state(page, label: str) -> None:  # noqa: ANN001
    expect(page.locator("#problem-badges .state-badge")).to_have_text(label)


def test_from_an_incident_to_an_approved_report(browser_page) -> None:  # noqa: ANN001
    page = browser_page
    crew = make_crew()
    incident = IncidentFactory(title="ERP 登入逾時", service=ServiceFactory(name="ERP"))

    sign_in(page, crew.engineer)
    page.goto(f"{page.base_url}/incidents/{incident.pk}/")
    click_and_wait(page, page.locator("#identify-problem"))
    expect(page.locator("#identified-from")).to_contain_text(incident.number)
    page.get_by_label("Description").fill("Logins time out every Monday at 09:00.")
    click_and_wait(page, page.locator("#save-problem"))
    expect_state(page, "Identified")
    expect(page.locator("#incidents")).to_contain_text(incident.number)

    act(page, "investigate")
    expect_state(page, "Investigating")
    section = page.locator("#investigation")
    section.locator("summary").click()
    section.get_by_label("Frequency").fill("Every Monday 09:00–09:20")
    click_and_wait(page, section.get_by_role("button", name="Save the investigation"))
    act(page, "analyze", check="Frequency, scope and impact are investigated")
    expect_state(page, "Analysing")

    analysis = page.locator("#analysis-form")
    analysis.get_by_label("Root cause").fill("The Monday batch exhausts the shared connection pool.")
    analysis.get_by_label("Technology and equipment").fill("Pool of 50\nNo saturation alert")
    analysis.get_by_label("Process").fill("Batch at 09:00")
    analysis.get_by_label("Why? (1)").fill("Why do logins time out?")
    analysis.get_by_label("Because (1)").fill("No connection is free.")
    click_and_wait(page, analysis.get_by_role("button", name="Save the analysis"))
    expect(page.locator("#fishbone [data-category=technology]")).to_contain_text("No saturation alert")
    expect(page.locator("#five-whys")).to_contain_text("No connection is free.")
    expect(page.locator("#transition-solve.transition-blocked")).to_contain_text("Plan at least one action")

    plan = page.locator("#action-form")
    plan.get_by_label("Measure").fill("Give the batch its own pool")
    plan.get_by_label("Owner").select_option(value=str(crew.engineer.pk))
    plan.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=5)).isoformat())
    click_and_wait(page, plan.get_by_role("button", name="Add to the plan"))
    act(page, "solve", check="The root cause is found and the actions are planned")
    expect_state(page, "Solving")
    action = page.locator(".action-row").first
    action.locator("summary", has_text="Mark done").click()
    action.get_by_label("What the action achieved (optional)").fill("Pool B in use.")
    click_and_wait(page, action.get_by_role("button", name="Mark done"))
    act(page, "verify", check="Every action is done")
    expect_state(page, "Verifying")
    expect(page.locator("#verification")).to_contain_text("14 days left")

    # Two weeks later, no recurrence: the owner writes the report and submits it.
    problem = Problem.objects.get()
    Problem.objects.filter(pk=problem.pk).update(observation_ends_at=timezone.now() - timedelta(minutes=1))
    page.reload()
    report = page.locator("#report-form")
    for label, text in (("Cause", "Shared pool"), ("Solution", "Own pool for the batch"),
                        ("Result", "Quiet for two weeks"), ("Lessons learned", "Alert on saturation")):
        report.get_by_label(label, exact=True).fill(text)
    click_and_wait(page, report.get_by_role("button", name="Save the report"))
    act(page, "submit_report", check="The report is complete; hand it to the problem manager")
    expect_state(page, "Report under review")

    sign_in(page, crew.manager)
    expect(page.locator("#panel-problems-reports")).to_contain_text(problem.number)
    page.goto(f"{page.base_url}/problems/{problem.pk}/")
    act(page, "approve_report")
    expect_state(page, "Closed")
    assert Problem.objects.get().state == State.CLOSED


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_problem_pages_in_the_browser(browser_page, tmp_path, language) -> None:  # noqa: ANN001
    crew = make_crew()
    service = ServiceFactory(name="ERP 企業資源規劃系統")
    incidents = [IncidentFactory(title=title, service=service) for title in ("ERP 登入失敗", "ERP 登入逾時",
                                                                            "ERP 無法登入")]
    solving = problem_in_state(State.SOLVING, crew, incidents=incidents, title="ERP 登入失敗反覆發生",
                               service=service)
    ActionItemFactory(problem=solving, owner=crew.other_engineer, measure="新增連線池使用率告警",
                      due_date=timezone.localdate() - timedelta(days=2))
    problem_in_state(State.ANALYZING, crew, title="郵件收發延遲反覆出現")
    problem_in_state(State.VERIFYING, crew, title="核心交換機端口反覆 up/down", observed=False)
    problem_in_state(State.IDENTIFIED, crew, title="存儲陣列硬碟短期內連續故障", owner=crew.manager)

    page, shots = browser_page, Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, crew.manager, language)
    look(page, "/", "home", shots)
    look(page, "/problems/", "list", shots)
    look(page, f"/problems/{solving.pk}/", "detail-fishbone", shots)
    for part in ("facts", "incidents", "analysis", "plan", "actions"):  # the sections up close
        page.locator(f"#{part}").screenshot(path=str(shots / f"detail-{part}.png"))
    look(page, f"/problems/new/?incident={incidents[0].pk}", "create", shots)
    sign_in(page, crew.engineer, language)
    look(page, f"/problems/{solving.pk}/", "detail-owner", shots)
    look(page, f"/incidents/{incidents[0].pk}/", "incident", shots)
