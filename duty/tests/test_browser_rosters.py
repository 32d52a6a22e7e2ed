"""In Debian's Chromium at 1366 × 768, in English and Traditional Chinese: the month grid of a roster fits the
window with today marked, a supervisor accepts its findings with a note and publishes it, and the home panel of
an engineer shows who is on duty now. Screenshots go to $SCREENSHOT_DIR when it is set."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from duty import rosters
from duty.choices import RosterState
from duty.models import Roster
from duty.selectors import on_duty
from duty.tests.factories import duty_crew, four_engineers, rotation_of
from opscenter.core.testing.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID_FITS = """() => {
  const grid = document.querySelector('#roster-grid');
  return {page: document.documentElement.scrollWidth - window.innerWidth,
          grid: grid.parentElement.scrollWidth - grid.parentElement.clientWidth,
          today: document.querySelectorAll('#roster-grid thead [aria-current="date"]').length};
}"""


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_supervisor_publishes_a_month_and_an_engineer_sees_who_is_on_duty(browser_page, tmp_path,  # noqa: ANN001
                                                                            language) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    crew = duty_crew()
    today = timezone.localdate()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    rotation = rotation_of(crew, four_engineers(crew), starts_on=first)
    rotation.members.filter(position=3).delete()  # three of four: a gap every fourth day and night
    roster = rosters.roster_generate(user=crew.supervisor, team=crew.team, first_day=first, last_day=last)

    sign_in(page, crew.supervisor, language)
    page.goto(f"{page.base_url}/duty/rosters/{roster.pk}/")
    fits = page.evaluate(GRID_FITS)
    assert fits == {"page": 0, "grid": 0, "today": 1}, fits
    page.screenshot(path=str(shots / "grid-draft.png"), full_page=True)
    page.fill("#transition-accept_findings textarea", "Overtime agreed with the team.")
    with page.expect_navigation():
        page.click("#transition-accept_findings button[type=submit]")
    page.locator("#transition-publish").evaluate("el => el.open = true")
    page.check("#transition-publish input[type=checkbox]")
    with page.expect_navigation():
        page.click("#transition-publish button[type=submit]")
    assert Roster.objects.get(pk=roster.pk).state == RosterState.PUBLISHED
    page.screenshot(path=str(shots / "grid-published.png"), full_page=True)

    sign_in(page, crew.engineers[0], language)
    panel = page.locator("#panel-on-duty")
    row = panel.locator(f'tr[data-team="{crew.team.code}"] td.on-duty-now').inner_text()
    now = on_duty(crew.team)  # the gap may fall on this very hour
    assert all(str(shift.user) in row for shift in now) and (now or row)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    panel.screenshot(path=str(shots / "home-panel.png"))
    page.screenshot(path=str(shots / "home.png"), full_page=True)
