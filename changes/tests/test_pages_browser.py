"""In Debian's Chromium, in English and Traditional Chinese: the change pages lay out without overflowing
the window, and a CAB member votes from the agenda. Screenshots go to $SCREENSHOT_DIR when it is set."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from changes.choices import RiskLevel, State
from changes.models import Change, ChangeVote, FreezeWindow
from changes.tests.factories import change_in_state, local_hour_in, make_crew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user, language: str) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")


def look(page, path: str, name: str, shots: Path) -> None:  # noqa: ANN001
    response = page.goto(page.base_url + path)
    assert response.status == 200, path
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{path} overflows the window by {overflow}px"
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_change_pages_in_the_browser(browser_page, tmp_path, language) -> None:  # noqa: ANN001
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    crew = make_crew()
    joint = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)
    # Both changes within one local day (10:00 and 11:00 two days ahead), whatever the hour the test runs:
    # a change across local midnight shows on both days of the calendar.
    start_in = local_hour_in(2, 10)
    first = change_in_state(State.SCHEDULED, crew, title="Replace the core switch", start_in=start_in)
    clash = change_in_state(State.APPROVED, crew, title="Firmware upgrade on the same service",
                            start_in=start_in + timedelta(hours=1))
    FreezeWindow.objects.create(name="Year-end freeze", reason="Financial close",
                                starts_at=first.planned_start + timedelta(days=3),
                                ends_at=first.planned_start + timedelta(days=5))

    sign_in(page, crew.implementer, language)
    look(page, "/changes/", "list", shots)
    look(page, "/changes/new/", "request-form", shots)
    look(page, f"/changes/{clash.pk}/", "detail-conflict", shots)
    day = timezone.localdate(first.planned_start).isoformat()
    look(page, f"/changes/calendar/?date={day}", "calendar-month", shots)
    look(page, f"/changes/calendar/?view=week&date={day}", "calendar-week", shots)
    assert page.locator(".cal-item.cal-conflict").count() == 2

    member = joint.cab_members.order_by("pk").first()
    sign_in(page, member, language)
    look(page, f"/changes/{joint.pk}/", "detail-joint-review", shots)
    look(page, "/changes/cab/", "cab-agenda", shots)
    page.click(".must-vote")
    form = page.locator("#transition-approve")
    form.evaluate("el => el.open = true")
    form.locator('[name="approve-comment"]').fill("Agreed after the rehearsal.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert ChangeVote.objects.filter(change=joint, voter=member).exists()
    assert Change.objects.get(pk=joint.pk).state == State.AWAITING_APPROVAL
    look(page, "/", "home", shots)
