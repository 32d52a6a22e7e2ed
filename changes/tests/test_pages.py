"""The change pages as people use them: the queues, request and edit, the detail page with its transition
forms, opinions, steps and review, the CAB agenda — per role, with refusals, SoD, escaping, visibility and
pinned query counts."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from changes.choices import ChangeType, RiskLevel, State, StepStatus
from changes.models import Change, ChangeOpinion, ChangeVote, RiskQuestion
from changes.services import change_update
from changes.tests.factories import (
    STEPS,
    approved_template,
    change_in_state,
    draft_change,
    make_crew,
)
from opscenter.core import roles
from opscenter.core.testing.pages import html, page_messages, signed_in
from opscenter.core.tests.factories import ConfigurationItemFactory, DepartmentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/changes/"
NEW = "/changes/new/"
FROM_TEMPLATE = "/changes/new/from-template/"
CAB = "/changes/cab/"


def detail_url(change: Change) -> str:
    return f"/changes/{change.pk}/"


def transition_url(change: Change, name: str) -> str:
    return f"/changes/{change.pk}/transitions/{name}/"


@pytest.fixture
def crew():  # noqa: ANN201
    return make_crew()


def joint_review(crew) -> Change:  # noqa: ANN001
    """A high-risk change awaiting the votes of the three named CAB members."""
    return change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)


# --- Rendering per role ---------------------------------------------------------------------------------


def test_detail_renders_for_every_role_that_sees_the_change(crew) -> None:  # noqa: ANN001
    change = joint_review(crew)
    for user in (crew.requester, crew.supervisor, crew.approver, crew.cab[0], crew.implementer, crew.engineer):
        response = signed_in(user).get(detail_url(change))
        assert response.status_code == 200, user
        body = html(response)
        assert change.number in body and "Joint review" in body


def test_queues_per_role(crew) -> None:  # noqa: ANN001
    awaiting = joint_review(crew)
    mine = draft_change(crew, title="My own draft")
    body = html(signed_in(crew.cab[0]).get(LIST))  # a CAB member starts on what awaits their vote
    assert awaiting.number in body and mine.number not in body
    assert 'data-queue="approval"' in body
    body = html(signed_in(crew.requester).get(LIST, {"queue": "requested"}))
    assert awaiting.number in body and mine.number in body
    body = html(signed_in(crew.implementer).get(LIST, {"queue": "implementing"}))
    assert awaiting.number in body
    body = html(signed_in(crew.engineer).get(LIST, {"queue": "approval"}))  # not their queue: the default one
    assert 'data-queue="approval"' not in body
    # once voted, the change leaves the member's queue
    signed_in(crew.cab[0]).post(transition_url(awaiting, "approve"), {"approve-comment": "ok"})
    assert awaiting.number not in html(signed_in(crew.cab[0]).get(LIST, {"queue": "approval"}))
    assert awaiting.number in html(signed_in(crew.cab[1]).get(LIST, {"queue": "approval"}))


def test_filters_and_sort(crew) -> None:  # noqa: ANN001
    high = joint_review(crew)
    other_service = ServiceFactory()
    low = draft_change(crew, title="Swap a switch", services=[other_service])
    client = signed_in(crew.supervisor)
    body = html(client.get(LIST, {"queue": "all", "risk_level": high.risk_level}))
    assert high.number in body and low.number not in body
    body = html(client.get(LIST, {"queue": "all", "service": other_service.pk}))
    assert low.number in body and high.number not in body
    body = html(client.get(LIST, {"queue": "all", "state": "draft", "change_type": "normal"}))
    assert low.number in body and high.number not in body
    response = client.get(LIST, {"queue": "all", "sort": "-risk"})
    assert [c.pk for c in response.context["page"]] == [high.pk, low.pk]
    assert client.get(LIST, {"queue": "all", "risk_level": "bogus", "page": "x"}).status_code == 200


def _request_post(crew, **overrides) -> dict:  # noqa: ANN001, ANN003
    start = timezone.localtime() + timedelta(days=7)
    data = {
        "change_type": "normal", "category": "software_upgrade", "title": "Patch the ERP <b>now</b>",
        "description": "Apply 16.4", "purpose": "Security", "impact_scope": "ERP down 30 min",
        "services": [crew.service.pk], "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
        "planned_end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "risk_assessment": "Low", "risk_mitigation": "Snapshot", "rollback_tested": "on",
        "implementer": crew.implementer.pk, "steps": "Snapshot\n\nApply\nRestart\n",
        "rollback_plan": "Restore", "contingency_plan": "Vendor",
    }
    for question in RiskQuestion.objects.filter(is_active=True).prefetch_related("options"):
        data[f"risk_q_{question.pk}"] = question.options.all()[0].pk
    data.update(overrides)
    return data


def test_request_a_change_saves_a_draft_with_its_steps_and_answers(crew) -> None:  # noqa: ANN001
    client = signed_in(crew.requester)
    form = html(client.get(NEW))
    assert 'type="radio"' in form and "Implementation steps" in form
    response = client.post(NEW, _request_post(crew))
    change = Change.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(change)
    assert change.state == State.DRAFT and change.created_by == crew.requester
    assert list(change.steps.values_list("description", flat=True)) == ["Snapshot", "Apply", "Restart"]
    assert len(change.risk_answers) == RiskQuestion.objects.filter(is_active=True).count()
    assert list(change.services.all()) == [crew.service] and change.implementer == crew.implementer
    page = signed_in(crew.requester).get(detail_url(change))
    assert "Patch the ERP &lt;b&gt;now&lt;/b&gt;" in html(page) and "<b>now</b>" not in html(page)
    assert "transition-submit" in html(page)


def test_request_form_refuses_bad_input_and_changes_nothing(crew) -> None:  # noqa: ANN001
    client = signed_in(crew.requester)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(NEW, _request_post(crew, planned_start=past))
    assert response.status_code == 400 and "cannot start in the past" in html(response)
    response = client.post(NEW, _request_post(crew, planned_end=_request_post(crew)["planned_start"]))
    assert response.status_code == 400 and "must end after it starts" in html(response)
    response = client.post(NEW, _request_post(crew, title="", purpose=""))
    assert response.status_code == 400 and 'id="form-errors"' in html(response)
    assert not Change.objects.exists()


def test_request_offers_only_the_cis_the_user_may_see(crew) -> None:  # noqa: ANN001
    finance = DepartmentFactory()
    own = ServiceFactory(owner_department=finance)
    visible, hidden = ConfigurationItemFactory(), ConfigurationItemFactory()
    visible.services.add(own)
    dept_user = UserFactory(roles=[roles.DEPARTMENT_USER], department=finance)
    client = signed_in(dept_user)
    body = html(client.get(NEW))
    assert visible.name in body and hidden.name not in body
    response = client.post(NEW, _request_post(crew, configuration_items=[hidden.pk], services=[own.pk],
                                              implementer=""))
    assert response.status_code == 400 and not Change.objects.exists()
    client.post(NEW, _request_post(crew, configuration_items=[visible.pk], services=[own.pk], implementer=""))
    assert list(Change.objects.get().configuration_items.all()) == [visible]


def test_auditor_may_read_but_not_request(crew, make_user) -> None:  # noqa: ANN001
    auditor = make_user(roles.AUDITOR)
    change = joint_review(crew)
    client = signed_in(auditor)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _request_post(crew)).status_code == 403
    assert client.get(FROM_TEMPLATE).status_code == 403
    body = html(client.get(detail_url(change)))
    assert "comment-form" not in body and "transition-approve" not in body
    assert client.post(f"/changes/{change.pk}/comments/", {"body": "x"}).status_code == 403
    assert Change.objects.count() == 1


def test_standard_change_from_an_approved_template(crew) -> None:  # noqa: ANN001
    template = approved_template(crew)
    client = signed_in(crew.requester)
    assert template.name in html(client.get(FROM_TEMPLATE))
    start = timezone.localtime() + timedelta(days=3)
    response = client.post(FROM_TEMPLATE, {
        "template": template.pk, "title": "Disk in rack 4", "services": [crew.service.pk],
        "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
        "planned_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    change = Change.objects.get()
    assert response.status_code == 302 and change.change_type == ChangeType.STANDARD
    assert change.steps.count() == 3
    response = client.post(transition_url(change, "submit"), {"submit-confirm": "on"}, follow=True)
    change.refresh_from_db()
    assert change.state == State.APPROVED and "is now “Approved”" in " ".join(page_messages(response))


def test_editing_approved_content_sends_the_change_back(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    client = signed_in(crew.requester)
    page = html(client.get(f"/changes/{change.pk}/edit/"))
    assert 'id="frozen-notice"' in page and "sends it back to awaiting approval" in page
    assert 'name="change_type"' not in page  # not editable once submitted
    response = client.post(f"/changes/{change.pk}/edit/", {
        "title": change.title, "category": change.category, "description": "Apply 16.5 instead",
        "purpose": change.purpose,
        "impact_scope": change.impact_scope, "services": [crew.service.pk],
        "planned_start": timezone.localtime(change.planned_start).strftime("%Y-%m-%dT%H:%M"),
        "planned_end": timezone.localtime(change.planned_end).strftime("%Y-%m-%dT%H:%M"),
        "risk_assessment": change.risk_assessment, "risk_mitigation": change.risk_mitigation,
        "steps": "\n".join(STEPS), "rollback_plan": change.rollback_plan, "contingency_plan": change.contingency_plan,
    }, follow=True)
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and change.approval_round == 2
    assert "awaiting approval again" in " ".join(page_messages(response))
    body = html(response)
    assert "Apply 16.5 instead" in body and "text-decoration-line-through" in body  # the diff on the timeline
    assert "Round 1" in body  # the earlier round, folded


def test_edit_is_refused_to_others_and_after_implementation(crew) -> None:  # noqa: ANN001
    change = draft_change(crew)
    assert signed_in(crew.engineer).get(f"/changes/{change.pk}/edit/").status_code == 403
    closed = change_in_state(State.CLOSED, crew)
    assert signed_in(crew.requester).get(f"/changes/{closed.pk}/edit/").status_code == 403
    assert "edit-change" not in html(signed_in(crew.requester).get(detail_url(closed)))


# --- Transitions and segregation of duties -----------------------------------------------------------------


def test_requester_has_no_approve_form_and_a_forged_post_is_refused(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    client = signed_in(crew.requester)
    body = html(client.get(detail_url(change)))
    assert "transition-approve" not in body and "transition-reject" not in body
    response = client.post(transition_url(change, "approve"), {"approve-comment": "self-approved"})
    assert response.status_code == 403
    assert "segregation of duties" in " ".join(page_messages(response))
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and not ChangeVote.objects.exists()


def test_joint_review_votes_show_who_when_and_what(crew) -> None:  # noqa: ANN001
    change = joint_review(crew)
    first, second, third = crew.cab
    response = signed_in(first).post(transition_url(change, "approve"), {"approve-comment": "Fine <i>by me</i>"},
                                     follow=True)
    assert "is now “Awaiting approval”" in " ".join(page_messages(response))
    body = html(signed_in(crew.supervisor).get(detail_url(change)))
    assert "Fine &lt;i&gt;by me&lt;/i&gt;" in body and body.count("Not voted yet") == 2
    # voting twice: no form, and a forged post is refused
    assert "transition-approve" not in html(signed_in(first).get(detail_url(change)))
    response = signed_in(first).post(transition_url(change, "approve"), {})
    assert response.status_code == 409 and "already voted" in " ".join(page_messages(response))
    # a change approver who is not a named member cannot vote in a joint review
    response = signed_in(crew.approver).post(transition_url(change, "approve"), {})
    assert response.status_code == 403
    # rejecting needs the reason, and any rejection rejects
    response = signed_in(second).post(transition_url(change, "reject"), {"reject-comment": ""})
    assert response.status_code == 400
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL
    signed_in(second).post(transition_url(change, "reject"), {"reject-comment": "Not this month."})
    change.refresh_from_db()
    assert change.state == State.REJECTED and ChangeVote.objects.filter(change=change).count() == 2


def test_assessment_records_risk_override_and_names_the_cab(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.ASSESSING, crew)
    client = signed_in(crew.supervisor)
    body = html(client.get(detail_url(change)))
    assert "transition-assess" in body and crew.cab[0].username in body or str(crew.cab[0]) in body
    data = {"assess-necessity": "Needed", "assess-feasibility": "Fine", "assess-assessment": "Go",
            "assess-risk_level": "high", "assess-override_reason": ""}
    response = client.post(transition_url(change, "assess"), data)
    assert response.status_code == 400 and "Justify a risk level" in html(response)
    change.refresh_from_db()
    assert change.state == State.ASSESSING
    data.update({"assess-override_reason": "Quarter close", "assess-cab_members": [u.pk for u in crew.cab]})
    client.post(transition_url(change, "assess"), data)
    change.refresh_from_db()
    assert change.state == State.AWAITING_APPROVAL and change.risk_level == "high"
    body = html(client.get(detail_url(change)))
    assert "Quarter close" in body and 'id="cab-votes"' in body and body.count('class="cab-member"') == 3


def test_engineer_may_not_take_supervisor_transitions(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.SUBMITTED, crew)
    response = signed_in(crew.engineer).post(transition_url(change, "start_assessment"),
                                             {"start_assessment-confirm": "on"})
    assert response.status_code == 403
    response = signed_in(crew.supervisor).post(transition_url(change, "send_back"), {"send_back-comment": ""})
    assert response.status_code == 400
    change.refresh_from_db()
    assert change.state == State.SUBMITTED
    assert signed_in(crew.supervisor).post(transition_url(change, "nonsense"), {}).status_code == 400


def test_opinions_invited_and_given(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.ASSESSING, crew)
    client = signed_in(crew.supervisor)
    assert 'id="invite-form"' in html(client.get(detail_url(change)))
    assert 'id="invite-form"' not in html(signed_in(crew.engineer).get(detail_url(change)))
    response = signed_in(crew.engineer).post(f"/changes/{change.pk}/opinions/invite/",
                                             {"reviewers": [crew.implementer.pk]})
    assert response.status_code == 403 and not ChangeOpinion.objects.exists()
    client.post(f"/changes/{change.pk}/opinions/invite/", {"reviewers": [crew.engineer.pk]})
    body = html(signed_in(crew.engineer).get(detail_url(change)))
    assert 'id="opinion-form"' in body and "Invited, no opinion yet" in body
    reviewer = signed_in(crew.engineer)
    response = reviewer.post(f"/changes/{change.pk}/opinions/", {"opinion-recommendation": "concerns",
                                                                 "opinion-opinion": ""})
    assert response.status_code == 400
    reviewer.post(f"/changes/{change.pk}/opinions/", {"opinion-recommendation": "concerns",
                                                      "opinion-opinion": "Check the <script>x</script> backup"})
    body = html(reviewer.get(detail_url(change)))
    assert "Support with concerns" in body and "&lt;script&gt;x&lt;/script&gt;" in body
    assert 'id="opinion-form"' not in body
    response = reviewer.post(f"/changes/{change.pk}/opinions/", {"opinion-recommendation": "support",
                                                                 "opinion-opinion": "again"})
    assert response.status_code == 409


def test_schedule_needs_conflicts_acknowledged(crew) -> None:  # noqa: ANN001
    first = change_in_state(State.SCHEDULED, crew)
    change = change_in_state(State.APPROVED, crew, title="Second on the same service")
    client = signed_in(crew.implementer)
    body = html(client.get(detail_url(change)))
    assert 'id="conflicts"' in body and first.number in body and "same service" in body
    assert "I acknowledge these conflicts" in body
    response = client.post(transition_url(change, "schedule"), {})
    assert response.status_code == 409 and "acknowledge the conflicts" in " ".join(page_messages(response))
    change.refresh_from_db()
    assert change.state == State.APPROVED
    client.post(transition_url(change, "schedule"), {"schedule-acknowledge_conflicts": "on"})
    change.refresh_from_db()
    assert change.state == State.SCHEDULED
    body = html(client.get(detail_url(change)))
    assert first.number in body  # the schedule check still lists the conflict


def test_approver_may_not_implement(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew, implementer=None)
    response = signed_in(crew.approver).post(transition_url(change, "schedule"), {})
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.state == State.APPROVED


def test_steps_are_recorded_while_implementing(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.IMPLEMENTING, crew)
    client = signed_in(crew.implementer)
    body = html(client.get(detail_url(change)))
    assert body.count('class="row g-2 mt-1 ms-3 step-form"') == 3
    assert "Every implementation step must be done" in body  # verify blocked, with the reason
    response = client.post(f"/changes/{change.pk}/steps/", {"position": 2, "status": "skipped", "note": ""})
    assert response.status_code == 400 and "Say why the step was skipped" in html(response)
    assert signed_in(crew.engineer).post(f"/changes/{change.pk}/steps/",
                                         {"position": 1, "status": "done"}).status_code == 403
    client.post(f"/changes/{change.pk}/steps/", {"position": 1, "status": "done"})
    client.post(f"/changes/{change.pk}/steps/", {"position": 2, "status": "skipped", "note": "Not needed"})
    client.post(f"/changes/{change.pk}/steps/", {"position": 3, "status": "done"})
    assert list(change.steps.values_list("status", flat=True)) == [StepStatus.DONE, StepStatus.SKIPPED,
                                                                  StepStatus.DONE]
    response = client.post(f"/changes/{change.pk}/steps/", {"position": 3, "status": "done"})
    assert response.status_code == 409
    response = client.post(transition_url(change, "verify"), {
        "verify-function": "ok", "verify-performance": "ok", "verify-data_integrity": "ok"}, follow=True)
    change.refresh_from_db()
    assert change.state == State.VERIFYING and "Not needed" in html(response)


def test_failed_change_needs_review_before_close(crew) -> None:  # noqa: ANN001
    change = change_in_state(State.ROLLED_BACK, crew)
    client = signed_in(crew.supervisor)
    body = html(client.get(detail_url(change)))
    assert 'id="review-form"' in body and "post-implementation review before they close" in body
    assert signed_in(crew.engineer).post(f"/changes/{change.pk}/reviews/", {}).status_code == 403
    response = client.post(f"/changes/{change.pk}/reviews/", {"review-held_on": "2026-01-05"})
    assert response.status_code == 400 and not change.reviews.exists()
    client.post(f"/changes/{change.pk}/reviews/", {
        "review-held_on": "2026-01-05", "review-participants": "All", "review-summary": "Cluster did not return",
        "review-lessons": "Test the restart", "review-actions": "Runbook update"})
    assert change.reviews.exists()
    client.post(transition_url(change, "close"), {"close-review": "Reviewed."})
    change.refresh_from_db()
    assert change.state == State.CLOSED
    body = html(client.get(detail_url(change)))
    assert 'id="read-only-notice"' in body and "Runbook update" in body


def test_department_user_sees_only_their_departments_changes(crew) -> None:  # noqa: ANN001
    finance = DepartmentFactory()
    theirs = ServiceFactory(owner_department=finance)
    visible = draft_change(crew, services=[theirs])
    hidden = draft_change(crew, title="Core switch")
    dept_user = UserFactory(roles=[roles.DEPARTMENT_USER], department=finance)
    client = signed_in(dept_user)
    body = html(client.get(LIST, {"queue": "all"}))
    assert visible.number in body and hidden.number not in body
    assert client.get(detail_url(hidden)).status_code == 404
    assert client.post(transition_url(hidden, "cancel"), {"cancel-comment": "x"}).status_code == 404
    assert client.get(CAB).status_code == 403


def test_cab_agenda(crew, make_user) -> None:  # noqa: ANN001
    change = joint_review(crew)
    low = change_in_state(State.AWAITING_APPROVAL, crew, title="Low risk one")
    signed_in(crew.cab[0]).post(transition_url(change, "approve"), {"approve-comment": "ok"})
    body = html(signed_in(crew.cab[1]).get(CAB))
    assert change.number in body and low.number not in body
    assert "Vote now" in body and body.count("Pending") == 2
    assert "Vote now" not in html(signed_in(crew.cab[0]).get(CAB))
    assert signed_in(make_user(roles.AUDITOR)).get(CAB).status_code == 200
    assert signed_in(UserFactory(roles=[roles.DEPARTMENT_USER])).get(CAB).status_code == 403


def test_comments_and_attachments(crew, settings, tmp_path) -> None:  # noqa: ANN001
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    change = draft_change(crew)
    client = signed_in(crew.engineer)
    client.post(f"/changes/{change.pk}/comments/", {"body": "<img src=x onerror=alert(1)>"})
    client.post(f"/changes/{change.pk}/attachments/", {"file": SimpleUploadedFile("plan.txt", b"x")})
    body = html(client.get(detail_url(change)))
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "plan.txt" in body
    assert client.post(f"/changes/{change.pk}/comments/", {"body": ""}).status_code == 400


def test_home_panels_and_navigation(crew) -> None:  # noqa: ANN001
    change = joint_review(crew)
    body = html(signed_in(crew.cab[0]).get("/"))
    assert "Changes awaiting my approval / vote" in body and change.number in body and 'href="/changes/"' in body
    scheduled = change_in_state(State.SCHEDULED, crew, start_in=timedelta(days=1))
    body = html(signed_in(crew.implementer).get("/"))
    assert "My scheduled changes" in body and scheduled.number in body
    assert "Changes this week" in html(signed_in(crew.supervisor).get("/"))
    assert "Changes this week" not in body


# --- Query counts -------------------------------------------------------------------------------------------


def _count(client: Client, url: str, params: dict | None = None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    for _n in range(2):
        change_in_state(State.AWAITING_APPROVAL, crew)
    client = signed_in(crew.supervisor)
    client.get(LIST)
    few = _count(client, LIST, {"queue": "all"})
    for _n in range(6):
        draft_change(crew, services=[crew.service, ServiceFactory()])
    assert _count(client, LIST, {"queue": "all"}) == few
    # the user (the session comes from the cache), roles, the count, the unread count, service choices, rows, their
    # services
    with django_assert_num_queries(LIST_QUERIES):
        client.get(LIST, {"queue": "all"})


LIST_QUERIES = 7


def test_detail_query_count_does_not_grow(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    from opscenter.core.services import comment_add

    change = joint_review(crew)
    client = signed_in(crew.cab[1])
    client.get(detail_url(change))
    short = _count(client, detail_url(change))
    signed_in(crew.cab[0]).post(transition_url(change, "approve"), {"approve-comment": "ok"})
    for n in range(8):
        comment_add(change, user=crew.engineer, body=f"note {n}")
    change_update(change, user=crew.requester, changes={"rollback_plan": "Restore v2"})
    assert _count(client, detail_url(change)) == short
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(detail_url(change))


# the user (the session comes from the cache), roles, the change with services, CIs and CAB members, the schedule check
# (services, CIs' services, freezes, maintenance windows, conflicts: 8), votes, steps, reviews, the timeline (1: the
# core_timeline view), the viewer's vote (approve and reject permissions), opinions, the unread count, the related
# incidents the viewer may see (their teams' kinds, for security incidents, and the incidents: 2), and the problems the
# change was raised from (a section problem management adds through the kernel's registry)
DETAIL_QUERIES = 26


def test_cab_agenda_query_count_does_not_grow(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    joint_review(crew)
    client = signed_in(crew.cab[0])
    few = _count(client, CAB)
    for _n in range(3):
        joint_review(crew)
    assert _count(client, CAB) == few
    with django_assert_num_queries(CAB_QUERIES):
        client.get(CAB)


# the user (the session comes from the cache), roles, agenda rows, their services, CAB members, votes with voters,
# the unread count
CAB_QUERIES = 7


# --- The progress bar ----------------------------------------------------------------------------------------


def test_the_progress_bar_leaves_out_the_steps_a_change_skips(crew) -> None:  # noqa: ANN001
    """Tabler marks every step before the active one as done: an emergency change was never assessed, a standard
    one never assessed nor approved, so those steps are not on its bar."""
    emergency = change_in_state(State.AWAITING_APPROVAL, crew, change_type=ChangeType.EMERGENCY)
    normal = change_in_state(State.AWAITING_APPROVAL, crew)
    client = signed_in(crew.approver)
    labels = {change.pk: [(s["label"], s["active"]) for s in client.get(detail_url(change)).context["progress"]]
              for change in (emergency, normal)}
    assert labels[emergency.pk][:3] == [("Draft", False), ("Awaiting approval", True), ("Approved", False)]
    assert ("Assessing", False) not in labels[emergency.pk] and ("Submitted", False) not in labels[emergency.pk]
    assert labels[normal.pk][:4] == [("Draft", False), ("Submitted", False), ("Assessing", False),
                                     ("Awaiting approval", True)]
