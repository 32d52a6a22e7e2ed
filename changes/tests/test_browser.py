"""In Debian's Chromium: a normal high-risk change from request to close, every step clicked by the person
whose step it is — the requester fills the request (變更申請表), the supervisor assesses it with an
engineer's opinion, three CAB members vote in the admin (joint review, 聯合評審; one of them with the change
list's action), the implementer schedules it past a conflict, implements, verifies and reports, and the
supervisor closes it after reviewing the report."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from playwright.sync_api import expect

from changes.choices import RiskLevel, State
from changes.models import Change, RiskQuestion
from changes.tests.factories import change_in_state, make_crew, open_window
from opscenter.core.choices import Criticality
from opscenter.core.models import TransitionLog
from opscenter.core.tests.factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The questionnaire's answers that score 13 (4 + 3 + 2 + 2 + 2): a high risk, so a joint review.
HIGH_RISK_ANSWERS = {
    "How many users does the change affect?": "Several departments",
    "Will the service be interrupted?": "Interrupted inside the maintenance window",
    "Has this change been done before here?": "Once or twice",
    "Was it tested in a test environment?": "Partly",
    "How hard is it to undo?": "Within the window, by hand",
}
STEPS = ["Take a snapshot of the ERP database", "Apply the 16.4 release", "Restart the cluster and check replication"]


# --- What a person does in the browser ---


def sign_in(page, user) -> None:  # noqa: ANN001
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(page.base_url + "/")
    expect(page.locator("#nav-user")).to_have_text(str(user))


def sign_out(page) -> None:  # noqa: ANN001
    page.goto(page.base_url + "/")
    page.get_by_label("Account").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def as_user(page, user, change: Change | None = None) -> None:  # noqa: ANN001
    """Sign the previous person out, sign `user` in, and open the change's page."""
    if page.url.startswith(page.base_url) and "/accounts/login/" not in page.url:
        sign_out(page)
    sign_in(page, user)
    if change is not None:
        open_change(page, change)


def open_change(page, change: Change) -> None:  # noqa: ANN001
    page.goto(f"{page.base_url}/changes/{change.pk}/")


def click_and_wait(page, button) -> None:  # noqa: ANN001
    with page.expect_navigation():
        button.click()
    expect(page.locator(".alert-danger, .errornote, .errorlist")).to_have_count(0)


def act(page, name: str, button: str, *, fill: dict[str, str] | None = None,  # noqa: ANN001
        check: tuple[str, ...] = ()) -> None:
    """Open a transition's form on the change page, fill it in by its labels and press its button."""
    form = page.locator(f"#transition-{name}")
    form.evaluate("el => el.open = true")
    for label, value in (fill or {}).items():
        form.get_by_label(label, exact=True).fill(value)
    for label in check:
        form.get_by_label(label, exact=True).check()
    click_and_wait(page, form.get_by_role("button", name=button, exact=True))


def expect_state(page, label: str) -> None:  # noqa: ANN001
    expect(page.locator("#change-badges .state-badge")).to_have_text(label)


def expect_message(page, text: str) -> None:  # noqa: ANN001
    expect(page.locator(".messages, .messagelist").first).to_contain_text(text)


def vote_in_admin(page, change: Change, comment: str) -> None:  # noqa: ANN001
    """A CAB member approves at the top of the admin change page, with their comment."""
    page.goto(f"{page.base_url}/admin/changes/change/{change.pk}/change/")
    decision = page.locator("#decision-approve")
    decision.get_by_label("Comment (optional)").fill(comment)
    click_and_wait(page, decision.get_by_role("button", name="Approve the change", exact=True))


def vote_with_the_list_action(page, change: Change, comment: str) -> None:  # noqa: ANN001
    """A CAB member selects the change in the admin list of what awaits them, and approves it there."""
    page.goto(f"{page.base_url}/admin/changes/change/?awaiting=me")
    row = page.get_by_role("row").filter(has_text=change.number)
    row.get_by_role("checkbox").check()
    page.get_by_role("combobox", name="Action").select_option(label="Approve selected changes")
    click_and_wait(page, page.get_by_role("button", name="Go"))
    expect(page.locator("#decisions")).to_contain_text(change.number)
    expect(page.locator("#decisions")).to_contain_text("allowed")
    page.get_by_label("Comment").fill(comment)
    click_and_wait(page, page.get_by_role("button", name="Approve selected changes"))


# --- The road ---


def request_the_change(page, crew, service, start) -> Change:  # noqa: ANN001
    """Step 1: the requester fills in the request form, saves the draft and submits it from its page."""
    page.goto(page.base_url + "/changes/new/")
    expect(page.get_by_role("heading", name="Request a change")).to_be_visible()
    form = page.locator("#change-form")
    form.get_by_label("Type", exact=True).select_option(label="Normal")
    form.get_by_label("Category", exact=True).select_option(label="Software upgrade")
    texts = {
        "Title": "Upgrade the ERP database to 16.4",
        "Content": "Apply the 16.4 minor release to the ERP database cluster.",
        "Purpose": "Security fixes from the vendor.",
        "Impact scope": "ERP unavailable for about 30 minutes at night.",
        "Planned start": start.strftime("%Y-%m-%dT%H:%M"),
        "Planned end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "Your risk assessment": "High: the whole cluster restarts, and undoing it is by hand.",
        "Risk mitigation": "Snapshot before; the vendor on call.",
        "Implementation steps": "\n".join(STEPS),
        "Rollback plan": "Restore the pre-change snapshot.",
        "Contingency plan": "Call the vendor's support line; keep the old node warm.",
    }
    for label, value in texts.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("Affected services", exact=True).select_option(label=service.name)
    form.get_by_label("Implementer", exact=True).select_option(label=str(crew.implementer))
    for question, answer in HIGH_RISK_ANSWERS.items():
        form.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    form.get_by_label("The rollback has been tested").check()
    click_and_wait(page, form.get_by_role("button", name="Save as draft"))

    change = Change.objects.get(title="Upgrade the ERP database to 16.4")
    expect_message(page, f"{change.number} was saved as a draft")
    expect_state(page, "Draft")
    expect(page.locator("#implementer")).to_have_text(str(crew.implementer))
    expect(page.locator("#plan-steps .plan-step")).to_have_count(3)

    act(page, "submit", "Submit the request", check=("The request is complete; hand it to the supervisor",))
    expect_message(page, "The change is now “Submitted”")
    expect_state(page, "Submitted")
    expect(page.locator("#risk .risk-badge")).to_have_text("High")
    return change


def assess_with_an_opinion(page, crew, change: Change) -> None:  # noqa: ANN001
    """Step 2: the supervisor takes the request up, asks an engineer's opinion, and assesses it with three
    CAB members named for the joint review."""
    as_user(page, crew.supervisor, change)
    act(page, "start_assessment", "Start assessment", check=("I am taking this request up for assessment",))
    expect_state(page, "Assessing")
    invite = page.locator("#invite-form")
    invite.get_by_label("Ask for the opinion of").select_option(label=str(crew.engineer))
    click_and_wait(page, invite.get_by_role("button", name="Ask for opinions"))
    expect_message(page, "The opinions were asked for.")
    expect(page.locator("#opinions .opinion")).to_contain_text(["Invited, no opinion yet"])

    as_user(page, crew.engineer, change)
    opinion = page.locator("#opinion-form")
    opinion.get_by_label("Recommendation").select_option(label="Support with concerns")
    opinion.get_by_label("Opinion").fill("Fine, but rehearse the restart on the standby node first.")
    click_and_wait(page, opinion.get_by_role("button", name="Give my opinion"))
    expect_message(page, "Your opinion was recorded.")
    expect(page.locator("#opinions .opinion")).to_contain_text(["Support with concerns"])

    as_user(page, crew.supervisor, change)
    expect(page.locator("#opinions .opinion")).to_contain_text(["rehearse the restart"])
    form = page.locator("#transition-assess")
    for member in crew.cab:
        form.get_by_label(str(member), exact=True).check()
    act(page, "assess", "Record assessment", fill={
        "Necessity": "The vendor's security fixes are due.",
        "Feasibility": "Rehearsed in staging; fits the night window.",
        "Assessment opinion": "Proceed after the joint review.",
    })
    expect_message(page, "The change is now “Awaiting approval”")
    expect_state(page, "Awaiting approval")
    expect(page.locator("#cab-votes tbody tr")).to_have_count(3)
    expect(page.locator("#cab-votes")).not_to_contain_text("Approve")


def joint_review_in_the_admin(page, crew, change: Change) -> None:  # noqa: ANN001
    """Step 3: the CAB members vote in the admin; the requester has no approve button on their own change."""
    first, second, third = crew.cab
    as_user(page, first)
    vote_in_admin(page, change, "Agreed; rehearse the restart.")
    expect_message(page, f"Approve the change: {change.number} is now Awaiting approval.")

    as_user(page, crew.requester)  # segregation of duties: the requester cannot vote on their own change
    page.goto(f"{page.base_url}/admin/changes/change/{change.pk}/change/")
    expect(page.get_by_role("heading", name=re.compile("Change change"))).to_be_visible()
    expect(page.get_by_role("button", name="Approve the change", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Reject the change", exact=True)).to_have_count(0)
    expect(page.locator("#decision-refusal")).to_contain_text("segregation of duties")
    open_change(page, change)
    expect(page.locator("#transition-approve")).to_have_count(0)

    as_user(page, second)
    vote_in_admin(page, change, "Agreed.")
    expect_message(page, f"Approve the change: {change.number} is now Awaiting approval.")
    open_change(page, change)  # two of three: still awaiting the last vote
    expect_state(page, "Awaiting approval")
    votes = page.locator("#cab-votes")
    for member in (first, second):
        expect(votes.locator(f'tr[data-member="{member.username}"]')).to_contain_text("Approve")
    expect(votes.locator(f'tr[data-member="{third.username}"]')).to_contain_text("Not voted yet")

    as_user(page, third)
    vote_with_the_list_action(page, change, "Agreed at the CAB meeting.")
    expect_message(page, f"{change.number}: Approved.")
    open_change(page, change)
    expect_state(page, "Approved")
    for member in crew.cab:
        expect(votes.locator(f'tr[data-member="{member.username}"]')).to_contain_text("Approve")
    expect(votes).to_contain_text("Agreed at the CAB meeting.")


def implement(page, crew, change: Change, clash: Change) -> None:  # noqa: ANN001
    """Step 4: the implementer schedules it past the conflict, starts when the window opens, records every
    step, verifies and reports."""
    as_user(page, crew.implementer, change)
    expect(page.locator("#conflicts")).to_contain_text(clash.number)
    expect(page.locator("#schedule-conflicts")).to_be_visible()
    act(page, "schedule", "Schedule", check=("I acknowledge these conflicts",))
    expect_state(page, "Scheduled")
    expect(page.locator("#conflicts")).to_contain_text(clash.number)  # still checked while the window may move

    open_window(change)  # the week until the window opens passes
    open_change(page, change)
    act(page, "start", "Start implementation", check=("The window is open; I am starting the work",))
    expect_state(page, "Implementing")
    expect(page.locator("#conflicts-acknowledged")).to_contain_text(clash.number)
    for position in range(1, len(STEPS) + 1):
        step = page.locator(f'#plan-steps .plan-step[data-position="{position}"]')
        click_and_wait(page, step.get_by_role("button", name="Done", exact=True))
        expect_message(page, f"Step {position} was recorded.")
        expect(step.locator(".badge")).to_have_text("Done")
    act(page, "verify", "Record verification", fill={
        "Function test": "Logins and month-end reports work.",
        "Performance test": "Response times as before the change.",
        "Data integrity test": "Row counts and checksums match the snapshot.",
    })
    expect_state(page, "Verifying")
    act(page, "complete", "Submit the implementation report", fill={
        "Implementation report": "Upgraded to 16.4 in 50 minutes; no incident."})
    expect_state(page, "Completed")


def close(page, crew, change: Change) -> None:  # noqa: ANN001
    """Step 5: the supervisor reviews the report and closes the change."""
    as_user(page, crew.supervisor, change)
    results = page.locator("#results")
    for text in ("Upgraded to 16.4 in 50 minutes", "Row counts and checksums match", "Response times as before"):
        expect(results).to_contain_text(text)
    act(page, "close", "Close the change", fill={"Your review of the report": "Report reviewed; well done."})
    expect_message(page, "The change is now “Closed”")
    expect_state(page, "Closed")
    expect(page.locator("#read-only-notice")).to_be_visible()
    events = page.locator("#timeline .timeline-event")
    for label, person in [("Requested", crew.requester), ("Submit the request", crew.requester),
                          ("Record assessment", crew.supervisor), *[("Approve the change", m) for m in crew.cab],
                          ("Schedule the change", crew.implementer), ("Start implementation", crew.implementer),
                          ("Record verification", crew.implementer),
                          ("Submit the implementation report", crew.implementer),
                          ("Close the change", crew.supervisor)]:
        expect(events.filter(has=page.get_by_text(label, exact=True)).filter(has_text=str(person)).first
               ).to_be_visible()
    expect(events.filter(has=page.get_by_text("Approve the change", exact=True))).to_have_count(3)


def test_a_normal_high_risk_change_from_request_to_close(browser_page) -> None:  # noqa: ANN001
    page = browser_page
    erp = ServiceFactory(name="ERP", criticality=Criticality.MEDIUM)
    crew = make_crew(service=erp)
    for user in (crew.requester, *crew.cab):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    assert set(HIGH_RISK_ANSWERS) == set(RiskQuestion.objects.values_list("text", flat=True))
    start = timezone.localtime(timezone.now() + timedelta(days=7)).replace(hour=22, minute=0, second=0,
                                                                           microsecond=0)
    # Another team's change on the same service in the same night: a conflict to acknowledge.
    clash = change_in_state(State.SCHEDULED, make_crew(service=erp), title="Reindex the ERP search",
                            start_in=start + timedelta(minutes=30) - timezone.now())

    sign_in(page, crew.requester)
    change = request_the_change(page, crew, erp, start)
    assess_with_an_opinion(page, crew, change)
    joint_review_in_the_admin(page, crew, change)
    implement(page, crew, change, clash)
    close(page, crew, change)

    change.refresh_from_db()
    assert (change.state, change.risk_level, change.approval_mode) == (State.CLOSED, RiskLevel.HIGH, "joint")
    assert change.created_by == crew.requester and change.implementer == crew.implementer
    assert change.opinions.get().reviewer == crew.engineer
    votes = change.votes.filter(round=1)
    assert sorted(votes.values_list("voter_id", "decision")) == sorted((m.pk, "approve") for m in crew.cab)
    assert change.votes.count() == 3
    logs = TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Change), object_id=change.pk)
    assert Counter(logs.values_list("transition", flat=True)) == {
        "create": 1, "submit": 1, "start_assessment": 1, "assess": 1, "approve": 3, "schedule": 1, "start": 1,
        "verify": 1, "complete": 1, "close": 1}
    assert set(logs.filter(transition="approve").values_list("actor_id", flat=True)) == {m.pk for m in crew.cab}
    assert not change.cab_members.filter(pk__in=[crew.requester.pk, crew.implementer.pk]).exists()


def test_an_approver_approves_from_the_top_of_the_admin_page(browser_page) -> None:  # noqa: ANN001
    """The approver reads what they decide on at the top of the admin change page and approves there, with
    their comment; the change is approved and the vote keeps the comment."""
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    crew = make_crew()
    crew.approver.is_staff = True
    crew.approver.save(update_fields=["is_staff"])
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    sign_in(page, crew.approver)
    page.goto(f"{page.base_url}/admin/changes/change/{change.pk}/change/")
    panel = page.locator("#decision-panel")
    expect(panel).to_be_in_viewport()
    expect(panel.locator("#decision-purpose")).to_have_text(change.purpose)
    expect(panel.locator("#decision-assessor")).to_contain_text(str(crew.supervisor))
    expect(panel.locator("#decision-requester")).to_have_text(str(crew.requester))
    expect(panel.locator("#decision-votes")).to_contain_text("0 of 1 approval")
    approve = panel.locator("#decision-approve")
    expect(approve.get_by_role("button", name="Approve the change", exact=True)).to_be_in_viewport()
    expect(panel.locator("#decision-reject").get_by_label("Reason for rejecting")).to_be_visible()
    approve.get_by_label("Comment (optional)").fill("Window agreed with the vendor.")
    click_and_wait(page, approve.get_by_role("button", name="Approve the change", exact=True))
    expect_message(page, f"Approve the change: {change.number} is now Approved.")
    expect(page.locator("#decision-votes")).to_contain_text("Window agreed with the vendor.")
    expect(page.locator("#decision-actions")).to_have_count(0)
    change.refresh_from_db()
    assert change.state == State.APPROVED
    assert change.votes.get().comment == "Window agreed with the vendor."


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_admin_lists_of_tickets_fit_beside_the_menus_at_1366_pixels(browser_page, language) -> None:  # noqa: ANN001
    """The supervisor's admin lists of changes and incidents: every number on one line, the table no wider than
    its box (no column behind a scroll bar), the dates in the pages' format, in both languages."""
    from incidents.services import incident_report
    from opscenter.core.formatting import local_datetime
    from opscenter.core.testing import browser

    page = browser_page
    crew = make_crew()
    crew.supervisor.is_staff = True
    crew.supervisor.save(update_fields=["is_staff"])
    change_in_state(State.AWAITING_APPROVAL, crew, title="緊急調整 ERP 應用連線池參數")
    incident = incident_report(recorder=crew.supervisor, data={
        "title": "財務部印表機再次卡單，列印工作全部停住", "description": "Jammed", "impact_scope": "Finance",
        "occurred_at": timezone.now(), "channel": "phone", "caller_name": "Ms Lin"})

    page.set_viewport_size({"width": 1366, "height": 768})
    browser.sign_in(page, crew.supervisor, language)
    for path in ("/admin/changes/change/", "/admin/incidents/incident/"):
        page.goto(page.base_url + path)
        geometry = page.evaluate("""() => { const box = document.querySelector('.results');
            return {table: box.scrollWidth, room: box.clientWidth,
                    lines: [...document.querySelectorAll('#result_list .field-number a')]
                           .map(a => a.getClientRects().length)} }""")
        assert geometry["table"] <= geometry["room"] + 1, (path, geometry)
        assert geometry["lines"] and set(geometry["lines"]) == {1}, (path, geometry)
    assert local_datetime(incident.created_at) in page.locator("#result_list").inner_text()
