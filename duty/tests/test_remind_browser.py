"""In Debian's Chromium, in English and Traditional Chinese: an engineer reads their coming shifts and feed addresses
and gives the feeds a new address; a supervisor reads a month's duty report. Screenshots go to $SCREENSHOT_DIR."""

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from duty.tests.factories import duty_crew, policy
from opscenter.core.models import FeedToken
from opscenter.core.testing.browser import look, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_shifts_feeds_and_report_in_the_browser(browser_page, tmp_path, language) -> None:  # noqa: ANN001
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    policy(time_zone="Asia/Shanghai", holiday_country="CN", reminder_leads_minutes=[720, 30])
    crew = duty_crew()
    today = timezone.localdate()
    roster = crew.published_roster(today.replace(day=1), today.replace(day=1) + timedelta(days=40))
    engineer = crew.engineers[0]
    zone = timezone.get_current_timezone()
    for n in range(4):
        day = today + timedelta(days=n + 1)
        first, second = (crew.day, crew.night) if n % 2 else (crew.night, crew.day)
        for person, kind in ((engineer, first), (crew.engineers[1], second)):
            crew.shift(roster, person, datetime.combine(day, kind.start_time, tzinfo=zone), shift_type=kind)

    sign_in(page, engineer, language)
    look(page, "/duty/calendar/", "my-shifts", shots)
    old = FeedToken.objects.get(user=engineer).key
    page.click("#feed-regenerate")
    page.wait_for_url("**/duty/calendar/#feed")
    new = FeedToken.objects.get(user=engineer).key
    assert new != old and new in page.input_value("#feed-url")
    shoot(page, "my-shifts-new-address", shots)

    sign_in(page, crew.supervisor, language)
    month = date(today.year, today.month, 1)
    look(page, f"/duty/reports/?month={month:%Y-%m}", "report", shots)
    assert page.locator("#report-table tbody tr").count() == 2
    page.select_option("#id_team", str(crew.team.pk))
    with page.expect_navigation():
        page.click("#report-filter button[type=submit]")
    assert f"team={crew.team.pk}" in page.url
    shoot(page, "report-team", shots)

