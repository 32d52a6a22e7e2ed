"""In Debian's Chromium, in English and Traditional Chinese: an engineer asks a colleague to take a shift, the
colleague accepts, a supervisor approves and the roster changes; the swap pages lay out without overflowing the
window. Screenshots go to $SCREENSHOT_DIR when it is set."""

import os
from pathlib import Path
from typing import Any

import pytest

from duty.choices import SwapState
from duty.models import Shift, SwapRequest
from duty.tests.swap_scenarios import SwapWorld, swap_in_state, swap_world
from opscenter.core.testing.browser import act, look, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_swap_asked_accepted_and_approved_in_the_browser(browser_page: Any, tmp_path: Path, language: str) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    world: SwapWorld = swap_world()
    mine, theirs = world.shift(world.a, 3), world.shift(world.b, 6)
    world.shift(world.a, 8)
    # A swap the checks now refuse: the colleague took another shift at that time after accepting.
    blocked = swap_in_state(world, SwapState.ACCEPTED, world.shift(world.a, 10), world.c)
    world.shift(world.c, 10, hour=12, hours=4)
    world.supervisor.is_staff = True
    world.supervisor.save()

    sign_in(page, world.a, language)
    look(page, "/duty/swaps/?queue=mine", "list-mine", shots)
    page.click(f'a[href="/duty/shifts/{mine.pk}/swap/"]')
    page.wait_for_url(f"**/duty/shifts/{mine.pk}/swap/")
    options = page.locator('[name="colleague"] option').all_inner_texts()
    assert len(options) == 3 and not any(world.crew.duty.username in o for o in options), options
    assert page.locator(f'[name="counter_shift"] option[value="{theirs.pk}"]').count() == 1
    shoot(page, "request-form", shots)
    page.select_option('[name="colleague"]', str(world.b.pk))
    page.fill('[name="reason"]', "My daughter's school play")
    with page.expect_navigation():
        page.click("#send-swap-request")
    swap = SwapRequest.objects.get(shift=mine)
    shoot(page, "detail-requested", shots)

    sign_in(page, world.b, language)
    look(page, "/", "home-panel", shots)
    assert page.locator("#panel-duty-swaps-waiting a").first.inner_text()
    page.goto(page.base_url + f"/duty/swaps/{swap.pk}/")
    act(page, "accept", checks=("confirm",))
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.ACCEPTED

    sign_in(page, world.supervisor, language)
    look(page, "/duty/swaps/", "list-waiting-supervisor", shots)
    look(page, f"/duty/swaps/{blocked.pk}/", "detail-blocked", shots)
    assert page.locator("#swap-problems").count() == 1
    look(page, f"/duty/swaps/{swap.pk}/", "detail-to-approve", shots)
    act(page, "approve", checks=("confirm",))
    assert Shift.objects.get(pk=mine.pk).user == world.b
    shoot(page, "detail-approved", shots)
    look(page, f"/admin/duty/swaprequest/{blocked.pk}/change/", "admin-decision", shots)
