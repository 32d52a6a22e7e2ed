"""In Debian's Chromium: the duty officer raises a P3 that grew into a centre-wide outage to P1 on its page; the
system team is paged as for a new P1, the clocks show the P1 targets, the timeline says P3 → P1 and why."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Category, Incident
from incidents.services import incident_report, incident_transition
from incidents.tests.test_browser import act, browser_page, sign_in  # noqa: F401  (the fixture: demo organisation)
from opscenter.core.choices import Channel
from opscenter.core.models import Notification, Team, User
from sla.models import BusinessCalendar
from sla.tests.factories import agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REASON = "Every floor of the centre has lost the ERP now"


def test_a_p3_raised_to_p1_on_the_page_pages_the_team_and_retargets_its_clocks(browser_page) -> None:  # noqa: ANN001, F811
    page = browser_page
    duty, finance = User.objects.get(username="duty"), User.objects.get(username="finance")
    engineer, system = User.objects.get(username="sysadmin"), Team.objects.get(code="system")
    agreement(finance.department, BusinessCalendar.objects.get(is_24x7=True),
              targets={"P1": (15, 120), "P3": (60, 600)})
    incident = incident_report(recorder=duty, data={
        "title": "ERP slow for two users", "description": "Orders take a minute to save", "channel": "phone",
        "impact_scope": "Two clerks of the finance department", "occurred_at": timezone.now() - timedelta(minutes=5),
        "caller": finance})
    incident = incident_transition(incident, "classify", user=duty, data={
        "category": Category.objects.get(code="software"), "impact": 2, "urgency": 2})
    incident = incident_transition(incident, "assign", user=duty, data={"team": system, "assignee": engineer})
    Notification.objects.all().delete()

    sign_in(page, "duty")
    page.goto(page.base_url + f"/incidents/{incident.pk}/")
    resolution = page.locator("#sla-clock-resolution")
    expect(resolution).to_contain_text("10 h 00 min")
    act(page, "reclassify", {"impact": "1", "urgency": "1", "comment": REASON})

    assert Incident.objects.values_list("priority", "state").get(pk=incident.pk) == ("P1", "assigned")
    expect(page.locator(".alert-success")).to_contain_text("Reclassify")
    expect(page.locator(".page-header, .page-title").first).to_contain_text("P1")
    expect(resolution).to_contain_text("2 h 00 min")  # the P1 target, the time already counted kept
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(REASON)
    expect(timeline).to_contain_text(re.compile(r"P3\s*→\s*P1"))

    # The system team is paged as for a new P1.
    paged = set(Notification.objects.filter(event="incident.urgent", channel=Channel.IN_APP)
                .values_list("recipient__username", flat=True))
    assert {"sysadmin", "supervisor"} <= paged
    sign_in(page, "sysadmin")
    page.goto(page.base_url + "/notifications/")
    expect(page.locator("body")).to_contain_text(f"{incident.number} P1 incident")
