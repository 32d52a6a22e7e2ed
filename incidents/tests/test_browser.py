"""In Debian's Chromium: a phone report worked end to end, signed off, and read by the department."""

import pytest

from incidents.models import Category, Incident
from opscenter.core.models import Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "demo-pass-2"


@pytest.fixture
def browser_page(browser_page):  # noqa: ANN001, ANN201
    from opscenter.core.demo import seed_organisation

    seed_organisation(PASSWORD)
    return browser_page


def sign_in(page, username: str) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(page.base_url + "/")


def act(page, name: str, fields: dict[str, str] | None = None, checks: tuple[str, ...] = ()) -> None:  # noqa: ANN001
    """Open the transition's form on the detail page, fill it in and submit it."""
    form = page.locator(f"#transition-{name}")
    form.evaluate("el => el.open = true")
    for field, value in (fields or {}).items():
        control = form.locator(f'[name="{name}-{field}"]')
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    for field in checks:
        form.locator(f'[name="{name}-{field}"]').check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").all_inner_texts()


def state_of(incident: Incident) -> str:
    return Incident.objects.values_list("state", flat=True).get(pk=incident.pk)


def test_phone_report_worked_to_resolution_approved_and_seen_closed_by_the_department(browser_page) -> None:  # noqa: ANN001
    page = browser_page
    finance, engineer = User.objects.get(username="finance"), User.objects.get(username="sysadmin")
    system_team = Team.objects.get(code="system")

    # The duty officer records a phone call from the finance department.
    sign_in(page, "duty")
    page.goto(page.base_url + "/incidents/report/")
    # The caller is found by typing part of the name: the suggestions come from the server as one types.
    page.locator('[name="caller"]').press_sequentially("financ")
    page.wait_for_selector('#caller-options option[value="finance"]', state="attached")
    page.fill('[name="caller"]', finance.username)
    page.select_option('[name="channel"]', "phone")
    page.fill('[name="title"]', "ERP login fails for the finance department")
    page.fill('[name="description"]', "Every login ends with 'session expired'.")
    page.fill('[name="impact_scope"]', "All 30 users of the finance department")
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    incident = Incident.objects.get(title="ERP login fails for the finance department")
    assert (incident.caller, incident.created_by.username, incident.channel) == (finance, "duty", "phone")
    assert incident.number in page.content()

    software = Category.objects.get(code="software")
    act(page, "classify", {"category": str(software.pk), "impact": "2", "urgency": "2"})
    act(page, "assign", {"team": str(system_team.pk), "assignee": str(engineer.pk)})
    assert state_of(incident) == "assigned"

    # The engineer works it through every step.
    sign_in(page, "sysadmin")
    page.goto(page.base_url + f"/incidents/{incident.pk}/")
    act(page, "start_diagnosis", checks=("confirm",))
    act(page, "start_handling", {"cause": "Expired SSO certificate", "scope": "ERP sign-in only"})
    act(page, "restore", {"measures": "Renewed the certificate and restarted the SSO service"})
    act(page, "confirm_recovery", {"function_note": "Logins work", "performance_note": "Normal response",
                                   "data_note": "No data lost", "resolution": "Certificate renewed"},
        checks=("function_ok", "performance_ok", "data_ok"))
    assert state_of(incident) == "resolved"
    act(page, "submit_report", {"cause": "Certificate expiry not monitored", "process": "Diagnosed, renewed",
                                "measures": "Expiry monitoring added", "result": "Service restored in 40 min"})
    assert state_of(incident) == "under_review"

    # The supervisor approves the report.
    sign_in(page, "supervisor")
    page.goto(page.base_url + f"/incidents/{incident.pk}/")
    act(page, "approve_report", checks=("confirm",))
    assert state_of(incident) == "closed"

    # The finance department sees it closed.
    sign_in(page, "finance")
    page.goto(page.base_url + "/incidents/?queue=all")
    assert incident.number in page.content()
    page.goto(page.base_url + f"/incidents/{incident.pk}/")
    assert "Closed" in page.locator("body").inner_text()
    assert page.locator("details.transition-action").count() == 0


def test_the_duty_officer_sees_a_new_p1_first_on_the_home_page_with_its_time_to_assign(browser_page) -> None:  # noqa: ANN001
    from django.utils import timezone

    from incidents.panels import PANEL_ROWS
    from incidents.services import incident_report, incident_transition

    page = browser_page
    duty, software = User.objects.get(username="duty"), Category.objects.get(code="software")
    # Older work fills the panel: more P3s waiting for a team than it has rows.
    for n in range(PANEL_ROWS + 2):
        incident = incident_report(recorder=duty, data={
            "title": f"Printer {n} jams", "description": "Paper jam", "impact_scope": "One floor",
            "occurred_at": timezone.now(), "channel": "phone", "caller_name": "Ms Lin"})
        incident_transition(incident, "classify", user=duty,
                            data={"category": software, "impact": 2, "urgency": 2})

    # A phone call: the core network is down for everyone, at once.
    sign_in(page, "duty")
    page.goto(page.base_url + "/incidents/report/")
    page.select_option('[name="channel"]', "phone")
    page.fill('[name="caller_name"]', "Mr Chen")
    page.fill('[name="title"]', "Core switch down")
    page.fill('[name="description"]', "No one reaches any server.")
    page.fill('[name="impact_scope"]', "The whole centre")
    page.select_option('[name="impact"]', "1")
    page.select_option('[name="urgency"]', "1")
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    p1 = Incident.objects.get(title="Core switch down")
    assert p1.priority == "P1" and p1.assign_due_at

    page.goto(page.base_url + "/")
    first = page.locator("#panel-incidents-dispatch tbody tr").first
    assert p1.number in first.inner_text()
    assert "P1" in first.inner_text() and "Assign by" in first.inner_text()
    assert timezone.localtime(p1.assign_due_at).strftime("%H:%M") in first.inner_text()
    assert "min left" in first.locator(".time-left").inner_text()


def test_an_english_engineer_reads_in_english_what_a_chinese_duty_officer_did(browser_page) -> None:  # noqa: ANN001
    page = browser_page
    engineer, finance = User.objects.get(username="sysadmin"), User.objects.get(username="finance")
    User.objects.filter(pk=engineer.pk).update(language="en")
    system_team = Team.objects.get(code="system")

    # The duty officer works in 繁體中文 (the switch is remembered for them) and assigns a fault.
    sign_in(page, "duty")
    page.select_option("#language-select", "zh-hant")
    page.wait_for_selector('html[lang="zh-Hant"]')
    assert User.objects.get(username="duty").language == "zh-hant"
    page.goto(page.base_url + "/incidents/report/")
    page.fill('[name="caller"]', finance.username)
    page.select_option('[name="channel"]', "phone")
    page.fill('[name="title"]', "ERP login fails")
    page.fill('[name="description"]', "Every login ends with 'session expired'.")
    page.fill('[name="impact_scope"]', "Finance department")
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    incident = Incident.objects.get(title="ERP login fails")
    act(page, "classify", {"category": str(Category.objects.get(code="software").pk), "impact": "2", "urgency": "2"})
    act(page, "assign", {"team": str(system_team.pk), "assignee": str(engineer.pk)})
    incident.refresh_from_db()

    # The engineer, on a browser whose cookie still says 繁體中文, reads it in English.
    sign_in(page, "sysadmin")
    page.context.add_cookies([{"name": "django_language", "value": "zh-hant", "url": page.base_url}])
    page.goto(page.base_url + "/notifications/")
    assert page.locator("html").get_attribute("lang") == "en"
    notice = page.locator("#inbox .list-group-item").filter(has_text=incident.number).first
    text = notice.inner_text()
    assert f"{incident.priority} {incident.number} assigned to you: ERP login fails" in text
    assert "By: 李值班" in text and "已指派" not in text
    with page.expect_navigation():
        page.locator("#inbox-tickets a").filter(has_text=incident.number).click()
    assert f"ticket={incident.number}" in page.url
    with page.expect_navigation():
        page.locator("#mark-all-read button").click()
    assert page.locator("#inbox .badge").count() == 0  # this ticket's notifications read
    with page.expect_navigation():
        page.locator("#inbox a").filter(has_text="assigned to you").first.click()
    assert page.url.endswith(f"/incidents/{incident.pk}/")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_queue_with_long_titles_fits_its_card_at_1366_pixels(browser_page, language) -> None:  # noqa: ANN001
    """A title links to its incident and wraps like text: long ones (the demo's printer faults) do not push the
    table wider than the window, so the Reported column is not cut off behind a scroll bar; the search box shows its
    placeholder whole."""
    from django.utils import timezone

    from incidents.services import incident_report, incident_transition
    from opscenter.core.testing import browser

    page = browser_page
    duty, software = User.objects.get(username="duty"), Category.objects.get(code="software")
    for title in ("財務部印表機佇列卡住，無法列印憑證，月結報表印不出來", "財務部印表機再次卡單，列印工作全部停住",
                  "The ERP month-end batch stops half-way and leaves the ledgers of every branch locked"):
        incident = incident_report(recorder=duty, data={
            "title": title, "description": "Jammed", "impact_scope": "Finance", "occurred_at": timezone.now(),
            "channel": "phone", "caller_name": "Ms Lin"})
        incident_transition(incident, "classify", user=duty, data={"category": software, "impact": 2, "urgency": 2})

    page.set_viewport_size({"width": 1366, "height": 768})
    browser.sign_in(page, duty, language, password=PASSWORD)
    for queue in ("unassigned", "open"):
        page.goto(page.base_url + f"/incidents/?queue={queue}")
        width = page.evaluate("""() => { const t = document.querySelector('#incident-table');
            return {table: t.scrollWidth, room: t.parentElement.clientWidth} }""")
        assert width["table"] <= width["room"] + 1, (queue, width)
        assert page.locator("#incident-table a.incident-title").first.evaluate(
            "a => getComputedStyle(a).whiteSpace") == "normal"
        # The search box shows what it asks for whole.
        need, room = page.locator('#queue-filters input[name="q"]').evaluate("""q => {
            const style = getComputedStyle(q), text = document.createElement('canvas').getContext('2d');
            text.font = style.fontSize + ' ' + style.fontFamily;
            return [text.measureText(q.placeholder).width,
                    q.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)] }""")
        assert need <= room + 0.5, (queue, need, room)
