"""The duty process end to end in Debian's Chromium, as the people who run it: a supervisor generates a roster on
its page and publishes it, an engineer asks a colleague to take one of their shifts, the colleague accepts, the
supervisor approves, the roster shows the colleague on that day, and when the day comes the home page's on-duty
panel names the colleague. Screenshots go to $SCREENSHOT_DIR when it is set."""

import os
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from duty.choices import RosterState, SwapState
from duty.models import DutyPolicy, Roster, Shift, SwapRequest
from duty.tests.factories import duty_crew, four_engineers, rotation_of
from opscenter.core.testing.browser import act, look, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HAS_SHIFT_ON = """([name, date]) => {
  const column = [...document.querySelectorAll('#roster-grid thead th')].findIndex(th => th.dataset.date === date);
  const row = [...document.querySelectorAll('#roster-grid tbody tr')]
    .find(tr => tr.querySelector('.rg-name') && tr.querySelector('.rg-name').title === name);
  return row ? row.children[column].querySelectorAll('.rg-chip').length : -1;
}"""


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_generate_publish_swap_approve_and_see_who_is_on_duty(browser_page: Any, tmp_path: Path,
                                                               language: str) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "duty-month" / language
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    crew = duty_crew()
    engineers = four_engineers(crew)
    today = timezone.localdate()
    rotation_of(crew, engineers, starts_on=today)  # day, night, off, off: every day and night covered
    crew.supervisor.is_staff = True
    crew.supervisor.save()

    # The supervisor generates the draft on its page and publishes it (accepting what the check lists, if any).
    sign_in(page, crew.supervisor, language)
    look(page, "/duty/rosters/new/", "generate", shots)
    page.select_option("#id_team", str(crew.team.pk))
    page.fill("#id_first_day", today.isoformat())
    page.fill("#id_last_day", (today + timedelta(days=27)).isoformat())
    with page.expect_navigation():
        page.click("#roster-generate-form button[type=submit]")
    roster = Roster.objects.get(team=crew.team)
    assert page.url.endswith(f"/duty/rosters/{roster.pk}/") and roster.shifts.count() >= 2 * 27
    shoot(page, "roster-draft", shots)
    assert page.locator("#finding-list").count() == 0  # every minute covered: nothing to accept
    act(page, "publish", checks=("confirm",))
    assert Roster.objects.get(pk=roster.pk).state == RosterState.PUBLISHED
    shoot(page, "roster-published", shots)

    # An engineer gives a day shift four days ahead to the colleague who is off that day and on the next.
    zone = DutyPolicy.current().zone
    day = today + timedelta(days=4)
    given = Shift.objects.get(roster=roster, shift_type=crew.day, start=datetime.combine(day, time(8), zone))
    taker = Shift.objects.get(roster=roster, shift_type=crew.day,
                              start=datetime.combine(day + timedelta(days=1), time(8), zone)).user
    giver = given.user
    sign_in(page, giver, language)
    look(page, f"/duty/shifts/{given.pk}/swap/", "swap-request", shots)
    page.select_option('[name="colleague"]', str(taker.pk))
    page.fill('[name="reason"]', "家中有事 / family matters")
    with page.expect_navigation():
        page.click("#send-swap-request")
    swap = SwapRequest.objects.get(shift=given)

    sign_in(page, taker, language)
    look(page, f"/duty/swaps/{swap.pk}/", "swap-to-accept", shots)
    act(page, "accept", checks=("confirm",))

    sign_in(page, crew.supervisor, language)
    look(page, f"/duty/swaps/{swap.pk}/", "swap-to-approve", shots)
    act(page, "approve", checks=("confirm",))
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.APPROVED
    assert Shift.objects.get(pk=given.pk).user == taker

    look(page, f"/duty/rosters/{roster.pk}/", "roster-after-swap", shots)
    assert page.evaluate(HAS_SHIFT_ON, [str(taker), day.isoformat()]) == 1
    assert page.evaluate(HAS_SHIFT_ON, [str(giver), day.isoformat()]) == 0

    # On that day at 09:00 the home page of a colleague names who took the shift.
    with time_machine.travel(datetime.combine(day, time(9), zone), tick=True):
        watcher = next(e for e in engineers if e not in (giver, taker))
        sign_in(page, watcher, language)
        row = page.locator(f'#panel-on-duty tr[data-team="{crew.team.code}"] td.on-duty-now').inner_text()
        assert str(taker) in row and str(giver) not in row, row
        shoot(page, "home-on-the-day", shots)
