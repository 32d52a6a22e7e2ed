"""The change API as a client sees it: list with filters, detail (risk, approval, plan, schedule flags),
request, edit (approved content is frozen), transitions, the schedule check, opinions, votes, steps,
post-implementation reviews, templates, freeze and maintenance windows, votes and the risk questionnaire —
with visibility (a change the caller may not see is 404 everywhere), the JSON error shape, and query counts
that do not grow with the rows. Every refused request leaves the change as it was."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changes.choices import ChangeType, RiskLevel, State, StepStatus, TemplateState
from changes.models import (
    Change,
    ChangeOpinion,
    ChangeReview,
    ChangeTemplate,
    ChangeVote,
    FreezeWindow,
    MaintenanceWindow,
    RiskQuestion,
)
from changes.services import change_transition
from changes.tests.factories import (
    STEPS,
    ChangeCrew,
    advance,
    approved_template,
    change_in_state,
    draft_change,
    make_crew,
    open_window,
    request_data,
)
from conftest import assert_error
from opscenter.core import roles
from opscenter.core.models import FieldChange, TransitionLog
from opscenter.core.tests.factories import (
    ConfigurationItemFactory,
    DepartmentFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGES = "/api/v1/changes/"
TEMPLATES = "/api/v1/change-templates/"
FREEZES = "/api/v1/freeze-windows/"
MAINTENANCE = "/api/v1/maintenance-windows/"
VOTES = "/api/v1/change-votes/"
QUESTIONS = "/api/v1/risk-questions/"


def url(change: Change, suffix: str = "") -> str:
    return f"{CHANGES}{change.pk}/{suffix}"


def move(change: Change, name: str) -> str:
    return url(change, f"transitions/{name}/")


def reload(change: Change) -> Change:
    return Change.objects.get(pk=change.pk)


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def payload(crew: ChangeCrew, **overrides: Any) -> dict[str, Any]:
    """A complete request as JSON: records by id, times in ISO 8601, the steps as texts."""
    data = request_data(crew, **overrides)
    data["services"] = [s.pk for s in data["services"]]
    data["implementer"] = data["implementer"].pk if data["implementer"] else None
    data["planned_start"] = data["planned_start"].isoformat()
    data["planned_end"] = data["planned_end"].isoformat()
    data["steps"] = list(STEPS)
    return data


def record_of(change: Change) -> tuple:
    """What a refused request must leave as it was: the row, its log, its votes, its field changes."""
    fresh = reload(change)
    return (fresh.state, fresh.approval_round, fresh.updated_at, fresh.planned_start, fresh.planned_end,
            TransitionLog.objects.filter(object_id=change.pk, content_type__model="change").count(),
            ChangeVote.objects.filter(change=change).count(),
            FieldChange.objects.filter(object_id=change.pk, content_type__model="change").count())


@pytest.fixture
def crew() -> ChangeCrew:
    return make_crew()


@pytest.fixture
def finance():  # noqa: ANN201
    return DepartmentFactory(code="finance", name="Finance")


@pytest.fixture
def finance_user(finance):  # noqa: ANN001, ANN201
    return UserFactory(roles=[roles.DEPARTMENT_USER], department=finance)


@pytest.fixture
def hr_user():  # noqa: ANN201
    return UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory(code="hr", name="HR"))


@pytest.fixture
def auditor():  # noqa: ANN201
    return UserFactory(roles=[roles.AUDITOR])


# --- List and filters -----------------------------------------------------------------------------------


def test_list_shows_what_a_row_needs(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    body = api_as(crew.implementer).get(CHANGES).json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["number"] == change.number and row["number"].startswith("CHG")
    assert (row["state"], row["state_label"], row["change_type"], row["category"], row["risk_level"]) == (
        "approved", "Approved", "normal", "software_upgrade", "low")
    assert row["services"] == [{"id": crew.service.pk, "code": crew.service.code, "name": crew.service.name}]
    assert row["implementer"]["id"] == crew.implementer.pk and row["created_by"]["id"] == crew.requester.pk
    assert row["available_transitions"] == ["schedule"]


@pytest.fixture
def mixed(crew: ChangeCrew) -> dict[str, Change]:
    """Changes of several states, types, risks, services and windows."""
    other_service = ServiceFactory()
    ci = ConfigurationItemFactory()
    ci.services.set([other_service])
    return {
        "draft": draft_change(crew, title="Replace core switch", start_in=timedelta(days=20)),
        "approved": change_in_state(State.APPROVED, crew, title="Patch the mail relay"),
        "emergency": change_in_state(State.AWAITING_APPROVAL, crew, change_type=ChangeType.EMERGENCY,
                                     start_in=timedelta(hours=3), title="Hotfix for the login outage"),
        "other": draft_change(crew, requester=crew.engineer, services=[other_service], configuration_items=[ci],
                              category="network_configuration", implementer=None, start_in=timedelta(days=40),
                              description="Move the VLAN of the printers"),
        "ci": ci,
        "service": other_service,
    }


@pytest.mark.parametrize(("params", "expected"), [
    ({"state": "draft"}, ["other", "draft"]),
    ({"state": ["approved", "awaiting_approval"]}, ["emergency", "approved"]),
    ({"type": "emergency"}, ["emergency"]),
    ({"category": "network_configuration"}, ["other"]),
    ({"risk_level": "low"}, ["emergency", "approved"]),
    ({"service": "{service}"}, ["other"]),
    ({"configuration_item": "{ci}"}, ["other"]),
    ({"implementer": "{implementer}"}, ["emergency", "approved", "draft"]),
    ({"requester": "{engineer}"}, ["other"]),
    ({"planned_start_after": "{in_30_days}"}, ["other"]),
    ({"planned_start_before": "{in_10_days}"}, ["emergency", "approved"]),
    ({"q": "printers"}, ["other"]),
    ({"q": "mail relay"}, ["approved"]),
    ({"q": "{approved_number}"}, ["approved"]),
    ({"search": "switch"}, ["draft"]),
    ({"ordering": "planned_start"}, ["emergency", "approved", "draft", "other"]),
])
def test_filters_and_search(api_as, crew: ChangeCrew, mixed: dict, params: dict, expected: list[str]) -> None:  # noqa: ANN001
    today = timezone.localdate()
    values = {"service": mixed["service"].pk, "ci": mixed["ci"].pk, "implementer": crew.implementer.pk,
              "engineer": crew.engineer.pk, "in_30_days": today + timedelta(days=30),
              "in_10_days": today + timedelta(days=10), "approved_number": mixed["approved"].number}
    query = {key: value.format(**values) if isinstance(value, str) else value for key, value in params.items()}
    assert numbers(api_as(crew.supervisor).get(CHANGES, query)) == [mixed[name].number for name in expected]


@pytest.mark.parametrize("params", [{"state": "bogus"}, {"type": "minor"}, {"service": "999999"},
                                    {"planned_start_after": "yesterday"}, {"risk_level": "extreme"}])
def test_invalid_filters_are_errors(api_as, crew: ChangeCrew, params: dict) -> None:  # noqa: ANN001
    assert_error(api_as(crew.supervisor).get(CHANGES, params), 400, "invalid")


# --- Visibility -----------------------------------------------------------------------------------------


@pytest.fixture
def department_changes(crew: ChangeCrew, finance, finance_user) -> dict[str, Change]:  # noqa: ANN001
    """Finance's own request, a change on a finance service, and a change elsewhere."""
    finance_service = ServiceFactory(owner_department=finance)
    return {
        "own": draft_change(crew, requester=finance_user, implementer=None, title="New report printer"),
        "on_service": draft_change(crew, services=[finance_service], title="Upgrade the ledger"),
        "elsewhere": draft_change(crew, title="Upgrade the HR portal"),
    }


def test_department_user_sees_own_requests_and_own_services_changes(  # noqa: ANN001
    api_as, crew: ChangeCrew, finance_user, hr_user, department_changes: dict
) -> None:
    own, on_service, elsewhere = (department_changes[k] for k in ("own", "on_service", "elsewhere"))
    assert set(numbers(api_as(finance_user).get(CHANGES))) == {own.number, on_service.number}
    assert numbers(api_as(hr_user).get(CHANGES)) == []
    assert numbers(api_as(finance_user).get(CHANGES, {"q": elsewhere.number})) == []
    client = api_as(finance_user)
    for suffix in ("", "timeline/", "votes/", "opinions/", "schedule-check/", "available-transitions/", "reviews/"):
        assert_error(client.get(url(elsewhere, suffix)), 404)
    before = record_of(elsewhere)
    assert_error(client.patch(url(elsewhere), {"title": "Mine now"}, format="json"), 404)
    assert_error(client.post(move(elsewhere, "cancel"), {"comment": "no"}, format="json"), 404)
    assert_error(client.post(url(elsewhere, "comments/"), {"body": "hello"}, format="json"), 404)
    assert record_of(elsewhere) == before and reload(elsewhere).title == "Upgrade the HR portal"
    assert client.get(url(on_service)).status_code == 200


def test_votes_list_shows_only_votes_on_visible_changes(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    approved = change_in_state(State.APPROVED, crew)
    rejected = change_in_state(State.REJECTED, crew)
    body = api_as(crew.engineer).get(VOTES, {"change": approved.pk}).json()
    assert [(v["change"], v["decision"], v["voter"]["id"]) for v in body["results"]] == [
        (approved.pk, "approve", crew.approver.pk)]
    assert api_as(crew.engineer).get(VOTES).json()["count"] == 2
    assert {v["change_number"] for v in api_as(crew.engineer).get(VOTES, {"decision": "reject"}).json()[
        "results"]} == {rejected.number}
    outsider = UserFactory(roles=[roles.DEPARTMENT_USER])
    assert_error(api_as(outsider).get(VOTES), 403)


# --- Detail ---------------------------------------------------------------------------------------------


def test_detail_shows_risk_approval_plan_and_links(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    from incidents.tests.factories import IncidentFactory

    incident = IncidentFactory(created_by=crew.supervisor)
    change = draft_change(crew, risk=RiskLevel.HIGH)
    change.related_incidents.set([incident])
    while change.state != State.AWAITING_APPROVAL:
        change = advance(change, crew)
    change_transition(change, "approve", user=crew.cab[0], comment="Fine by me.")
    body = api_as(crew.supervisor).get(url(change)).json()
    assert body["state"] == "awaiting_approval" and body["available_transitions"] == ["cancel"]
    risk = body["risk"]
    assert risk["score"] == change.risk_score > 0 and risk["level"] == risk["computed_level"] == "major"
    assert {"code": "rollback_untested",
            "label": "The rollback has not been tested: at least medium."} in risk["reasons"]
    approval = body["approval"]
    assert (approval["mode"], approval["round"]) == ("joint", 1)
    assert {m["id"] for m in approval["cab_members"]} == {u.pk for u in crew.cab}
    assert [(v["voter"]["id"], v["decision"], v["comment"], v["is_joint_review"]) for v in approval["votes"]] == [
        (crew.cab[0].pk, "approve", "Fine by me.", True)]
    assert [s["description"] for s in body["steps"]] == STEPS and body["steps"][0]["status"] == "pending"
    assert body["related_incidents"] == [{"id": incident.pk, "number": incident.number, "title": incident.title,
                                          "state": incident.state, "url": f"/api/v1/incidents/{incident.pk}/"}]
    assert body["freeze_exception"] is False and body["outside_maintenance"] is False
    assert body["conflicts_acknowledged"] == [] and body["opinions"] == []


def test_related_incidents_the_caller_cannot_see_are_left_out(  # noqa: ANN001
    api_as, crew: ChangeCrew, finance_user
) -> None:
    from incidents.tests.factories import IncidentFactory

    change = draft_change(crew, requester=finance_user, implementer=None)
    change.related_incidents.set([IncidentFactory(created_by=crew.supervisor)])
    assert api_as(finance_user).get(url(change)).json()["related_incidents"] == []


# --- Request -----------------------------------------------------------------------------------------------


def test_request_creates_a_draft_with_steps_and_answers(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    data = payload(crew)
    response = api_as(crew.requester).post(CHANGES, data, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    change = Change.objects.get(pk=body["id"])
    assert body["state"] == "draft" and change.created_by == crew.requester
    assert [s["description"] for s in body["steps"]] == STEPS
    assert change.risk_answers == data["risk_answers"] and body["risk"]["answers"] == data["risk_answers"]
    assert body["available_transitions"] == ["submit", "cancel"]
    submitted = api_as(crew.requester).post(move(change, "submit"), {}, format="json")
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"


def test_a_template_makes_a_standard_change(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    template = approved_template(crew)
    start = timezone.now() + timedelta(days=2)
    response = api_as(crew.requester).post(CHANGES, {
        "title": "Replace disk 3 in the SAN", "template": template.pk, "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=1)).isoformat(), "services": [crew.service.pk]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["change_type"] == "standard" and body["template"] == {"id": template.pk, "name": template.name}
    assert [s["description"] for s in body["steps"]] == template.steps
    change = Change.objects.get(pk=body["id"])
    assert api_as(crew.requester).post(move(change, "submit"), {}, format="json").json()["state"] == "approved"


def test_a_template_not_approved_is_refused(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    template = ChangeTemplate.objects.create(name="Draft template", category="other", description="x", purpose="x",
                                             impact_scope="x", risk_assessment="x", risk_mitigation="x",
                                             steps=["x"], rollback_plan="x", contingency_plan="x",
                                             proposed_by=crew.engineer)
    body = assert_error(api_as(crew.requester).post(CHANGES, {"title": "From draft", "template": template.pk},
                                                    format="json"), 400, "invalid")
    assert "template" in body["detail"] and not Change.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"planned_end": "{before_start}"}, "planned_end"),
    ({"planned_start": "{past}", "planned_end": "{past_end}"}, "planned_start"),
    ({"title": ""}, "title"),
    ({"change_type": "minor"}, "change_type"),
    ({"risk_answers": {"first": 1}}, "risk_answers"),
    ({"steps": ["Take a snapshot", ""]}, "steps"),
    ({"state": "approved"}, "state"),
    ({"risk_level": "low"}, "risk_level"),
    ({"services": [999999]}, "services"),
])
def test_bad_requests_are_refused_and_create_nothing(  # noqa: ANN001
    api_as, crew: ChangeCrew, overrides: dict, field: str
) -> None:
    data = payload(crew)
    start = timezone.now() + timedelta(days=7)
    values = {"before_start": (start - timedelta(hours=1)).isoformat(),
              "past": (timezone.now() - timedelta(days=1)).isoformat(),
              "past_end": (timezone.now() - timedelta(hours=20)).isoformat()}
    data.update({k: v.format(**values) if isinstance(v, str) else v for k, v in overrides.items()})
    if "planned_end" in overrides and "planned_start" not in overrides:
        data["planned_start"] = start.isoformat()
    body = assert_error(api_as(crew.requester).post(CHANGES, data, format="json"), 400, "invalid")
    assert field in body["detail"], body
    assert not Change.objects.exists()


def test_risk_answers_must_fit_the_questionnaire(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    first, second = RiskQuestion.objects.filter(is_active=True)[:2]
    wrong = {str(first.pk): second.options.first().pk}
    body = assert_error(api_as(crew.requester).post(CHANGES, {**payload(crew), "risk_answers": wrong},
                                                    format="json"), 400, "invalid")
    assert "risk_answers" in body["detail"] and not Change.objects.exists()
    partial = {str(first.pk): first.options.first().pk}
    response = api_as(crew.requester).post(CHANGES, {**payload(crew), "risk_answers": partial}, format="json")
    assert response.status_code == 201  # a draft may leave questions open; submitting asks for every answer
    change = Change.objects.get()
    body = assert_error(api_as(crew.requester).post(move(change, "submit"), {}, format="json"), 400)
    assert "risk_answers" in body["detail"] and reload(change).state == State.DRAFT


def test_a_window_moved_into_the_past_is_refused(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    before = record_of(change)
    past = timezone.now() - timedelta(days=1)
    body = assert_error(api_as(crew.requester).patch(url(change), {"planned_start": past.isoformat()},
                                                     format="json"), 400, "invalid")
    assert "planned_start" in body["detail"] and record_of(change) == before
    late = change.planned_start - timedelta(hours=1)
    assert_error(api_as(crew.requester).patch(url(change), {"planned_end": late.isoformat()}, format="json"), 400)
    assert record_of(change) == before


def test_a_department_user_cannot_choose_another_departments_ci(  # noqa: ANN001
    api_as, crew: ChangeCrew, finance, finance_user
) -> None:
    own_ci, foreign_ci = ConfigurationItemFactory(), ConfigurationItemFactory()
    own_ci.services.set([ServiceFactory(owner_department=finance)])
    foreign_ci.services.set([ServiceFactory(owner_department=DepartmentFactory(code="hr"))])
    data = {**payload(crew, implementer=None), "configuration_items": [foreign_ci.pk]}
    body = assert_error(api_as(finance_user).post(CHANGES, data, format="json"), 400, "invalid")
    assert "configuration_items" in body["detail"] and not Change.objects.exists()
    data["configuration_items"] = [own_ci.pk]
    assert api_as(finance_user).post(CHANGES, data, format="json").status_code == 201


def test_auditors_read_only(api_as, crew: ChangeCrew, auditor) -> None:  # noqa: ANN001
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    client = api_as(auditor)
    assert client.get(url(change)).json()["available_transitions"] == []
    assert client.get(url(change, "timeline/")).status_code == 200
    before = record_of(change)
    assert_error(client.post(CHANGES, payload(crew), format="json"), 403)
    assert_error(client.post(move(change, "approve"), {}, format="json"), 403)
    assert_error(client.patch(url(change), {"rollback_plan": "x"}, format="json"), 403)
    assert_error(client.post(url(change, "comments/"), {"body": "x"}, format="json"), 403)
    assert_error(client.post(FREEZES, {"name": "x"}, format="json"), 403)
    assert record_of(change) == before and Change.objects.count() == 1


# --- Edit -------------------------------------------------------------------------------------------------


def test_requester_edits_a_draft_and_its_steps(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = draft_change(crew)
    response = api_as(crew.requester).patch(url(change), {"purpose": "Vendor advisory 2026-11.",
                                                          "steps": ["Snapshot", "Upgrade"]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["purpose"] == "Vendor advisory 2026-11." and [s["description"] for s in body["steps"]] == [
        "Snapshot", "Upgrade"]
    fields = {e["detail"]["field"] for e in api_as(crew.requester).get(url(change, "timeline/")).json()
              if e["kind"] == "change"}
    assert fields == {"purpose", "steps"}


def test_fields_the_state_does_not_allow_are_refused(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.SUBMITTED, crew)
    before = record_of(change)
    body = assert_error(api_as(crew.requester).patch(url(change), {"title": "Other"}, format="json"), 400)
    assert "title" in body["detail"] and record_of(change) == before
    stranger = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    assert_error(api_as(stranger).patch(url(change), {"rollback_plan": "Mine"}, format="json"), 403)
    assert record_of(change) == before


def test_editing_approved_content_sends_the_change_back_for_approval(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    old_end = change.planned_end
    new_end = old_end + timedelta(hours=1)
    response = api_as(crew.requester).patch(url(change), {"planned_end": new_end.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "awaiting_approval" and body["approval"]["round"] == 2
    assert body["approval"]["votes"] == []
    change = reload(change)
    assert (change.state, change.approval_round, change.planned_end) == (State.AWAITING_APPROVAL, 2, new_end)
    timeline = api_as(crew.requester).get(url(change, "timeline/")).json()
    [diff] = [e["detail"] for e in timeline if e["kind"] == "change" and e["detail"]["field"] == "planned_end"]
    assert datetime.fromisoformat(diff["old"]) == old_end and datetime.fromisoformat(diff["new"]) == new_end
    assert any(e["kind"] == "transition" and e["detail"]["transition"] == "require_reapproval" for e in timeline)
    # The approver's vote of round 1 does not count: they approve again.
    again = api_as(crew.approver).post(move(change, "approve"), {"comment": "Still fine."}, format="json")
    assert again.json()["state"] == "approved"
    assert ChangeVote.objects.filter(change=change).count() == 2


def test_plan_text_edit_of_an_approved_change_needs_no_reapproval(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = draft_change(crew, rollback_plan="", contingency_plan="")
    while change.state != State.APPROVED:
        change = advance(change, crew)
    response = api_as(crew.implementer).patch(url(change), {"rollback_plan": "Restore the snapshot."}, format="json")
    assert response.json()["state"] == "approved" and reload(change).approval_round == 1


# --- Transitions: bad input, states, segregation of duties -------------------------------------------------


def test_submit_lists_the_missing_fields(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    response = api_as(crew.requester).post(CHANGES, {"title": "Something to change"}, format="json")
    change = Change.objects.get(pk=response.json()["id"])
    before = record_of(change)
    body = assert_error(api_as(crew.requester).post(move(change, "submit"), {}, format="json"), 400, "invalid")
    assert {"category", "description", "purpose", "impact_scope", "planned_start", "planned_end",
            "risk_assessment", "risk_mitigation", "services"} <= set(body["detail"])
    assert record_of(change) == before


def test_unknown_and_internal_transitions_are_400(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    before = record_of(change)
    assert_error(api_as(crew.supervisor).post(move(change, "launch"), {}, format="json"), 400, "unknown_transition")
    assert_error(api_as(crew.supervisor).post(move(change, "require_reapproval"), {}, format="json"), 400,
                 "unknown_transition")
    assert record_of(change) == before


def test_approving_in_the_wrong_state_is_409(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.SUBMITTED, crew)
    before = record_of(change)
    assert_error(api_as(crew.approver).post(move(change, "approve"), {}, format="json"), 409, "invalid_state")
    assert record_of(change) == before


def test_the_requester_cannot_approve_their_own_change(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    requester = UserFactory(roles=[roles.SYSTEM_ENGINEER, roles.CHANGE_APPROVER])
    change = change_in_state(State.AWAITING_APPROVAL, crew, requester=requester)
    before = record_of(change)
    for name in ("approve", "reject"):
        assert_error(api_as(requester).post(move(change, name), {"comment": "ok"}, format="json"), 403,
                     "segregation_of_duties")
    assert record_of(change) == before


def test_the_implementer_cannot_approve(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    implementer = UserFactory(roles=[roles.NETWORK_ENGINEER, roles.CHANGE_APPROVER])
    change = change_in_state(State.AWAITING_APPROVAL, crew, implementer=implementer)
    before = record_of(change)
    assert_error(api_as(implementer).post(move(change, "approve"), {}, format="json"), 403, "segregation_of_duties")
    assert record_of(change) == before


def test_whoever_approved_cannot_schedule_or_implement(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    approver = UserFactory(roles=[roles.CHANGE_APPROVER, roles.SYSTEM_ENGINEER])
    change = change_in_state(State.AWAITING_APPROVAL, crew, implementer=None)
    change = change_transition(change, "approve", user=approver, comment="Go.")
    assert change.state == State.APPROVED
    before = record_of(change)
    assert_error(api_as(approver).post(move(change, "schedule"), {"acknowledge_conflicts": True}, format="json"),
                 403, "segregation_of_duties")
    assert record_of(change) == before
    assert "schedule" not in api_as(approver).get(url(change)).json()["available_transitions"]
    # Another engineer takes it by scheduling it, and implements it.
    response = api_as(crew.engineer).post(move(change, "schedule"), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["implementer"]["id"] == crew.engineer.pk


def test_a_vote_or_a_cancellation_needs_its_reason(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.AWAITING_APPROVAL, crew)
    before = record_of(change)
    body = assert_error(api_as(crew.approver).post(move(change, "reject"), {}, format="json"), 400, "invalid")
    assert "comment" in body["detail"]
    assert_error(api_as(crew.requester).post(move(change, "cancel"), {"comment": " "}, format="json"), 400)
    assert_error(api_as(crew.approver).post(move(change, "approve"), {"verdict": "yes"}, format="json"), 400)
    assert record_of(change) == before


@pytest.mark.parametrize(("name", "state", "missing"), [
    ("assess", State.ASSESSING, {"necessity", "feasibility", "assessment"}),
    ("fail", State.IMPLEMENTING, {"what_happened"}),
    ("verify", State.IMPLEMENTING, {"function", "performance", "data_integrity"}),
    ("complete", State.VERIFYING, {"report"}),
    ("close", State.COMPLETED, {"review"}),
])
def test_transition_data_is_required(api_as, crew: ChangeCrew, name: str, state: str, missing: set) -> None:  # noqa: ANN001
    change = change_in_state(state, crew)
    if name == "verify":
        for step in change.steps.all():
            api_as(crew.implementer).post(url(change, f"steps/{step.position}/"), {"status": "done"}, format="json")
    user = crew.supervisor if name in ("assess", "close") else crew.implementer
    before = record_of(change)
    body = assert_error(api_as(user).post(move(change, name), {}, format="json"), 400, "invalid")
    assert set(body["detail"]) == missing and record_of(change) == before


def test_a_risk_override_needs_its_justification(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.ASSESSING, crew)
    data = {"necessity": "Needed.", "feasibility": "Feasible.", "assessment": "Go.", "risk_level": "medium"}
    body = assert_error(api_as(crew.supervisor).post(move(change, "assess"), data, format="json"), 400)
    assert "override_reason" in body["detail"] and reload(change).state == State.ASSESSING
    data["override_reason"] = "The ERP month-end close is near."
    response = api_as(crew.supervisor).post(move(change, "assess"), data, format="json")
    assert response.status_code == 200, response.content
    risk = response.json()["risk"]
    assert (risk["computed_level"], risk["level"], risk["override_reason"]) == (
        "low", "medium", "The ERP month-end close is near.")


def test_the_main_road_through_the_api(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    """A normal low-risk change from request to close, every step by its owner."""
    response = api_as(crew.requester).post(CHANGES, payload(crew), format="json")
    change = Change.objects.get(pk=response.json()["id"])

    def go(user, name: str, data: dict | None = None) -> dict:  # noqa: ANN001
        response = api_as(user).post(move(change, name), data or {}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    go(crew.requester, "submit")
    go(crew.supervisor, "start_assessment")
    go(crew.supervisor, "assess", {"necessity": "Security fix.", "feasibility": "Tested.", "assessment": "Go."})
    assert go(crew.approver, "approve", {"comment": "Approved."})["state"] == "approved"
    assert go(crew.implementer, "schedule")["state"] == "scheduled"
    open_window(change)
    go(crew.implementer, "start")
    for position in (1, 2):
        assert api_as(crew.implementer).post(url(change, f"steps/{position}/"), {"status": "done"},
                                             format="json").json()["status"] == "done"
    assert_error(api_as(crew.implementer).post(move(change, "verify"), {
        "function": "ok", "performance": "ok", "data_integrity": "ok"}, format="json"), 409, "condition_failed")
    body = api_as(crew.implementer).post(url(change, "steps/3/"), {"status": "skipped", "note": "Not needed."},
                                         format="json").json()
    assert (body["status"], body["note"], body["done_by"]["id"]) == ("skipped", "Not needed.", crew.implementer.pk)
    go(crew.implementer, "verify", {"function": "ok", "performance": "ok", "data_integrity": "ok"})
    go(crew.implementer, "complete", {"report": "Done as planned."})
    body = go(crew.supervisor, "close", {"review": "Report reviewed."})
    assert (body["state"], body["outcome"], body["close_review"]) == ("closed", "successful", "Report reviewed.")


def test_failure_and_rollback(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.IMPLEMENTING, crew)
    body = api_as(crew.implementer).post(move(change, "fail"), {"what_happened": "Cluster did not start."},
                                         format="json").json()
    assert body["state"] == "failed" and body["failure_description"] == "Cluster did not start."
    body = api_as(crew.implementer).post(move(change, "roll_back"), {"rollback_log": "Snapshot restored."},
                                         format="json").json()
    assert (body["state"], body["outcome"], body["needs_review"]) == ("rolled_back", "rolled_back", True)
    assert_error(api_as(crew.supervisor).post(move(change, "close"), {"review": "ok"}, format="json"), 409,
                 "condition_failed")


# --- Joint review -----------------------------------------------------------------------------------------


@pytest.fixture
def joint(crew: ChangeCrew) -> Change:
    change = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)
    assert change.approval_mode == "joint" and change.cab_member_ids() == {u.pk for u in crew.cab}
    return change


def vote(api_as, user, change: Change, decision: str, comment: str = "Reviewed."):  # noqa: ANN001, ANN201
    return api_as(user).post(move(change, decision), {"comment": comment}, format="json")


def test_joint_review_two_approve_one_rejects(api_as, crew: ChangeCrew, joint: Change) -> None:  # noqa: ANN001
    assert vote(api_as, crew.cab[0], joint, "approve").json()["state"] == "awaiting_approval"
    assert vote(api_as, crew.cab[1], joint, "approve").json()["state"] == "awaiting_approval"
    assert vote(api_as, crew.cab[2], joint, "reject", "Rollback untested.").json()["state"] == "rejected"
    votes = api_as(crew.supervisor).get(url(joint, "votes/")).json()
    assert [(v["voter"]["id"], v["decision"], v["round"], v["is_joint_review"]) for v in votes] == [
        (crew.cab[0].pk, "approve", 1, True), (crew.cab[1].pk, "approve", 1, True),
        (crew.cab[2].pk, "reject", 1, True)]
    assert votes[2]["comment"] == "Rollback untested." and votes[2]["created_at"]


def test_joint_review_all_approve(api_as, crew: ChangeCrew, joint: Change) -> None:  # noqa: ANN001
    states = [vote(api_as, member, joint, "approve").json()["state"] for member in crew.cab]
    assert states == ["awaiting_approval", "awaiting_approval", "approved"]
    assert ChangeVote.objects.filter(change=joint, decision="approve").count() == 3


def test_only_named_cab_members_vote(api_as, crew: ChangeCrew, joint: Change) -> None:  # noqa: ANN001
    outsider = UserFactory(roles=[roles.CAB_MEMBER])
    before = record_of(joint)
    assert_error(vote(api_as, outsider, joint, "approve"), 403, "not_a_cab_member")
    assert_error(vote(api_as, crew.approver, joint, "reject"), 403, "not_a_cab_member")
    assert record_of(joint) == before


def test_a_member_votes_once(api_as, crew: ChangeCrew, joint: Change) -> None:  # noqa: ANN001
    assert vote(api_as, crew.cab[0], joint, "approve").status_code == 200
    before = record_of(joint)
    assert_error(vote(api_as, crew.cab[0], joint, "approve"), 409, "already_voted")
    assert_error(vote(api_as, crew.cab[0], joint, "reject"), 409, "already_voted")
    assert record_of(joint) == before
    assert ChangeVote.objects.filter(change=joint, voter=crew.cab[0]).count() == 1


def test_assessment_names_the_cab_members(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.ASSESSING, crew, risk=RiskLevel.HIGH)
    data = {"necessity": "n", "feasibility": "f", "assessment": "a", "cab_members": [crew.cab[0].pk, crew.engineer.pk]}
    body = assert_error(api_as(crew.supervisor).post(move(change, "assess"), data, format="json"), 400)
    assert crew.engineer.username in str(body["detail"]["cab_members"]) and reload(change).state == State.ASSESSING
    data["cab_members"] = [crew.cab[0].pk, crew.cab[1].pk]
    body = api_as(crew.supervisor).post(move(change, "assess"), data, format="json").json()
    assert {m["id"] for m in body["approval"]["cab_members"]} == {crew.cab[0].pk, crew.cab[1].pk}


# --- Schedule: freeze windows, maintenance windows, conflicts ---------------------------------------------------


def freeze_over(change: Change, **fields: Any) -> FreezeWindow:
    return FreezeWindow.objects.create(name=fields.pop("name", "Year-end freeze"),
                                       starts_at=change.planned_start - timedelta(hours=1),
                                       ends_at=change.planned_end + timedelta(hours=1), **fields)


def test_a_freeze_refuses_a_normal_change(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    freeze = freeze_over(change)
    check = api_as(crew.implementer).get(url(change, "schedule-check/")).json()
    assert [f["id"] for f in check["freezes"]] == [freeze.pk] and check["freeze_refuses"] is True
    before = record_of(change)
    body = assert_error(api_as(crew.implementer).post(move(change, "schedule"), {"acknowledge_conflicts": True},
                                                      format="json"), 400, "freeze_window")
    assert "Year-end freeze" in str(body["detail"]) and record_of(change) == before


def test_an_emergency_change_is_scheduled_in_a_freeze_flagged(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew, change_type=ChangeType.EMERGENCY, start_in=timedelta(hours=2))
    freeze_over(change, name="Audit freeze")
    assert api_as(crew.implementer).get(url(change, "schedule-check/")).json()["freeze_refuses"] is False
    response = api_as(crew.implementer).post(move(change, "schedule"), {}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["freeze_exception"]) == ("scheduled", True)


def test_a_freeze_on_another_service_does_not_refuse(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    freeze_over(change).services.set([ServiceFactory()])
    assert api_as(crew.implementer).get(url(change, "schedule-check/")).json()["freezes"] == []
    assert api_as(crew.implementer).post(move(change, "schedule"), {}, format="json").status_code == 200


def test_conflicts_are_listed_then_acknowledged(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    first = change_in_state(State.SCHEDULED, crew, title="First")
    second = change_in_state(State.APPROVED, crew, title="Second")
    check = api_as(crew.implementer).get(url(second, "schedule-check/")).json()
    [conflict] = check["conflicts"]
    assert conflict["id"] == first.pk and conflict["reasons"] == ["same_service", "same_implementer"]
    assert conflict["reason_labels"] == ["same service", "same implementer"]
    assert check["must_acknowledge_conflicts"] is True
    before = record_of(second)
    response = api_as(crew.implementer).post(move(second, "schedule"), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflicts_not_acknowledged" and body["detail"]
    assert [c["number"] for c in body["conflicts"]] == [first.number]
    assert record_of(second) == before
    response = api_as(crew.implementer).post(move(second, "schedule"), {"acknowledge_conflicts": True},
                                              format="json")
    assert response.status_code == 200, response.content
    acknowledged = response.json()["conflicts_acknowledged"]
    assert [(c["number"], c["reasons"]) for c in acknowledged] == [(first.number, ["same_service",
                                                                                   "same_implementer"])]


def test_outside_the_maintenance_windows_is_a_warning(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    start = timezone.localtime(change.planned_end) + timedelta(hours=3)
    MaintenanceWindow.objects.create(service=crew.service, name="Nightly", recurrence="FREQ=DAILY",
                                     start_time=start.time(), duration_minutes=30)
    check = api_as(crew.implementer).get(url(change, "schedule-check/")).json()
    assert [s["id"] for s in check["maintenance_warnings"]] == [crew.service.pk]
    body = api_as(crew.implementer).post(move(change, "schedule"), {}, format="json").json()
    assert (body["state"], body["outside_maintenance"]) == ("scheduled", True)


def test_start_not_before_the_window(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.SCHEDULED, crew)
    before = record_of(change)
    assert_error(api_as(crew.implementer).post(move(change, "start"), {}, format="json"), 409, "condition_failed")
    assert record_of(change) == before


# --- Opinions, steps, reviews ---------------------------------------------------------------------------


def test_opinions_invited_and_given(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.ASSESSING, crew)
    security = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    assert_error(api_as(crew.engineer).post(url(change, "opinions/"), {"reviewers": [security.pk]}, format="json"),
                 403)
    response = api_as(crew.supervisor).post(url(change, "opinions/"), {"reviewers": [security.pk, crew.engineer.pk]},
                                            format="json")
    assert response.status_code == 201, response.content
    assert [(o["reviewer"]["id"], o["given_at"]) for o in response.json()] == [(security.pk, None),
                                                                              (crew.engineer.pk, None)]
    given = {"recommendation": "concerns", "opinion": "Keep the old node warm."}
    response = api_as(security).post(url(change, "opinions/"), given, format="json")
    assert response.status_code == 201
    mine = next(o for o in response.json() if o["reviewer"]["id"] == security.pk)
    assert (mine["recommendation"], mine["opinion"]) == ("concerns", "Keep the old node warm.") and mine["given_at"]
    assert_error(api_as(security).post(url(change, "opinions/"), given, format="json"), 409, "already_given")
    assert_error(api_as(crew.requester).post(url(change, "opinions/"), given, format="json"), 403)
    assert_error(api_as(crew.engineer).post(url(change, "opinions/"), {"opinion": "x"}, format="json"), 400)
    assert_error(api_as(crew.supervisor).post(url(change, "opinions/"), {**given, "reviewers": [security.pk]},
                                              format="json"), 400)
    assert ChangeOpinion.objects.filter(change=change, given_at__isnull=False).count() == 1
    assert len(api_as(crew.requester).get(url(change)).json()["opinions"]) == 2


def test_opinions_only_while_assessing(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.APPROVED, crew)
    assert_error(api_as(crew.supervisor).post(url(change, "opinions/"), {"reviewers": [crew.engineer.pk]},
                                              format="json"), 409)
    assert not ChangeOpinion.objects.exists()


def test_steps_are_recorded_by_the_implementer_while_implementing(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    scheduled = change_in_state(State.SCHEDULED, crew)
    assert_error(api_as(crew.implementer).post(url(scheduled, "steps/1/"), {"status": "done"}, format="json"), 409)
    change = change_in_state(State.IMPLEMENTING, crew)
    client = api_as(crew.implementer)
    assert_error(api_as(crew.engineer).post(url(change, "steps/1/"), {"status": "done"}, format="json"), 403)
    assert_error(client.post(url(change, "steps/1/"), {"status": "skipped"}, format="json"), 400)
    assert_error(client.post(url(change, "steps/1/"), {"status": "pending"}, format="json"), 400)
    assert_error(client.post(url(change, "steps/9/"), {"status": "done"}, format="json"), 400)
    assert_error(client.post(url(change, f"steps/{2**70}/"), {"status": "done"}, format="json"), 400)
    assert client.post(url(change, "steps/1/"), {"status": "done", "note": "ok"}, format="json").status_code == 200
    assert_error(client.post(url(change, "steps/1/"), {"status": "done"}, format="json"), 409, "already_recorded")
    statuses = [s.status for s in reload(change).steps.order_by("position")]
    assert statuses == [StepStatus.DONE, StepStatus.PENDING, StepStatus.PENDING]


def test_post_implementation_review(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    change = change_in_state(State.ROLLED_BACK, crew)
    review = {"held_on": str(timezone.localdate()), "participants": "Supervisor, implementer",
              "summary": "The cluster did not start.", "lessons": "Test the restart.", "actions": "Runbook: Ann."}
    assert_error(api_as(crew.implementer).post(url(change, "reviews/"), review, format="json"), 403)
    assert_error(api_as(crew.supervisor).post(url(change, "reviews/"), {**review, "summary": ""}, format="json"), 400)
    response = api_as(crew.supervisor).post(url(change, "reviews/"), review, format="json")
    assert response.status_code == 201 and response.json()["recorded_by"]["id"] == crew.supervisor.pk
    assert [r["summary"] for r in api_as(crew.requester).get(url(change, "reviews/")).json()] == [review["summary"]]
    body = api_as(crew.supervisor).post(move(change, "close"), {"review": "Lessons taken."}, format="json").json()
    assert (body["state"], body["outcome"]) == ("closed", "rolled_back")
    assert ChangeReview.objects.filter(change=change).count() == 1


def test_comments_attachments_and_timeline(api_as, crew: ChangeCrew, settings, tmp_path) -> None:  # noqa: ANN001
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    change = change_in_state(State.SUBMITTED, crew)
    client = api_as(crew.requester)
    assert client.post(url(change, "comments/"), {"body": "Window agreed with ERP owners."},
                       format="json").status_code == 201
    upload = SimpleUploadedFile("plan.txt", b"step 1", content_type="text/plain")
    assert client.post(url(change, "attachments/"), {"file": upload}, format="multipart").status_code == 201
    assert [a["name"] for a in client.get(url(change, "attachments/")).json()] == ["plan.txt"]
    kinds = [e["kind"] for e in client.get(url(change, "timeline/")).json()]
    assert {"transition", "comment", "attachment"} <= set(kinds)
    names = [t["name"] for t in api_as(crew.supervisor).get(url(change, "available-transitions/")).json()]
    assert names == ["start_assessment", "send_back", "cancel"]


# --- Templates, windows, questionnaire -------------------------------------------------------------------------


TEMPLATE = {"name": "Rotate the TLS certificate", "category": "other", "description": "Install the new cert.",
            "purpose": "Expiry.", "impact_scope": "None.", "risk_assessment": "Low.",
            "risk_mitigation": "Old cert kept.",
            "steps": ["Upload", "Reload the proxy"], "rollback_plan": "Restore the old cert.",
            "contingency_plan": "Call the CA."}


def test_templates_proposed_approved_and_retired(api_as, crew: ChangeCrew, finance_user) -> None:  # noqa: ANN001
    response = api_as(crew.engineer).post(TEMPLATES, {**TEMPLATE, "services": [crew.service.pk]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["proposed_by"]["id"], body["services"]) == (
        "proposed", crew.engineer.pk, [crew.service.pk])
    template = ChangeTemplate.objects.get(pk=body["id"])
    assert_error(api_as(crew.engineer).post(f"{TEMPLATES}{template.pk}/transitions/approve/", {}, format="json"), 403)
    body = api_as(crew.supervisor).post(f"{TEMPLATES}{template.pk}/transitions/approve/", {}, format="json").json()
    assert body["state"] == "approved" and body["approved_by"]["id"] == crew.supervisor.pk
    assert_error(api_as(crew.supervisor).post(f"{TEMPLATES}{template.pk}/transitions/approve/", {}, format="json"),
                 409, "invalid_state")
    assert_error(api_as(crew.supervisor).post(f"{TEMPLATES}{template.pk}/transitions/fly/", {}, format="json"), 400)
    assert api_as(crew.supervisor).post(f"{TEMPLATES}{template.pk}/transitions/retire/", {},
                                        format="json").json()["state"] == "retired"
    assert [t["name"] for t in api_as(crew.requester).get(TEMPLATES, {"state": "retired"}).json()["results"]] == [
        TEMPLATE["name"]]
    assert_error(api_as(finance_user).get(TEMPLATES), 403)


def test_template_bad_input(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    assert_error(api_as(crew.engineer).post(TEMPLATES, {**TEMPLATE, "steps": []}, format="json"), 400)
    assert_error(api_as(crew.engineer).post(TEMPLATES, {**TEMPLATE, "state": "approved"}, format="json"), 400)
    assert api_as(crew.engineer).post(TEMPLATES, TEMPLATE, format="json").status_code == 201
    assert_error(api_as(crew.engineer).post(TEMPLATES, TEMPLATE, format="json"), 400)
    template = ChangeTemplate.objects.get()
    body = assert_error(api_as(crew.engineer).post(f"{TEMPLATES}{template.pk}/transitions/approve/", {},
                                                   format="json"), 403)
    assert body and ChangeTemplate.objects.get().state == TemplateState.PROPOSED


def test_freeze_windows_for_supervisors(api_as, crew: ChangeCrew, finance_user) -> None:  # noqa: ANN001
    start = timezone.now() + timedelta(days=30)
    window = {"name": "Year-end close", "starts_at": start.isoformat(),
              "ends_at": (start + timedelta(days=5)).isoformat(), "reason": "Finance close.",
              "services": [crew.service.pk]}
    assert_error(api_as(crew.engineer).post(FREEZES, window, format="json"), 403)
    body = assert_error(api_as(crew.supervisor).post(FREEZES, {**window, "ends_at": window["starts_at"]},
                                                     format="json"), 400, "invalid")
    assert "ends_at" in body["detail"] and not FreezeWindow.objects.exists()
    response = api_as(crew.supervisor).post(FREEZES, window, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created_by"]["id"] == crew.supervisor.pk
    pk = response.json()["id"]
    assert [w["name"] for w in api_as(crew.engineer).get(FREEZES).json()["results"]] == ["Year-end close"]
    assert_error(api_as(crew.engineer).patch(f"{FREEZES}{pk}/", {"name": "Mine"}, format="json"), 403)
    early = (start - timedelta(days=1)).isoformat()
    assert_error(api_as(crew.supervisor).patch(f"{FREEZES}{pk}/", {"ends_at": early}, format="json"), 400)
    assert FreezeWindow.objects.get().ends_at == start + timedelta(days=5)
    assert api_as(crew.supervisor).patch(f"{FREEZES}{pk}/", {"services": []}, format="json").json()["services"] == []
    assert_error(api_as(finance_user).get(FREEZES), 403)
    assert api_as(crew.supervisor).delete(f"{FREEZES}{pk}/").status_code == 204
    assert not FreezeWindow.objects.exists()


def test_maintenance_windows_for_supervisors(api_as, crew: ChangeCrew) -> None:  # noqa: ANN001
    window = {"service": crew.service.pk, "name": "Saturday night", "recurrence": "FREQ=WEEKLY;BYDAY=SA",
              "start_time": "22:00", "duration_minutes": 240}
    assert_error(api_as(crew.engineer).post(MAINTENANCE, window, format="json"), 403)
    assert_error(api_as(crew.supervisor).post(MAINTENANCE, {**window, "recurrence": "EVERY SATURDAY"},
                                              format="json"), 400)
    assert_error(api_as(crew.supervisor).post(MAINTENANCE, {**window, "duration_minutes": 0}, format="json"), 400)
    assert not MaintenanceWindow.objects.exists()
    response = api_as(crew.supervisor).post(MAINTENANCE, window, format="json")
    assert response.status_code == 201, response.content
    assert api_as(crew.engineer).get(MAINTENANCE, {"service": crew.service.pk}).json()["count"] == 1


def test_the_risk_questionnaire(api_as, finance_user) -> None:  # noqa: ANN001
    body = api_as(finance_user).get(QUESTIONS).json()
    assert len(body) == RiskQuestion.objects.filter(is_active=True).count() == 5
    first = body[0]
    assert first["text"] == "How many users does the change affect?"
    assert [(o["label"], o["weight"]) for o in first["options"]][:2] == [("One team or fewer", 0),
                                                                        ("One department", 2)]


# --- Query counts -------------------------------------------------------------------------------------------


def add_changes(crew: ChangeCrew, n: int) -> None:
    """n changes spread over the states a list shows, each with its votes, steps and services."""
    states = [State.DRAFT, State.SUBMITTED, State.AWAITING_APPROVAL, State.APPROVED, State.SCHEDULED,
              State.IMPLEMENTING, State.COMPLETED]
    for i in range(n):
        change_in_state(states[i % len(states)], crew, start_in=timedelta(days=7 + 2 * i))


def list_queries(client: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGES, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


# Token with its user; the user's own permissions, their groups' permissions, their roles; the count; the rows
# (joined with requester, implementer and template); services, CAB members, votes, steps and reviews of the
# page's rows.
LIST_QUERIES = 11


@pytest.mark.parametrize("who", ["supervisor", "implementer", "approver"])
def test_list_query_count_does_not_grow_with_rows(api_as, crew: ChangeCrew, django_assert_num_queries,  # noqa: ANN001
                                                  who: str) -> None:
    client = api_as(getattr(crew, who))
    add_changes(crew, 7)
    few, rows = list_queries(client)
    assert rows == 7
    add_changes(crew, 14)
    many, rows = list_queries(client)
    assert rows == 21 and many == few
    with django_assert_num_queries(LIST_QUERIES):
        client.get(CHANGES, {"page_size": 100})


def test_department_users_list_query_count(api_as, crew: ChangeCrew, finance, finance_user,  # noqa: ANN001
                                           django_assert_num_queries) -> None:
    service = ServiceFactory(owner_department=finance)
    for _ in range(4):
        draft_change(crew, services=[service])
    client = api_as(finance_user)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(CHANGES)
    assert response.json()["count"] == 4


# Token; permissions (2); roles; the row (with requester, implementer, template, assessor); services, CIs,
# CAB members, related incidents, votes with voters, steps with who recorded them, opinions, reviews; and the
# problems it was raised from (a field problem management adds through the kernel's registry).
DETAIL_QUERIES = 14


@pytest.mark.parametrize("state", [State.DRAFT, State.AWAITING_APPROVAL, State.APPROVED, State.IMPLEMENTING,
                                   State.COMPLETED])
def test_detail_query_count(api_as, crew: ChangeCrew, django_assert_num_queries, state: str) -> None:  # noqa: ANN001
    change = change_in_state(state, crew, risk=RiskLevel.HIGH if state == State.AWAITING_APPROVAL else RiskLevel.LOW)
    client = api_as(crew.supervisor)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(url(change))
    assert response.status_code == 200 and response.json()["state"] == state


def queries(client: Any, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def add_reference_rows(crew: ChangeCrew, n: int) -> None:
    """Templates, freeze and maintenance windows, and votes (approved changes)."""
    for _ in range(n):
        tag = ChangeTemplate.objects.count()
        template = approved_template(crew, name=f"Template {tag}")
        template.services.set([crew.service, ServiceFactory()])
        start = timezone.now() + timedelta(days=60 + tag)
        FreezeWindow.objects.create(name=f"Freeze {tag}", starts_at=start,
                                    ends_at=start + timedelta(days=1)).services.set([crew.service])
        MaintenanceWindow.objects.create(service=ServiceFactory(), name=f"Window {tag}", start_time="22:00",
                                         duration_minutes=60)
        change_in_state(State.APPROVED, crew, start_in=timedelta(days=7 + tag))


# Token, permissions (2), the page's count and its rows, plus: templates' services and the caller's roles (for their
# transitions); freeze windows' creators (joined) and services; maintenance windows' services (joined); votes'
# voters and changes (joined), the caller's roles for the visibility of their changes (a subquery).
# The questionnaire: token, its questions, their options.
REFERENCE_QUERIES = {TEMPLATES: 7, FREEZES: 6, MAINTENANCE: 5, VOTES: 6, QUESTIONS: 3}


@pytest.mark.parametrize("path", list(REFERENCE_QUERIES))
def test_reference_lists_query_counts(api_as, crew: ChangeCrew, django_assert_num_queries, path: str) -> None:  # noqa: ANN001
    client = api_as(crew.supervisor)
    add_reference_rows(crew, 1)
    few = queries(client, path)
    add_reference_rows(crew, 3)
    assert queries(client, path) == few
    with django_assert_num_queries(REFERENCE_QUERIES[path]):
        client.get(path)


# Token, permissions (2), roles, the change, and then: the votes with voters; the opinions with reviewers; the
# schedule check (changes.rules): the affected services (twice), freezes with their services, maintenance
# windows, and the other changes in the window with their services and CIs.
PER_CHANGE_QUERIES = {"votes/": 6, "opinions/": 6, "schedule-check/": 17}


@pytest.mark.parametrize("suffix", list(PER_CHANGE_QUERIES))
def test_per_change_lists_query_counts(api_as, crew: ChangeCrew, django_assert_num_queries, suffix: str) -> None:  # noqa: ANN001
    change = change_in_state(State.AWAITING_APPROVAL, crew, risk=RiskLevel.HIGH)
    frozen = ServiceFactory()  # the freezes are on a second service of the change: the others are scheduled
    change.services.add(frozen)
    client = api_as(crew.supervisor)

    def grow(n: int) -> None:
        """n more conflicting changes, opinions, freezes and maintenance windows."""
        for i in range(n):
            start = change.planned_start + timedelta(minutes=10 * (ChangeOpinion.objects.count() + i))
            change_in_state(State.SCHEDULED, crew, start_in=start - timezone.now())
            ChangeOpinion.objects.create(change=change, reviewer=UserFactory(roles=[roles.SYSTEM_ENGINEER]))
            FreezeWindow.objects.create(name="Freeze", starts_at=change.planned_start,
                                        ends_at=change.planned_end).services.set([frozen])
            MaintenanceWindow.objects.create(service=frozen, name="Night", start_time="03:00", duration_minutes=30)

    grow(1)
    if suffix == "votes/":
        change_transition(change, "approve", user=crew.cab[0], comment="Yes.")
    few = queries(client, url(change, suffix))
    grow(2)
    if suffix == "votes/":
        change_transition(change, "approve", user=crew.cab[1], comment="Yes.")
    assert queries(client, url(change, suffix)) == few
    with django_assert_num_queries(PER_CHANGE_QUERIES[suffix]):
        client.get(url(change, suffix))
