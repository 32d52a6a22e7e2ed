"""In Debian's Chromium, in English and Traditional Chinese: an engineer on duty acknowledges the handover received,
records in the duty log, is refused checking out with the reason, writes the handover; the incoming engineer
acknowledges it, and the engineer checks out. The pages lay out without overflowing the window. Screenshots of
My duty and the handover page go to $SCREENSHOT_DIR when it is set."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from duty.choices import Attendance, HandoverState
from duty.handovers import handover_write
from duty.models import Handover, Shift
from duty.tests.attend_scenarios import duty_day
from incidents.choices import State as IncidentState
from incidents.tests.factories import incident_row
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core.testing.browser import look, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_shift_from_check_in_to_check_out_in_the_browser(browser_page: Any, tmp_path: Path, language: str) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "duty" / language
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    day = duty_day(start=start)
    people = incident_crew(team=day.crew.team)
    incident_row(IncidentState.HANDLING, crew=people, title="ERP login slow for Finance")
    incident_row(IncidentState.ASSIGNED, crew=people, title="Backup job failed on db-02")
    # The night engineer stayed on site and wrote the handover this morning.
    Shift.objects.filter(pk=day.night_before.pk).update(attendance=Attendance.ON_DUTY,
                                                        checked_in_at=day.night_before.start)
    received = handover_write(shift=Shift.objects.get(pk=day.night_before.pk), user=day.before,
                              summary="Quiet night. ERP slow since 06:30, the vendor is looking at it.")

    sign_in(page, day.outgoing, language)
    page.goto(page.base_url + "/duty/my/")
    with page.expect_navigation():
        page.click(f"#check_in-{day.day.pk}")
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.ON_DUTY
    shoot(page, "my-duty-checked-in", shots)

    page.check("#id_acknowledge-confirm")
    with page.expect_navigation():
        page.click("#acknowledge-handover")
    assert Handover.objects.get(pk=received.pk).state == HandoverState.ACKNOWLEDGED
    shoot(page, "handover-acknowledged", shots)

    page.goto(page.base_url + "/duty/my/")
    page.select_option("#id_log-kind", "call")
    page.fill("#id_log-text", "Finance called: ERP login slow; told them the vendor is on it.")
    page.fill("#id_log-informed", "Ms Chen (Finance)")
    with page.expect_navigation():
        page.click("#log-form button[type=submit]")
    assert page.locator("#shift-log-table .duty-log-entry").count() == 1
    blocked = page.locator(f"#check_out-{day.day.pk}-blocked .transition-reason")
    assert str(day.incoming) in blocked.inner_text()
    shoot(page, "my-duty", shots)

    page.fill("#id_handover-summary", "ERP still slow; vendor ticket 4711. Backup job to re-run at 02:00.")
    with page.expect_navigation():
        page.click("#handover-form button[type=submit]")
    handover = Handover.objects.get(shift=day.day)
    assert page.locator(".handover-item").count() == 2
    shoot(page, "handover", shots)

    sign_in(page, day.incoming, language)
    look(page, "/duty/my/", "my-duty-incoming", shots)
    page.check("#id_acknowledge-confirm")
    with page.expect_navigation():
        page.click("#acknowledge-handover")
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.ACKNOWLEDGED

    sign_in(page, day.outgoing, language)
    page.goto(page.base_url + "/duty/my/")
    with page.expect_navigation():
        page.click(f"#check_out-{day.day.pk}")
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.DONE
    look(page, "/duty/log/", "duty-log", shots)
    sign_in(page, day.crew.supervisor, language)
    look(page, "/duty/handovers/?state=", "handovers", shots)
