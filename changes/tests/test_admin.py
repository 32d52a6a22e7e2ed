"""The change admin: supervisors, change approvers and CAB members work changes in the admin through the
same transition service as the pages — buttons with forms, approval and votes from the change list,
segregation of duties on every path, refusals as messages, frozen approved content, templates, windows,
rules and reviews."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse
from django.utils.functional import Promise

from changes.choices import ChangeType, Decision, RiskLevel, State, TemplateState
from changes.models import ApprovalRule, Change, ChangeReview, ChangeTemplate, ChangeVote, FreezeWindow, RiskQuestion
from changes.tests.factories import (
    STEPS,
    ChangeCrew,
    advance,
    approved_template,
    change_in_state,
    draft_change,
    make_crew,
)
from opscenter.core import roles
from opscenter.core.models import TransitionLog, User
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:changes_change_changelist"


@pytest.fixture
def crew() -> ChangeCrew:
    crew = make_crew()
    people = [crew.requester, crew.supervisor, crew.approver, crew.approver2, *crew.cab, crew.implementer,
              crew.engineer]
    User.objects.filter(pk__in=[u.pk for u in people]).update(is_staff=True)
    for user in people:
        user.is_staff = True
    return crew


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def change_url(change: Change) -> str:
    return reverse("admin:changes_change_change", args=[change.pk])


def transition_url(change: Change, name: str) -> str:
    return reverse("admin:changes_change_transition", args=[change.pk, name])


def form_data(client: Client, change: Change, **edits: Any) -> dict[str, Any]:
    """The change form's current values (the fields the state lets this user edit), with edits."""
    form = client.get(change_url(change)).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v.pk if hasattr(v, "pk") else v) for v in value]
        elif isinstance(field.widget, MultiWidget):  # the date and time of a window
            data[f"{name}_0"], data[f"{name}_1"] = (str(part) for part in field.widget.decompress(value))
        else:
            data[name] = "" if value is None else value
    data.update(edits)
    return data


def press(client: Client, change: Change, transition: str, **edits: Any) -> Any:
    """Press a transition button on the change form, as the browser posts it."""
    return client.post(change_url(change), {**form_data(client, change, **edits),
                                            "_fsm_transition_to": transition}, follow=True)


def decide(client: Client, change: Change, transition: str, **form: Any) -> Any:
    """Press the button, land on the transition's form, and send it."""
    landing = press(client, change, transition)
    if landing.redirect_chain and landing.redirect_chain[-1][0] == transition_url(change, transition):
        return client.post(transition_url(change, transition), form, follow=True)
    return landing


def act(client: Client, changes: list[Change], action: str, **form: Any) -> Any:
    """Choose an action on the change list; with form data, confirm it on the intermediate page."""
    data = {"action": action, "_selected_action": [c.pk for c in changes], "index": "0"}
    if form:
        data.pop("index")
        data.update({"confirm": "yes", **form})
    return client.post(reverse(CHANGELIST), data, follow=True)


def texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def buttons(response: Any) -> set[str]:
    return {t.name for block in response.context["fsm_object_transitions"] for t in block.available_transitions}


def logs(change: Change, transition: str | None = None) -> Any:
    qs = TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Change), object_id=change.pk)
    return qs.filter(transition=transition) if transition else qs


def joint_review(crew: ChangeCrew) -> Change:
    change = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.MAJOR)
    assert change.approval_mode == "joint" and change.cab_member_ids() == {u.pk for u in crew.cab}
    return change


# --- Pages render for the people who use them, in a constant number of queries ---

STATES = [State.DRAFT, State.ASSESSING, State.AWAITING_APPROVAL, State.SCHEDULED, State.IMPLEMENTING,
          State.CLOSED, State.ROLLED_BACK, State.REJECTED]


def test_list_and_change_form_in_every_state_render_for_supervisor_cab_member_and_approver(crew: ChangeCrew) -> None:
    changes = [change_in_state(state, crew, risk=RiskLevel.MAJOR if state == State.AWAITING_APPROVAL else "low")
               for state in STATES]
    for user in (crew.supervisor, crew.cab[0], crew.approver):
        client = client_for(user)
        listing = client.get(reverse(CHANGELIST))
        assert listing.status_code == 200 and listing.context["cl"].result_count == len(STATES)
        for change in changes:
            page = client.get(change_url(change))
            assert page.status_code == 200, (user, change.state)
            assert change.number in page.content.decode()
    vote_page = client_for(crew.cab[0]).get(change_url(changes[2]))
    assert buttons(vote_page) == {"approve", "reject"}


def test_template_and_window_pages_render_by_permission(crew: ChangeCrew) -> None:
    template = approved_template(crew)
    supervisor = client_for(crew.supervisor)
    for name in ("changetemplate", "freezewindow", "maintenancewindow", "riskquestion", "approvalrule",
                 "changereview"):
        assert supervisor.get(reverse(f"admin:changes_{name}_changelist")).status_code == 200, name
    for name in ("changetemplate", "freezewindow", "maintenancewindow", "riskquestion", "changereview"):
        assert supervisor.get(reverse(f"admin:changes_{name}_add")).status_code == 200, name
    assert supervisor.get(reverse("admin:changes_changetemplate_change", args=[template.pk])).status_code == 200
    cab = client_for(crew.cab[0])
    assert cab.get(reverse("admin:changes_changetemplate_add")).status_code == 200  # IT staff propose
    assert cab.get(reverse("admin:changes_freezewindow_add")).status_code == 403
    assert cab.get(reverse("admin:changes_freezewindow_changelist")).status_code == 200
    assert cab.get(reverse("admin:changes_approvalrule_changelist")).status_code == 403


def test_change_list_queries_do_not_grow_with_rows(crew: ChangeCrew, django_assert_num_queries: Any) -> None:
    change_in_state(State.CLOSED, crew)
    client = client_for(crew.cab[0])
    client.get(reverse(CHANGELIST))
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse(CHANGELIST)).status_code == 200
    for state in (State.SCHEDULED, State.AWAITING_APPROVAL, State.DRAFT):
        change_in_state(state, crew)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse(CHANGELIST))
    assert response.context["cl"].result_count == 4


# The user's own and their groups' permissions are two queries (Django's ModelBackend), and their roles one more.
LIST_QUERIES = 8
FORM_QUERIES = 20


def test_change_form_queries_do_not_grow_with_votes_steps_and_timeline(crew: ChangeCrew,
                                                                       django_assert_num_queries: Any) -> None:
    small = change_in_state(State.CLOSED, crew, risk=RiskLevel.MAJOR)
    large = change_in_state(State.CLOSED, crew, risk=RiskLevel.MAJOR, steps=STEPS * 4)
    assert large.votes.count() == 3 and large.steps.count() == 12
    client = client_for(crew.supervisor)
    client.get(change_url(small))
    for change in (small, large):
        with django_assert_num_queries(FORM_QUERIES):
            assert client.get(change_url(change)).status_code == 200


def test_change_form_reads_the_questionnaire_and_the_risk_rules_in_words(crew: ChangeCrew) -> None:
    change = change_in_state(State.SUBMITTED, crew, risk=RiskLevel.MAJOR)
    page = client_for(crew.supervisor).get(change_url(change)).content.decode()
    question = RiskQuestion.objects.order_by("ordering").first()
    heaviest = question.options.order_by("-weight").first()
    assert f"{question.text}: <strong>{heaviest.label}</strong> ({heaviest.weight})" in page
    assert "The rollback has not been tested: at least medium." in page
    assert '{"' not in page.split("risk questionnaire answers", 1)[-1][:400]


# --- Joint review: votes cast in the admin ---

def test_cab_votes_with_the_change_form_buttons_any_rejection_rejects(crew: ChangeCrew) -> None:
    change = joint_review(crew)
    for member in crew.cab[:2]:
        done = decide(client_for(member), change, "approve", comment="同意")
        assert any("is now Awaiting approval" in t for t in texts(done)), texts(done)
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL

    missing = client_for(crew.cab[2]).post(transition_url(change, "reject"), {"comment": ""})
    assert missing.status_code == 200 and missing.context["transition_form"].errors["comment"]
    done = decide(client_for(crew.cab[2]), change, "reject", comment="回退方案未演練")
    change.refresh_from_db()
    assert change.state == State.REJECTED
    votes = list(change.votes.order_by("pk").values_list("voter", "decision", "comment"))
    assert votes == [(crew.cab[0].pk, Decision.APPROVE, "同意"), (crew.cab[1].pk, Decision.APPROVE, "同意"),
                     (crew.cab[2].pk, Decision.REJECT, "回退方案未演練")]
    assert any("Rejected" in t for t in texts(done))


def test_cab_votes_with_the_buttons_all_approve_approves(crew: ChangeCrew) -> None:
    change = joint_review(crew)
    for member in crew.cab:
        decide(client_for(member), change, "approve")
    change.refresh_from_db()
    assert change.state == State.APPROVED and change.votes.filter(decision=Decision.APPROVE).count() == 3


def test_a_member_who_voted_is_told_so_and_nothing_changes(crew: ChangeCrew) -> None:
    change = joint_review(crew)
    client = client_for(crew.cab[0])
    decide(client, change, "approve")
    assert "approve" not in buttons(client.get(change_url(change)))
    again = client.post(transition_url(change, "approve"), {"comment": "again"}, follow=True)
    assert any("already voted" in t for t in texts(again))
    assert change.votes.count() == 1


def test_cab_votes_with_the_list_action_two_approve_one_rejects(crew: ChangeCrew) -> None:
    change = joint_review(crew)
    other = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.MAJOR)
    page = act(client_for(crew.cab[0]), [change, other], "approve_selected")
    assert page.status_code == 200 and b'name="comment"' in page.content
    assert change.number in page.content.decode() and not change.votes.exists()  # confirmation first

    for member in crew.cab[:2]:
        done = act(client_for(member), [change, other], "approve_selected", comment="同意")
        assert any(f"{change.number}: your vote is recorded" in t for t in texts(done)), texts(done)
    without_reason = act(client_for(crew.cab[2]), [change], "reject_selected", comment="")
    assert without_reason.status_code == 200 and without_reason.context["form"].errors["comment"]
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and change.votes.count() == 2

    done = act(client_for(crew.cab[2]), [change], "reject_selected", comment="窗口與月結衝突")
    assert f"{change.number}: Rejected." in texts(done)
    change.refresh_from_db()
    assert change.state == State.REJECTED
    assert list(change.votes.order_by("pk").values_list("decision", flat=True)) == [
        Decision.APPROVE, Decision.APPROVE, Decision.REJECT]

    done = act(client_for(crew.cab[2]), [other], "approve_selected", comment="OK")
    assert f"{other.number}: Approved." in texts(done)
    other.refresh_from_db()
    assert other.state == State.APPROVED and other.votes.filter(decision=Decision.APPROVE).count() == 3


def test_an_approver_approves_with_the_action_and_the_agenda_filter_lists_what_awaits_them(crew: ChangeCrew) -> None:
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    client = client_for(crew.approver)
    agenda = client.get(reverse(CHANGELIST), {"awaiting": "me"})
    assert [c.pk for c in agenda.context["cl"].result_list] == [change.pk]
    done = act(client, [change], "approve_selected", comment="")
    assert f"{change.number}: Approved." in texts(done)
    assert client.get(reverse(CHANGELIST), {"awaiting": "me"}).context["cl"].result_count == 0


# --- Segregation of duties on the change form and the action ---

def test_the_requester_cannot_approve_their_own_change_on_the_form_or_with_the_action(crew: ChangeCrew) -> None:
    crew.requester.groups.add(*roles_groups(roles.CHANGE_APPROVER))
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    client = client_for(crew.requester)
    assert "approve" not in buttons(client.get(change_url(change)))

    pressed = press(client, change, "approve")
    assert any("segregation of duties" in t for t in texts(pressed)), texts(pressed)
    direct = client.post(transition_url(change, "approve"), {"comment": "mine"}, follow=True)
    assert any("segregation of duties" in t for t in texts(direct))
    action = act(client, [change], "approve_selected", comment="mine")
    assert any(t.startswith(f"{change.number}: refused:") and "segregation of duties" in t for t in texts(action))

    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and not change.votes.exists() and not logs(change, "approve")


def test_whoever_approved_cannot_implement(crew: ChangeCrew) -> None:
    crew.engineer.groups.add(*roles_groups(roles.CHANGE_APPROVER))
    change = change_in_state(State.AWAITING_APPROVAL, crew, implementer=None)
    client = client_for(crew.engineer)
    act(client, [change], "approve_selected", comment="OK")
    change.refresh_from_db()
    assert change.state == State.APPROVED
    response = decide(client, change, "schedule", acknowledge_conflicts="on")
    assert any("segregation of duties" in t for t in texts(response)), texts(response)
    change.refresh_from_db()
    assert change.state == State.APPROVED and change.implementer is None


def roles_groups(*names: str) -> Any:
    from django.contrib.auth.models import Group

    return Group.objects.filter(name__in=names)


# --- Assessment, scheduling, the rest of the road ---

def test_the_supervisor_assesses_naming_cab_members_in_the_admin_form(crew: ChangeCrew) -> None:
    change = change_in_state(State.ASSESSING, crew, risk=RiskLevel.HIGH)
    client = client_for(crew.supervisor)
    landing = press(client, change, "assess")
    assert landing.context["transition_form"].fields["cab_members"].queryset.count() == 3

    data = {"necessity": "廠商安全修補", "feasibility": "測試環境已驗證", "assessment": "同意，週六窗口實施",
            "cab_members": [crew.cab[0].pk, crew.cab[1].pk]}
    override = client.post(transition_url(change, "assess"), {**data, "risk_level": "low"}, follow=True)
    assert any("Justify a risk level" in t for t in texts(override))
    change.refresh_from_db()
    assert change.state == State.ASSESSING

    done = client.post(transition_url(change, "assess"), data, follow=True)
    assert any("is now Awaiting approval" in t for t in texts(done))
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and change.approval_mode == "joint"
    assert change.cab_member_ids() == {crew.cab[0].pk, crew.cab[1].pk}
    assert buttons(client_for(crew.cab[0]).get(change_url(change))) == {"approve", "reject"}
    assert "fsm_object_transitions" not in client_for(crew.cab[2]).get(change_url(change)).context or not buttons(
        client_for(crew.cab[2]).get(change_url(change)))


def test_scheduling_shows_the_conflicts_and_needs_them_acknowledged(crew: ChangeCrew) -> None:
    first = change_in_state(State.SCHEDULED, crew)
    second = change_in_state(State.APPROVED, crew, title="ERP patch")
    client = client_for(crew.implementer)
    landing = press(client, second, "schedule")
    html = landing.content.decode()
    assert 'id="conflicts"' in html and first.number in html and "same service" in html

    refused = client.post(transition_url(second, "schedule"), {}, follow=True)
    assert any("acknowledge the conflicts" in t for t in texts(refused))
    second.refresh_from_db()
    assert second.state == State.APPROVED

    client.post(transition_url(second, "schedule"), {"acknowledge_conflicts": "on"})
    second.refresh_from_db()
    assert second.state == State.SCHEDULED and second.conflicts_acknowledged[0]["number"] == first.number
    assert first.number in client.get(change_url(second)).content.decode()


def test_implementation_to_close_through_the_admin_forms(crew: ChangeCrew) -> None:
    change = change_in_state(State.VERIFYING, crew)
    decide(client_for(crew.implementer), change, "complete", report="依計畫完成")
    change.refresh_from_db()
    assert change.state == State.COMPLETED
    decide(client_for(crew.supervisor), change, "close", review="報告已審閱")
    change.refresh_from_db()
    assert change.state == State.CLOSED and change.close_review == "報告已審閱"

    failing = change_in_state(State.IMPLEMENTING, crew)
    decide(client_for(crew.implementer), failing, "fail", what_happened="叢集未能啟動")
    decide(client_for(crew.implementer), failing, "roll_back", rollback_log="02:10 還原快照")
    failing.refresh_from_db()
    assert failing.state == State.ROLLED_BACK and failing.rollback_log == "02:10 還原快照"


@pytest.mark.parametrize(("state", "transition", "expected"), [
    (State.SCHEDULED, "start", "cannot start before its planned window"),
    (State.SCHEDULED, "approve", "not allowed while"),
    (State.DRAFT, "no_such_transition", "not a transition"),
    (State.DRAFT, "require_reapproval", "not a transition"),
])
def test_refused_transitions_are_messages_and_change_nothing(crew: ChangeCrew, state: str, transition: str,
                                                             expected: str) -> None:
    change = change_in_state(state, crew)
    before = logs(change).count()
    client = client_for(crew.supervisor if transition != "start" else crew.implementer)
    response = press(client, change, transition)
    assert response.status_code == 200
    assert any(expected in t for t in texts(response)), texts(response)
    change.refresh_from_db()
    assert change.state == state and logs(change).count() == before
    assert client.get(transition_url(change, "nope")).status_code == 404


def test_cancel_asks_the_reason(crew: ChangeCrew) -> None:
    change = change_in_state(State.SUBMITTED, crew)
    client = client_for(crew.requester)
    landing = press(client, change, "cancel")
    assert landing.context["transition_form"].fields["comment"].required
    client.post(transition_url(change, "cancel"), {"comment": "不再需要"})
    change.refresh_from_db()
    assert change.state == State.CANCELLED and logs(change, "cancel").get().comment == "不再需要"


# --- Edits, the timeline, frozen content ---

def test_editing_approved_content_sends_the_change_back_and_says_so(crew: ChangeCrew) -> None:
    change = change_in_state(State.APPROVED, crew)
    client = client_for(crew.supervisor)
    response = client.post(change_url(change), form_data(client, change, title="ERP 資料庫升級（延期）"), follow=True)
    assert any("awaiting approval again" in t for t in texts(response)), texts(response)
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and change.title == "ERP 資料庫升級（延期）"
    timeline = client.get(change_url(change)).content.decode()
    assert "Send back for approval" in timeline and "ERP 資料庫升級（延期）" in timeline
    assert "Approved → Awaiting approval" in timeline and "require_reapproval" not in timeline


def test_view_only_users_edit_nothing_and_closed_changes_are_read_only(crew: ChangeCrew) -> None:
    change = change_in_state(State.DRAFT, crew)
    assert not client_for(crew.cab[0]).get(change_url(change)).context["adminform"].form.fields
    assert "title" in client_for(crew.requester).get(change_url(change)).context["adminform"].form.fields
    closed = change_in_state(State.CLOSED, crew)
    page = client_for(crew.supervisor).get(change_url(closed))
    assert not page.context["adminform"].form.fields and 'name="_save"' not in page.content.decode()
    html = page.content.decode()
    assert 'id="change-timeline"' in html
    for label in ("Submit the request", "Record assessment", "Approve the change", "Schedule the change",
                  "Start implementation", "Record verification", "Submit the implementation report",
                  "Close the change"):
        assert f"<td>{label}</td>" in html
    assert "<td>Completed → Closed</td>" in html and "completed" not in html.split('id="change-timeline"')[1]


def test_changes_are_neither_added_nor_deleted_in_the_admin(crew: ChangeCrew) -> None:
    change = draft_change(crew)
    client = client_for(crew.supervisor)
    assert client.get(reverse("admin:changes_change_add")).status_code == 403
    assert client.get(reverse("admin:changes_change_delete", args=[change.pk])).status_code == 403


# --- Templates, windows, rules, reviews ---

TEMPLATE_FORM = {"name": "更換 RAID 故障硬碟", "category": "hardware_replacement", "description": "更換硬碟",
                 "purpose": "恢復冗餘", "impact_scope": "無", "risk_assessment": "低", "risk_mitigation": "熱備盤",
                 "steps_text": "確認硬碟\n更換\n觀察重建", "rollback_plan": "裝回原硬碟",
                 "contingency_plan": "聯繫原廠"}


def test_a_template_is_proposed_in_the_admin_and_approved_by_another_supervisor(crew: ChangeCrew) -> None:
    response = client_for(crew.supervisor).post(reverse("admin:changes_changetemplate_add"), TEMPLATE_FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    template = ChangeTemplate.objects.get(name="更換 RAID 故障硬碟")
    assert template.state == TemplateState.PROPOSED and template.steps == ["確認硬碟", "更換", "觀察重建"]

    url = reverse("admin:changes_changetemplate_change", args=[template.pk])
    own = client_for(crew.supervisor).post(url, {"_fsm_transition_to": "approve"}, follow=True)
    assert any("cannot approve it" in t for t in texts(own)), texts(own)
    assert ChangeTemplate.objects.get(pk=template.pk).state == TemplateState.PROPOSED

    other = UserFactory(roles=[roles.SUPERVISOR], is_staff=True)
    client_for(other).post(url, {"_fsm_transition_to": "approve"})
    template = ChangeTemplate.objects.get(pk=template.pk)
    assert template.state == TemplateState.APPROVED and template.approved_by == other
    client_for(other).post(url, {"_fsm_transition_to": "retire"})
    assert ChangeTemplate.objects.get(pk=template.pk).state == TemplateState.RETIRED


def test_a_template_proposal_is_checked(crew: ChangeCrew) -> None:
    approved_template(crew, name="更換 RAID 故障硬碟")
    response = client_for(crew.implementer).post(reverse("admin:changes_changetemplate_add"), TEMPLATE_FORM)
    assert response.status_code == 200
    assert ChangeTemplate.objects.filter(name="更換 RAID 故障硬碟").count() == 1


def test_a_freeze_window_added_in_the_admin_records_who(crew: ChangeCrew) -> None:
    client = client_for(crew.supervisor)
    response = client.post(reverse("admin:changes_freezewindow_add"), {
        "name": "年終結算封網", "starts_at_0": "2026-12-24", "starts_at_1": "00:00:00", "ends_at_0": "2027-01-03",
        "ends_at_1": "23:59:00", "reason": "年終結算"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert FreezeWindow.objects.get().created_by == crew.supervisor
    backwards = client.post(reverse("admin:changes_freezewindow_add"), {
        "name": "x", "starts_at_0": "2026-12-24", "starts_at_1": "00:00:00", "ends_at_0": "2026-12-23",
        "ends_at_1": "00:00:00"})
    assert backwards.status_code == 200 and FreezeWindow.objects.count() == 1


def test_default_cab_members_are_chosen_among_cab_members(crew: ChangeCrew) -> None:
    rule = ApprovalRule.objects.get(risk_level=RiskLevel.MAJOR)
    client = client_for(crew.supervisor)
    url = reverse("admin:changes_approvalrule_change", args=[rule.pk])
    choices = client.get(url).context["adminform"].form.fields["default_cab_members"].queryset
    assert set(choices) == set(crew.cab)
    data = {"risk_level": "major", "min_score": rule.min_score, "mode": "joint", "approvals_required": 1}
    refused = client.post(url, {**data, "default_cab_members": [crew.approver.pk]})
    assert refused.status_code == 200 and not rule.default_cab_members.exists()
    client.post(url, {**data, "default_cab_members": [u.pk for u in crew.cab]})
    assert set(rule.default_cab_members.all()) == set(crew.cab)


def test_a_review_added_in_the_admin_goes_through_its_service(crew: ChangeCrew) -> None:
    change = change_in_state(State.COMPLETED, crew, change_type=ChangeType.EMERGENCY, start_in=timedelta(hours=2))
    data = {"change": change.pk, "held_on": "2026-12-01", "participants": "陳主管、王網絡", "summary": "緊急修補",
            "lessons": "提前備妥", "actions": "更新手冊"}
    assert client_for(crew.cab[0]).post(reverse("admin:changes_changereview_add"), data).status_code == 403
    response = client_for(crew.supervisor).post(reverse("admin:changes_changereview_add"), data)
    assert response.status_code == 302
    assert ChangeReview.objects.get(change=change).recorded_by == crew.supervisor
    advance(change, crew)
    change.refresh_from_db()
    assert change.state == State.CLOSED
    assert ChangeVote.objects.filter(change=change).count() == 1


def test_a_cab_members_change_form_costs_the_same_as_votes_come_in(crew: ChangeCrew,
                                                                    django_assert_num_queries: Any) -> None:
    change = joint_review(crew)
    client = client_for(crew.cab[2])
    client.get(change_url(change))
    with django_assert_num_queries(VOTE_FORM_QUERIES):
        assert buttons(client.get(change_url(change))) == {"approve", "reject"}
    for member in crew.cab[:2]:
        decide(client_for(member), change, "approve")
    with django_assert_num_queries(VOTE_FORM_QUERIES):
        assert buttons(client.get(change_url(change))) == {"approve", "reject"}


VOTE_FORM_QUERIES = 32


# --- The decision panel at the top of the change page ---

def test_the_decision_panel_shows_what_the_approver_decides_on(crew: ChangeCrew) -> None:
    from changes.models import FreezeWindow

    change = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.MAJOR)
    FreezeWindow.objects.create(name="Year-end freeze", starts_at=change.planned_start - timedelta(hours=1),
                                ends_at=change.planned_end + timedelta(hours=1))
    other = change_in_state(State.APPROVED, crew)
    decide(client_for(crew.cab[0]), change, "approve", comment="同意，週六窗口")
    page = client_for(crew.cab[1]).get(change_url(change))
    html = page.content.decode()
    panel = html.split('id="decision-panel"')[1].split("</section>")[0]
    assert html.index('id="decision-panel"') < html.index('id="change_form"')  # above the 4,900 px form
    for text in (change.purpose, change.risk_assessment, "Major", "Year-end freeze", other.number,
                 "1 of 3 approvals", "同意，週六窗口", str(crew.cab[2]), str(crew.requester), str(crew.supervisor),
                 "Approve the change", "Reject the change", "Reason for rejecting"):
        assert text in panel, text
    assert [d["name"] for d in page.context["decision_panel"]["decisions"]] == ["approve", "reject"]


def test_approve_from_the_panel_with_its_comment_and_reject_needs_the_reason(crew: ChangeCrew) -> None:
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    client = client_for(crew.approver)
    refused = client.post(transition_url(change, "reject"), {"comment": ""}, follow=True)
    assert refused.context["transition_form"].errors["comment"]
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL
    done = client.post(transition_url(change, "approve"), {"comment": "Window agreed with the vendor."}, follow=True)
    assert done.redirect_chain[-1][0] == change_url(change)
    assert f"Approve the change: {change.number} is now Approved." in texts(done)
    vote = change.votes.get()
    assert vote.voter == crew.approver and vote.comment == "Window agreed with the vendor."
    assert done.context["decision_panel"]["decisions"] == []


def test_the_panel_is_left_out_of_drafts_and_closed_changes_and_offers_nothing_to_a_reader(crew: ChangeCrew) -> None:
    for state in (State.DRAFT, State.CLOSED):
        page = client_for(crew.supervisor).get(change_url(change_in_state(state, crew)))
        assert page.context["decision_panel"] is None and 'id="decision-panel"' not in page.content.decode()
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    reader = client_for(crew.engineer).get(change_url(change)).context["decision_panel"]
    assert reader["decisions"] == [] and reader["refusal"] == ""


def test_transitions_are_labelled_and_described_in_words_in_both_languages(crew: ChangeCrew) -> None:
    change = change_in_state(State.APPROVED, crew)
    page = client_for(crew.supervisor).get(change_url(change))
    labels = {t.name: (t.label, t.help_text) for block in page.context["fsm_object_transitions"]
              for t in block.available_transitions}
    assert labels["cancel"] == ("Cancel the change",
                                "Withdraw the change before implementation starts, with the reason.")
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hant")
    chinese.force_login(crew.supervisor)
    html = chinese.get(change_url(change)).content.decode()
    assert "取消變更" in html and "Cancel the change" not in html
    # Descriptions are translatable (the catalogue gives them in 繁體中文), never the developers' docstrings.
    for transition in Change._meta.get_field("state").get_all_transitions(Change):
        if not transition.custom.get("internal"):
            assert isinstance(transition.custom.get("description"), Promise), transition.name
    assert "Withdraw the change before implementation starts (the reason" not in html


def test_waiting_for_me_lists_a_supervisors_requests_to_assess_and_reports_to_close(crew: ChangeCrew) -> None:
    to_assess = change_in_state(State.SUBMITTED, crew)
    to_close = change_in_state(State.COMPLETED, crew)
    change_in_state(State.AWAITING_APPROVAL, crew)
    change_in_state(State.CLOSED, crew)
    own = draft_change(crew, requester=crew.supervisor)
    listing = client_for(crew.supervisor).get(reverse(CHANGELIST), {"awaiting": "me"})
    assert {c.pk for c in listing.context["cl"].result_list} == {to_assess.pk, to_close.pk}
    assert "Waiting for me" in listing.content.decode() and own.pk
