"""The incident API as a client sees it (DESIGN §6): list with filters and search, detail, report, edit,
transitions per role, available transitions, timeline, comments, attachments, links, review meetings,
categories and the priority matrix — with visibility (another department's incident is 404 everywhere;
security incidents for the security team, supervisors and the reporter), the JSON error shape, and
query counts that do not grow with the rows."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import assert_error
from incidents.choices import CancelReason, Channel, HoldReason, Priority, State
from incidents.models import Incident, MajorIncidentReview
from incidents.services import incident_transition
from incidents.tests.factories import (
    REVIEW,
    Crew,
    IncidentFactory,
    category,
    incident_in_state,
    incident_row,
    make_crew,
    report,
    transition_data,
)
from opscenter.core import roles
from opscenter.core.choices import TeamKind
from opscenter.core.models import Attachment, Comment, FieldChange, TransitionLog
from opscenter.core.tests.factories import (
    ConfigurationItemFactory,
    DepartmentFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"
CATEGORIES = "/api/v1/incident-categories/"
MATRIX = "/api/v1/priority-matrix/"


def url(incident: Incident, suffix: str = "") -> str:
    return f"{INCIDENTS}{incident.pk}/{suffix}"


def numbers(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def reload(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # noqa: ANN001
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def crew() -> Crew:
    """Finance's people: a caller, the duty officer, a system engineer and a supervisor."""
    return make_crew(department=DepartmentFactory(code="finance", name="Finance"))


@pytest.fixture
def hr_caller():  # noqa: ANN201
    return UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory(code="hr", name="HR"))


@pytest.fixture
def hr_incident(crew: Crew, hr_caller) -> Incident:  # noqa: ANN001
    return report(crew, caller=hr_caller, title="Payroll export hangs", description="HR payroll export stops at 90%")


# --- List, search and filters ---------------------------------------------------------------------------------


def test_list_shows_what_a_row_needs(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_in_state(State.HANDLING, crew=crew)
    response = api_as(crew.supervisor).get(INCIDENTS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and set(body) >= {"count", "next", "previous", "results"}
    [row] = body["results"]
    assert row["number"] == incident.number and row["number"].startswith("INC-")
    assert (row["state"], row["state_label"], row["priority"], row["priority_label"]) == (
        "handling", "Handling", "P3", "P3 – medium")
    assert row["category"] == {"id": category("software").pk, "code": "software", "name": "Software",
                               "is_security": False}
    assert row["team"]["id"] == crew.team.pk and row["assignee"]["username"] == crew.engineer.username
    assert row["department"]["code"] == "finance" and row["caller"]["id"] == crew.caller.pk
    assert row["created_by"]["id"] == crew.duty.pk
    assert row["is_major"] is False and row["parent"] is None
    assert row["available_transitions"] == ["reclassify", "reassign", "hold", "declare_major"]


def test_department_user_lists_only_their_department(api_as, crew: Crew, hr_caller, hr_incident) -> None:  # noqa: ANN001
    finance = report(crew)
    assert numbers(api_as(crew.caller).get(INCIDENTS)) == [finance.number]
    assert numbers(api_as(hr_caller).get(INCIDENTS)) == [hr_incident.number]
    assert set(numbers(api_as(crew.supervisor).get(INCIDENTS))) == {finance.number, hr_incident.number}
    colleague = UserFactory(roles=[roles.DEPARTMENT_USER], department=crew.department)
    assert numbers(api_as(colleague).get(INCIDENTS)) == [finance.number]


@pytest.mark.parametrize("params", [
    {"q": "payroll"}, {"search": "payroll"}, {"q": "HR payroll export"}, {"search": "Payroll export hangs"},
    {"department": "{hr}"}, {"state": "reported"}, {"q": "{number}"}, {"search": "{number}"},
])
def test_another_departments_incident_never_shows_in_search_or_filters(  # noqa: ANN001
    api_as, crew: Crew, hr_incident, params: dict[str, str]
) -> None:
    params = {k: v.format(hr=hr_incident.department_id, number=hr_incident.number) for k, v in params.items()}
    assert numbers(api_as(crew.supervisor).get(INCIDENTS, params)) == [hr_incident.number]
    assert numbers(api_as(crew.caller).get(INCIDENTS, params)) == []


def test_another_departments_incident_is_404_on_every_endpoint(  # noqa: ANN001
    api_as, crew: Crew, hr_incident
) -> None:
    client = api_as(crew.caller)
    for suffix in ("", "available-transitions/", "timeline/", "attachments/", "children/", "reviews/"):
        assert_error(client.get(url(hr_incident, suffix)), 404, "not_found")
    assert_error(client.patch(url(hr_incident), {"title": "mine now"}, format="json"), 404, "not_found")
    assert_error(client.post(url(hr_incident, "transitions/reopen/"), {"comment": "x"}, format="json"), 404)
    assert_error(client.post(url(hr_incident, "comments/"), {"body": "hello"}, format="json"), 404)
    assert_error(client.post(url(hr_incident, "link/"), {"parent": None}, format="json"), 404)
    assert_error(client.post(url(hr_incident, "reviews/"), REVIEW, format="json"), 404)
    incident = reload(hr_incident)
    assert (incident.title, incident.state) == ("Payroll export hangs", State.REPORTED)
    assert not Comment.objects.exists()


def test_filters(api_as, crew: Crew) -> None:  # noqa: ANN001
    reported = report(crew, title="Printer jam")
    handling = incident_row(State.HANDLING, crew=crew, title="ERP down", impact=1, urgency=1, priority="P1",
                            category=category("network"))
    held = incident_row(State.ON_HOLD, crew=crew, title="VPN flaps")
    major = incident_row(State.DIAGNOSING, crew=crew, title="Data centre power", major=True)
    client = api_as(crew.supervisor)

    def found(**params: Any) -> set[str]:
        return set(numbers(client.get(INCIDENTS, params)))

    assert found(state=["reported", "on_hold"]) == {reported.number, held.number}
    assert found(priority="P1") == {handling.number}
    assert found(priority=["P1", "P3"]) == {handling.number, held.number, major.number}
    assert found(category="network") == {handling.number}
    assert found(team=crew.team.pk) == {handling.number, held.number, major.number}
    assert found(assignee=crew.engineer.pk) == {handling.number, held.number, major.number}
    assert found(department=crew.department.pk) == {reported.number, handling.number, held.number, major.number}
    assert found(is_major="true") == {major.number}
    assert found(q="printer") == {reported.number}
    assert found(search="vpn") == {held.number}
    today = timezone.localdate()
    assert len(found(created_after=today.isoformat(), created_before=today.isoformat())) == 4
    assert found(created_after=(today + timedelta(days=1)).isoformat()) == set()
    assert found(created_before=(today - timedelta(days=1)).isoformat()) == set()
    assert len(found(occurred_after=(today - timedelta(days=1)).isoformat())) == 4
    ordered = client.get(INCIDENTS, {"ordering": "created_at"}).json()["results"]
    assert [row["number"] for row in ordered][0] == reported.number


def test_a_list_naming_no_filter_is_not_put_through_the_filterset_and_lists_the_same(  # noqa: ANN001
        api_as, crew: Crew, monkeypatch) -> None:
    """Paging, search and ordering alone leave the filterset unbuilt; any parameter that names a filter, blank
    or not, goes through it (and its validation)."""
    from incidents.filters import IncidentFilterSet

    printer = report(crew, title="Printer jam")
    report(crew, title="ERP down")
    built: list[dict] = []
    original = IncidentFilterSet.__init__

    def spy(self, data=None, *args, **kwargs) -> None:  # noqa: ANN001
        built.append(dict(data or {}))
        original(self, data, *args, **kwargs)

    monkeypatch.setattr(IncidentFilterSet, "__init__", spy)
    client = api_as(crew.supervisor)
    assert numbers(client.get(INCIDENTS, {"search": "printer", "ordering": "created_at", "page_size": 10})) == [
        printer.number]
    assert len(numbers(client.get(INCIDENTS))) == 2 and built == []
    assert numbers(client.get(INCIDENTS, {"q": "printer"})) == [printer.number] and len(built) == 1
    assert len(numbers(client.get(INCIDENTS, {"team": ""}))) == 2 and len(built) == 2
    assert_error(client.get(INCIDENTS, {"created_after": "soon"}), 400, "invalid")
    assert len(built) == 3


@pytest.mark.parametrize(("params", "field"), [
    ({"state": "exploded"}, "state"),
    ({"state": ["reported", "exploded"]}, "state"),
    ({"priority": "P9"}, "priority"),
    ({"category": "weather"}, "category"),
    ({"team": "999999"}, "team"),
    ({"assignee": "abc"}, "assignee"),
    ({"is_major": "maybe"}, "is_major"),
    ({"created_after": "yesterday"}, "created_after"),
])
def test_invalid_filter_values_are_400_naming_the_filter(api_as, crew: Crew, params, field: str) -> None:  # noqa: ANN001
    report(crew)
    body = assert_error(api_as(crew.supervisor).get(INCIDENTS, params), 400, "invalid")
    assert field in body["detail"], body


def test_page_out_of_range_is_404_json(api_as, crew: Crew) -> None:  # noqa: ANN001
    assert_error(api_as(crew.supervisor).get(INCIDENTS, {"page": 9}), 404, "not_found")


def test_list_needs_a_sign_in(api) -> None:  # noqa: ANN001
    assert_error(api.get(INCIDENTS), 401, "not_authenticated")


# --- Security incidents ---------------------------------------------------------------------------------------


def test_security_incidents_are_seen_by_the_security_team_supervisors_and_the_reporter(  # noqa: ANN001
    api_as, crew: Crew
) -> None:
    incident = incident_row(State.CLASSIFIED, crew=crew, category=category("security"),
                            title="Phishing mail opened", description="Malware alert on PC-0231")
    security = TeamFactory(kind=TeamKind.SECURITY)
    analyst = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    security.members.add(analyst)
    colleague = UserFactory(roles=[roles.DEPARTMENT_USER], department=crew.department)
    seeing = [crew.supervisor, analyst, crew.duty, crew.caller]  # the duty officer recorded it
    blind = [crew.engineer, UserFactory(roles=[roles.DUTY_OFFICER]), UserFactory(roles=[roles.AUDITOR]), colleague]

    for user in seeing:
        client = api_as(user)
        assert client.get(url(incident)).status_code == 200, user
        assert numbers(client.get(INCIDENTS, {"q": "phishing"})) == [incident.number]
    for user in blind:
        client = api_as(user)
        assert_error(client.get(url(incident)), 404, "not_found")
        assert numbers(client.get(INCIDENTS)) == []
        assert numbers(client.get(INCIDENTS, {"category": "security"})) == []
        assert numbers(client.get(INCIDENTS, {"search": "PC-0231"})) == []


def test_classifying_as_security_hides_it_from_a_classifier_outside_the_security_team(  # noqa: ANN001
    api_as, crew: Crew
) -> None:
    incident = report(crew)
    engineer = UserFactory(roles=[roles.NETWORK_ENGINEER])
    response = api_as(engineer).post(url(incident, "transitions/classify/"),
                                     {"category": "security", "impact": 2, "urgency": 2}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": incident.pk, "number": incident.number, "state": "classified",
                               "state_label": "Classified", "visible": False}
    assert_error(api_as(engineer).get(url(incident)), 404)


# --- Detail ---------------------------------------------------------------------------------------------------


def test_detail_shows_the_whole_record(api_as, crew: Crew) -> None:  # noqa: ANN001
    service = ServiceFactory(name="ERP")
    ci = ConfigurationItemFactory(name="erp-db-01")
    ci.services.add(service)
    incident = incident_row(State.RESOLVED, crew=crew, service=service, configuration_item=ci)
    body = api_as(crew.engineer).get(url(incident)).json()
    assert body["service"] == {"id": service.pk, "code": service.code, "name": "ERP"}
    assert body["configuration_item"]["name"] == "erp-db-01"
    assert (body["description"], body["impact_scope"], body["channel"]) == (
        "Users see a timeout on the ERP login page.", "Finance department", Channel.PHONE)
    assert (body["impact"], body["urgency"], body["priority"]) == (2, 2, "P3")
    assert (body["diagnosis_cause"], body["measures"], body["resolution"]) == (
        "RAID controller failed", "Controller replaced, array rebuilt", "Controller replaced")
    assert body["resolved_by"] == crew.engineer.pk and body["first_response_at"] and body["resolved_at"]
    assert body["available_transitions"] == ["submit_report", "reopen"]


def test_unknown_incident_is_404_json(api_as, crew: Crew) -> None:  # noqa: ANN001
    assert_error(api_as(crew.supervisor).get(f"{INCIDENTS}999999/"), 404, "not_found")


# --- Report (create) ------------------------------------------------------------------------------------------


def report_payload(**fields: Any) -> dict[str, Any]:
    return {"title": "Email bounces", "description": "Outgoing mail bounces with 550",
            "occurred_at": (timezone.now() - timedelta(minutes=10)).isoformat(), "impact_scope": "Whole company",
            "channel": Channel.PHONE, **fields}


def test_duty_officer_records_a_phone_report_for_a_caller(api_as, crew: Crew) -> None:  # noqa: ANN001
    response = api_as(crew.duty).post(INCIDENTS, report_payload(caller=crew.caller.pk, caller_contact="ext 123"),
                                      format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get(pk=body["id"])
    assert (incident.created_by, incident.caller, incident.department, incident.channel) == (
        crew.duty, crew.caller, crew.department, Channel.PHONE)
    assert (body["state"], body["priority"], body["caller"]["id"], body["caller_contact"]) == (
        "reported", "", crew.caller.pk, "ext 123")
    assert body["available_transitions"] == ["classify", "cancel"]
    [log] = TransitionLog.objects.filter(object_id=incident.pk, transition="report")
    assert (log.actor, log.target_state) == (crew.duty, State.REPORTED)


def test_duty_officer_may_name_a_caller_who_is_not_a_user(api_as, crew: Crew) -> None:  # noqa: ANN001
    response = api_as(crew.duty).post(INCIDENTS, report_payload(caller_name="Mr Lin (warehouse)"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["caller_name"] == "Mr Lin (warehouse)" and response.json()["caller"] is None


def test_duty_officer_must_name_the_caller(api_as, crew: Crew) -> None:  # noqa: ANN001
    body = assert_error(api_as(crew.duty).post(INCIDENTS, report_payload(), format="json"), 400, "invalid")
    assert "caller_name" in body["detail"]
    assert not Incident.objects.exists()


def test_department_user_reports_for_themselves_on_the_web(api_as, crew: Crew, hr_caller) -> None:  # noqa: ANN001
    response = api_as(crew.caller).post(INCIDENTS, report_payload(channel=Channel.PHONE, caller=hr_caller.pk,
                                                                  department=hr_caller.department_id),
                                        format="json")
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert (incident.caller, incident.created_by, incident.department, incident.channel) == (
        crew.caller, crew.caller, crew.department, Channel.WEB)
    assert numbers(api_as(hr_caller).get(INCIDENTS)) == []


@pytest.mark.parametrize("missing", ["title", "description", "occurred_at", "impact_scope", "channel"])
def test_report_names_each_missing_field_and_creates_nothing(api_as, crew: Crew, missing: str) -> None:  # noqa: ANN001
    payload = report_payload(caller=crew.caller.pk)
    del payload[missing]
    body = assert_error(api_as(crew.duty).post(INCIDENTS, payload, format="json"), 400, "invalid")
    assert list(body["detail"]) == [missing]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("priority", "P1"), ("state", "closed"), ("impact", 1), ("urgency", 1), ("category", "network"),
    ("is_major", True),
])
def test_workflow_fields_forced_in_a_report_are_400(api_as, crew: Crew, field: str, value: Any) -> None:  # noqa: ANN401
    payload = report_payload(caller=crew.caller.pk, **{field: value})
    body = assert_error(api_as(crew.duty).post(INCIDENTS, payload, format="json"), 400, "invalid")
    assert body["detail"] == {field: ["Set by classification and transitions only."]}
    assert not Incident.objects.exists()


@pytest.mark.parametrize(("fields", "error"), [
    ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ({"channel": "pigeon"}, "channel"),
    ({"occurred_at": "last tuesday"}, "occurred_at"),
    ({"caller": 999999}, "caller"),
    ({"title": "x" * 201}, "title"),
    ({"number": "INC-2020-000001"}, "number"),
])
def test_invalid_reports_are_400_and_create_nothing(api_as, crew: Crew, fields: dict, error: str) -> None:  # noqa: ANN001
    payload = report_payload(**{"caller": crew.caller.pk, **fields})
    body = assert_error(api_as(crew.duty).post(INCIDENTS, payload, format="json"), 400, "invalid")
    assert error in body["detail"]
    assert not Incident.objects.exists()


def test_configuration_item_must_support_the_service(api_as, crew: Crew) -> None:  # noqa: ANN001
    service, other = ServiceFactory(), ServiceFactory()
    ci = ConfigurationItemFactory()
    ci.services.add(other)
    payload = report_payload(caller=crew.caller.pk, service=service.pk, configuration_item=ci.pk)
    body = assert_error(api_as(crew.duty).post(INCIDENTS, payload, format="json"), 400, "invalid")
    assert "configuration_item" in body["detail"]


def test_auditor_may_read_but_not_report(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = report(crew)
    auditor = UserFactory(roles=[roles.AUDITOR])
    client = api_as(auditor)
    assert numbers(client.get(INCIDENTS)) == [incident.number]
    assert_error(client.post(INCIDENTS, report_payload(caller_name="x"), format="json"), 403, "permission_denied")
    assert_error(client.patch(url(incident), {"title": "x"}, format="json"), 403, "permission_denied")
    assert_error(client.post(url(incident, "comments/"), {"body": "x"}, format="json"), 403)
    assert Incident.objects.count() == 1 and reload(incident).title == "ERP login fails"


def test_malformed_json_is_400(api_as, crew: Crew) -> None:  # noqa: ANN001
    response = api_as(crew.duty).post(INCIDENTS, data="{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_put_and_delete_are_not_offered(api_as, crew: Crew, method: str) -> None:  # noqa: ANN001
    incident = report(crew)
    assert_error(getattr(api_as(crew.supervisor), method)(url(incident), {}, format="json"), 405,
                 "method_not_allowed")
    assert Incident.objects.filter(pk=incident.pk).exists()


# --- HTML and script are data, not markup ---------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def test_html_in_text_fields_is_stored_as_is_and_returned_as_a_json_string(api_as, crew: Crew) -> None:  # noqa: ANN001
    client = api_as(crew.duty)
    created = client.post(INCIDENTS, report_payload(title=SCRIPT, description=IMG, impact_scope=f"<b>{SCRIPT}</b>",
                                                    caller_name=SCRIPT), format="json")
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/json"
    incident = Incident.objects.get(pk=created.json()["id"])
    assert (incident.title, incident.description, incident.caller_name) == (SCRIPT, IMG, SCRIPT)

    detail = client.get(url(incident)).json()
    assert (detail["title"], detail["description"], detail["impact_scope"]) == (SCRIPT, IMG, f"<b>{SCRIPT}</b>")
    assert client.get(INCIDENTS, {"q": "<script>"}).json()["results"][0]["title"] == SCRIPT
    assert client.post(url(incident, "comments/"), {"body": SCRIPT}, format="json").status_code == 201
    incident = incident_transition(incident, "classify", user=crew.duty,
                                   data={"category": category(), "impact": 3, "urgency": 3})
    moved = client.post(url(incident, "transitions/assign/"), {"team": crew.team.pk, "comment": IMG}, format="json")
    assert moved.status_code == 200, moved.content
    timeline = client.get(url(incident, "timeline/")).json()
    assert [e["detail"]["body"] for e in timeline if e["kind"] == "comment"] == [SCRIPT]
    assert [e["detail"]["comment"] for e in timeline if e["kind"] == "transition"][-1] == IMG
    edited = client.patch(url(incident), {"impact_scope": IMG}, format="json")
    assert edited.status_code == 200 and edited.json()["impact_scope"] == IMG


# --- Edit (partial update) --------------------------------------------------------------------------------------


def test_edit_changes_the_fields_the_state_allows_and_records_them(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = report(crew)
    response = api_as(crew.duty).patch(url(incident), {"title": "Email bounces (all domains)",
                                                       "impact_scope": "Every department"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Email bounces (all domains)"
    changes = {c.field: (c.old_value, c.new_value, c.actor) for c in FieldChange.objects.filter(object_id=incident.pk)}
    assert changes == {"title": ("ERP login fails", "Email bounces (all domains)", crew.duty),
                       "impact_scope": ("Finance department", "Every department", crew.duty)}
    timeline = api_as(crew.caller).get(url(incident, "timeline/")).json()
    assert {e["detail"]["field"] for e in timeline if e["kind"] == "change"} == {"title", "impact_scope"}


def test_edit_of_a_field_the_state_does_not_allow_is_400(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.HANDLING, crew=crew)
    body = assert_error(api_as(crew.engineer).patch(url(incident), {"description": "rewritten"}, format="json"),
                        400, "invalid")
    assert "description" in body["detail"]
    assert reload(incident).description == "Users see a timeout on the ERP login page."


@pytest.mark.parametrize(("field", "value"), [("priority", "P1"), ("state", "closed"), ("urgency", 1),
                                              ("diagnosis_cause", "forced"), ("number", "INC-1")])
def test_edit_of_workflow_or_unknown_fields_is_400(api_as, crew: Crew, field: str, value: Any) -> None:  # noqa: ANN401
    incident = incident_row(State.HANDLING, crew=crew)
    before = reload(incident)
    body = assert_error(api_as(crew.supervisor).patch(url(incident), {field: value, "title": "x"}, format="json"),
                        400, "invalid")
    assert field in body["detail"]
    after = reload(incident)
    assert (after.priority, after.state, after.title, after.updated_at) == (
        before.priority, before.state, before.title, before.updated_at)


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED])
@pytest.mark.parametrize("payload", [{"title": "Rewritten"}, {"priority": "P1"}, {}])
def test_closed_incident_edit_is_409_read_only(api_as, crew: Crew, state: str, payload: dict) -> None:  # noqa: ANN001
    incident = incident_row(state, crew=crew)
    assert_error(api_as(crew.supervisor).patch(url(incident), payload, format="json"), 409, "read_only")
    assert reload(incident).title == incident.title and not FieldChange.objects.exists()


def test_department_user_edits_only_what_they_reported(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = report(crew)
    assert api_as(crew.caller).patch(url(incident), {"impact_scope": "Only me"}, format="json").status_code == 200
    colleague = UserFactory(roles=[roles.DEPARTMENT_USER], department=crew.department)
    assert api_as(colleague).get(url(incident)).status_code == 200
    assert_error(api_as(colleague).patch(url(incident), {"impact_scope": "x"}, format="json"), 403)
    assert reload(incident).impact_scope == "Only me"


def test_department_user_cannot_move_their_report_to_another_department(api_as, crew: Crew, hr_caller) -> None:  # noqa: ANN001
    incident = report(crew)
    response = api_as(crew.caller).patch(url(incident), {"department": hr_caller.department_id}, format="json")
    assert response.status_code in (400, 403)
    assert reload(incident).department == crew.department


# --- Transitions ------------------------------------------------------------------------------------------------


def test_classify_by_category_code_or_id_computes_the_priority(api_as, crew: Crew) -> None:  # noqa: ANN001
    first, second = report(crew), report(crew)
    client = api_as(crew.duty)
    response = client.post(url(first, "transitions/classify/"), {"category": "network", "impact": 1, "urgency": 2,
                                                                 "comment": "Core switch"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["priority"], response.json()["category"]["code"]) == (
        "classified", "P2", "network")
    response = client.post(url(second, "transitions/classify/"),
                           {"category": category("desktop").pk, "impact": "3", "urgency": "3"}, format="json")
    assert (response.json()["priority"], response.json()["category"]["code"]) == ("P4", "desktop")


@pytest.mark.parametrize(("payload", "field"), [
    ({"impact": 1, "urgency": 1}, "category"),
    ({"category": "weather", "impact": 1, "urgency": 1}, "category"),
    ({"category": 999999, "impact": 1, "urgency": 1}, "category"),
    ({"category": ["network"], "impact": 1, "urgency": 1}, "category"),
    ({"category": "network", "impact": 4, "urgency": 1}, "impact"),
    ({"category": "network", "impact": 1}, "urgency"),
    ({"category": "network", "impact": 1, "urgency": 1, "priority": "P1"}, "priority"),
    ({"category": "network", "impact": 1, "urgency": 1, "state": "closed"}, "state"),
])
def test_classify_with_bad_data_is_400_and_changes_nothing(api_as, crew: Crew, payload: dict, field: str) -> None:  # noqa: ANN001
    incident = report(crew)
    body = assert_error(api_as(crew.duty).post(url(incident, "transitions/classify/"), payload, format="json"),
                        400, "invalid")
    assert field in body["detail"]
    after = reload(incident)
    assert (after.state, after.priority) == (State.REPORTED, "")
    assert TransitionLog.objects.filter(object_id=incident.pk).count() == 1


@pytest.mark.parametrize(("state", "name", "payload", "field"), [
    (State.CLASSIFIED, "assign", {"team": 999999}, "team"),
    (State.CLASSIFIED, "assign", {}, "team"),
    (State.DIAGNOSING, "start_handling", {"cause": "  ", "scope": "ERP"}, "cause"),
    (State.DIAGNOSING, "start_handling", {"cause": "Disk"}, "scope"),
    (State.HANDLING, "restore", {}, "measures"),
    (State.RECOVERING, "confirm_recovery", {"function_ok": True, "performance_ok": True, "data_ok": True,
                                            "function_note": "ok", "performance_note": "ok",
                                            "resolution": "done"}, "data_note"),
    (State.RECOVERING, "confirm_recovery", {"function_ok": True, "performance_ok": True, "data_ok": True,
                                            "function_note": "ok", "performance_note": "ok", "data_note": "ok"},
     "resolution"),
    (State.RECOVERING, "confirm_recovery", {"function_note": "ok", "performance_note": "ok", "data_note": "ok",
                                            "performance_ok": True, "data_ok": True}, "function_ok"),
    (State.RESOLVED, "submit_report", {"cause": "a", "process": "b", "measures": "c"}, "result"),
    (State.HANDLING, "hold", {"reason": "lunch"}, "reason"),
    (State.CLASSIFIED, "cancel", {}, "reason"),
    (State.CLASSIFIED, "cancel", {"reason": CancelReason.DUPLICATE}, "duplicate_of"),
    (State.CLASSIFIED, "cancel", {"reason": CancelReason.DUPLICATE, "duplicate_of": 999999}, "duplicate_of"),
    (State.RESOLVED, "reopen", {}, "comment"),
    (State.UNDER_REVIEW, "return_report", {"comment": " "}, "comment"),
    (State.HANDLING, "restore", {"measures": "x", "resolution": "sneaked in"}, "resolution"),
])
def test_transition_data_is_required_and_bad_data_changes_nothing(  # noqa: ANN001
    api_as, crew: Crew, state: str, name: str, payload: dict, field: str
) -> None:
    incident = incident_row(state, crew=crew)
    history = TransitionLog.objects.filter(object_id=incident.pk).count()
    user = crew.actor(name) if name != "reopen" else crew.engineer
    body = assert_error(api_as(user).post(url(incident, f"transitions/{name}/"), payload, format="json"),
                        400, "invalid")
    assert field in body["detail"], body
    assert reload(incident).state == state
    assert TransitionLog.objects.filter(object_id=incident.pk).count() == history


def test_unknown_and_internal_transitions_are_400(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.HANDLING, crew=crew)
    client = api_as(crew.supervisor)
    assert_error(client.post(url(incident, "transitions/explode/"), {}, format="json"), 400, "unknown_transition")
    assert_error(client.post(url(incident, "transitions/save/"), {}, format="json"), 400, "unknown_transition")
    assert_error(client.post(url(incident, "transitions/resolve_with_parent/"), {"resolution": "x"}, format="json"),
                 400, "unknown_transition")
    assert reload(incident).state == State.HANDLING


def test_refusals_come_before_missing_data(api_as, crew: Crew) -> None:  # noqa: ANN001
    """Not visible → 404, wrong state → 409, not yours → 403; only then is the data checked (400)."""
    incident = incident_row(State.HANDLING, crew=crew)
    assert_error(api_as(crew.supervisor).post(url(incident, "transitions/classify/"), {}, format="json"),
                 409, "invalid_state")
    other = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    assert_error(api_as(other).post(url(incident, "transitions/restore/"), {}, format="json"),
                 403, "permission_denied")
    assert_error(api_as(crew.engineer).post(url(incident, "transitions/restore/"), {}, format="json"), 400)


# Role × transition through the endpoint: one case from each step of the road.
ROAD = [
    (State.REPORTED, "classify", {"supervisor": 200, "duty": 200, "engineer": 200, "other_engineer": 200,
                                  "caller": 403, "auditor": 403}),
    (State.CLASSIFIED, "assign", {"supervisor": 200, "duty": 200, "engineer": 403, "other_engineer": 403,
                                  "caller": 403, "auditor": 403}),
    (State.ASSIGNED, "start_diagnosis", {"supervisor": 403, "duty": 403, "engineer": 200, "other_engineer": 403,
                                         "caller": 403, "auditor": 403}),
    (State.RECOVERING, "confirm_recovery", {"supervisor": 403, "duty": 403, "engineer": 200,
                                            "other_engineer": 403, "caller": 403, "auditor": 403}),
    (State.UNDER_REVIEW, "approve_report", {"supervisor": 200, "duty": 403, "engineer": 403,
                                            "other_engineer": 403, "caller": 403, "auditor": 403}),
    (State.RESOLVED, "reopen", {"supervisor": 200, "duty": 200, "engineer": 200, "other_engineer": 403,
                                "caller": 200, "auditor": 403}),
    (State.HANDLING, "hold", {"supervisor": 200, "duty": 200, "engineer": 200, "other_engineer": 403,
                              "caller": 403, "auditor": 403}),
    (State.CLOSED, "reopen", dict.fromkeys(["supervisor", "duty", "engineer", "other_engineer", "caller"], 409)
     | {"auditor": 403}),
]


def role_user(role: str, crew: Crew):  # noqa: ANN201
    return {"supervisor": crew.supervisor, "duty": crew.duty, "engineer": crew.engineer, "caller": crew.caller,
            "other_engineer": UserFactory(roles=[roles.SYSTEM_ENGINEER]),
            "auditor": UserFactory(roles=[roles.AUDITOR])}[role]


@pytest.mark.parametrize("role", ["supervisor", "duty", "engineer", "other_engineer", "caller", "auditor"])
@pytest.mark.parametrize(("state", "name", "outcomes"), ROAD, ids=[f"{s}-{n}" for s, n, _o in ROAD])
def test_transition_endpoint_per_role(api_as, crew: Crew, state: str, name: str, outcomes: dict,  # noqa: ANN001
                                      role: str) -> None:
    incident = incident_row(state, crew=crew)
    user = role_user(role, crew)
    data, comment = transition_data(crew, name)
    payload = {key: getattr(value, "pk", value) for key, value in data.items()} | {"comment": comment}
    if name == "classify":
        payload["category"] = "software"
    response = api_as(user).post(url(incident, f"transitions/{name}/"), payload, format="json")
    status = outcomes[role]
    if status == 200:
        assert response.status_code == 200, response.content
        assert response.json()["state"] != state or name == "hold"
        assert reload(incident).state == response.json()["state"]
        return
    assert_error(response, status, {403: "permission_denied", 409: "invalid_state"}[status])
    assert reload(incident).state == state


def test_work_through_the_api_from_report_to_close(api_as, crew: Crew) -> None:  # noqa: ANN001
    created = api_as(crew.duty).post(INCIDENTS, report_payload(caller=crew.caller.pk), format="json").json()
    incident = Incident.objects.get(pk=created["id"])
    steps = [
        (crew.duty, "classify", {"category": "software", "impact": 2, "urgency": 1}, "classified"),
        (crew.duty, "assign", {"team": crew.team.pk, "assignee": crew.engineer.pk}, "assigned"),
        (crew.engineer, "start_diagnosis", {}, "diagnosing"),
        (crew.engineer, "hold", {"reason": HoldReason.CALLER, "comment": "Caller away"}, "on_hold"),
        (crew.engineer, "resume", {}, "diagnosing"),
        (crew.engineer, "start_handling", {"cause": "Relay blocked", "scope": "Outgoing mail"}, "handling"),
        (crew.engineer, "restore", {"measures": "Relay unblocked"}, "recovering"),
        (crew.engineer, "confirm_recovery", {"function_ok": True, "function_note": "Mail sent",
                                             "performance_ok": False, "performance_note": "Queue 10 min",
                                             "data_ok": True, "data_note": "No loss"}, "handling"),
        (crew.engineer, "restore", {"measures": "Queue flushed"}, "recovering"),
        (crew.engineer, "confirm_recovery", {"function_ok": True, "function_note": "Mail sent",
                                             "performance_ok": True, "performance_note": "Queue empty",
                                             "data_ok": True, "data_note": "No loss",
                                             "resolution": "Relay unblocked, queue flushed"}, "resolved"),
        (crew.engineer, "submit_report", {"cause": "Blocklisted relay", "process": "Delisted",
                                          "measures": "Monitor blocklists", "result": "Restored"}, "under_review"),
        (crew.supervisor, "return_report", {"comment": "Add the timeline"}, "resolved"),
        (crew.engineer, "submit_report", {"cause": "Blocklisted relay", "process": "Delisted 10:05",
                                          "measures": "Monitor blocklists", "result": "Restored"}, "under_review"),
        (crew.supervisor, "approve_report", {}, "closed"),
    ]
    for user, name, payload, state in steps:
        response = api_as(user).post(url(incident, f"transitions/{name}/"), payload, format="json")
        assert response.status_code == 200, (name, response.content)
        assert response.json()["state"] == state, name
    body = api_as(crew.caller).get(url(incident)).json()
    assert (body["state"], body["priority"], body["resolution"]) == ("closed", "P2", "Relay unblocked, queue flushed")
    assert body["available_transitions"] == []
    timeline = api_as(crew.caller).get(url(incident, "timeline/")).json()
    assert [e["detail"]["transition"] for e in timeline if e["kind"] == "transition"] == [
        "report", *[name for _u, name, _p, _s in steps]]
    assert all(e["actor"] for e in timeline)


def test_reassign_through_the_api_is_logged(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.DIAGNOSING, crew=crew)
    network = TeamFactory(kind=TeamKind.NETWORK)
    other = UserFactory(roles=[roles.NETWORK_ENGINEER])
    network.members.add(other)
    response = api_as(crew.duty).post(url(incident, "transitions/reassign/"),
                                      {"team": network.pk, "assignee": other.pk, "comment": "Network issue"},
                                      format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["team"]["id"], response.json()["assignee"]["id"]) == (
        "diagnosing", network.pk, other.pk)
    log = TransitionLog.objects.filter(object_id=incident.pk).latest("pk")
    assert (log.transition, log.actor, log.comment, log.data) == (
        "reassign", crew.duty, "Network issue", {"team": network.pk, "assignee": other.pk})


def test_cancel_as_duplicate_through_the_api(api_as, crew: Crew, hr_incident) -> None:  # noqa: ANN001
    original, incident = report(crew), report(crew)
    client = api_as(crew.duty)
    response = client.post(url(incident, "transitions/cancel/"),
                           {"reason": CancelReason.DUPLICATE, "duplicate_of": original.pk}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["duplicate_of"]) == ("cancelled", original.pk)


def test_major_incident_is_closed_only_after_its_review_meeting(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.UNDER_REVIEW, crew=crew, major=True)
    client = api_as(crew.supervisor)
    available = client.get(url(incident, "available-transitions/")).json()
    approve = next(t for t in available if t["name"] == "approve_report")
    assert approve["allowed"] is False and "review meeting" in approve["reason"]
    assert "approve_report" not in client.get(url(incident)).json()["available_transitions"]

    body = assert_error(client.post(url(incident, "transitions/approve_report/"), {}, format="json"), 409,
                        "condition_failed")
    assert "review meeting" in body["detail"]
    assert reload(incident).state == State.UNDER_REVIEW

    assert_error(api_as(crew.engineer).post(url(incident, "reviews/"), REVIEW, format="json"), 403,
                 "permission_denied")
    missing = assert_error(client.post(url(incident, "reviews/"), {"held_on": "2026-01-15"}, format="json"), 400)
    assert {"attendees", "causes", "lessons", "preventive_measures", "owners"} <= set(missing["detail"])
    recorded = client.post(url(incident, "reviews/"), REVIEW, format="json")
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["recorded_by"]["id"] == crew.supervisor.pk and recorded.json()["lessons"] == REVIEW[
        "lessons"]
    assert [r["id"] for r in api_as(crew.caller).get(url(incident, "reviews/")).json()] == [recorded.json()["id"]]
    assert "approve_report" in client.get(url(incident)).json()["available_transitions"]
    closed = client.post(url(incident, "transitions/approve_report/"), {"comment": "Reviewed"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert_error(client.post(url(incident, "reviews/"), REVIEW, format="json"), 409, "read_only")


def test_review_of_an_ordinary_incident_is_400(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.UNDER_REVIEW, crew=crew)
    assert_error(api_as(crew.supervisor).post(url(incident, "reviews/"), REVIEW, format="json"), 400, "invalid")
    assert not MajorIncidentReview.objects.exists()


def test_declare_major_through_the_api(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.HANDLING, crew=crew)
    response = api_as(crew.supervisor).post(url(incident, "transitions/declare_major/"), {}, format="json")
    assert response.status_code == 200 and response.json()["is_major"] is True
    assert_error(api_as(crew.supervisor).post(url(incident, "transitions/declare_major/"), {}, format="json"),
                 409, "condition_failed")


# --- Available transitions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "who", "names"), [
    (State.REPORTED, "duty", ["classify", "cancel"]),
    (State.REPORTED, "supervisor", ["classify", "cancel", "declare_major"]),
    (State.REPORTED, "caller", []),
    (State.ASSIGNED, "engineer", ["reclassify", "start_diagnosis", "hold"]),
    (State.HANDLING, "engineer", ["reclassify", "restore", "hold"]),
    (State.ON_HOLD, "engineer", ["reclassify", "resume"]),
    (State.RESOLVED, "caller", ["reopen"]),
    (State.UNDER_REVIEW, "supervisor", ["approve_report", "return_report", "reopen"]),
    (State.CLOSED, "supervisor", []),
])
def test_available_transitions_per_user(api_as, crew: Crew, state: str, who: str, names: list[str]) -> None:  # noqa: ANN001
    incident = incident_row(state, crew=crew)
    client = api_as(getattr(crew, who))
    assert client.get(url(incident)).json()["available_transitions"] == names
    listed = client.get(url(incident, "available-transitions/")).json()
    assert [t["name"] for t in listed if t["allowed"]] == names
    assert all(set(t) == {"name", "label", "target", "allowed", "reason"} for t in listed)


@pytest.mark.parametrize(("state", "who"), [(State.REPORTED, "supervisor"), (State.RECOVERING, "engineer"),
                                            (State.ON_HOLD, "duty"), (State.HANDLING, "duty")])
def test_available_transition_targets_are_state_names(api_as, crew: Crew, state: str, who: str) -> None:  # noqa: ANN001
    """A target is a state name; "" when the transition decides it as it runs (resume, confirm_recovery)."""
    incident = incident_row(state, crew=crew)
    listed = api_as(getattr(crew, who)).get(url(incident, "available-transitions/")).json()
    assert listed and {t["target"] for t in listed} <= {*State.values, ""}, listed
    targets = {t["name"]: t["target"] for t in listed}
    if "declare_major" in targets:  # keeps the state
        assert targets["declare_major"] == state
    for decided_when_run in ("resume", "confirm_recovery", "reassign"):
        assert targets.get(decided_when_run, "") == ""


# --- Timeline, comments, attachments --------------------------------------------------------------------------------


def test_timeline_comments_and_internal_notes(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_in_state(State.ASSIGNED, crew=crew)
    mine = api_as(crew.caller).post(url(incident, "comments/"), {"body": "Still broken", "is_internal": True},
                                    format="json")
    assert mine.status_code == 201 and mine.json()["internal"] is False
    note = api_as(crew.engineer).post(url(incident, "comments/"), {"body": "Vendor case 42", "is_internal": True},
                                      format="json")
    assert note.status_code == 201 and note.json()["internal"] is True
    assert_error(api_as(crew.engineer).post(url(incident, "comments/"), {"body": "  "}, format="json"), 400)

    def timeline(user) -> list[dict]:  # noqa: ANN001
        response = api_as(user).get(url(incident, "timeline/"))
        assert response.status_code == 200
        return response.json()

    staff = timeline(crew.engineer)
    assert [e["detail"].get("transition") for e in staff if e["kind"] == "transition"] == [
        "report", "classify", "assign"]
    assert [e["detail"]["body"] for e in staff if e["kind"] == "comment"] == ["Still broken", "Vendor case 42"]
    assert [e["detail"]["body"] for e in timeline(crew.caller) if e["kind"] == "comment"] == ["Still broken"]
    first = staff[0]
    assert (first["kind"], first["detail"]["to"], first["actor"]) == ("transition", "reported", str(crew.duty))


def upload(client: APIClient, incident: Incident, name: str, content: bytes):  # noqa: ANN201
    return client.post(url(incident, "attachments/"), {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_attachments_upload_list_download_and_visibility(api_as, crew: Crew, hr_caller) -> None:  # noqa: ANN001
    incident = report(crew)
    client = api_as(crew.caller)
    created = upload(client, incident, "screenshot.png", b"\x89PNG\r\n\x1a\n fake")
    assert created.status_code == 201, created.content
    listing = client.get(url(incident, "attachments/")).json()
    assert [(a["name"], a["size"]) for a in listing] == [("screenshot.png", 13)]
    download = api_as(crew.engineer).get(url(incident, f"attachments/{created.json()['id']}/download/"))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"\x89PNG\r\n\x1a\n fake"

    assert_error(api_as(hr_caller).get(url(incident, f"attachments/{created.json()['id']}/download/")), 404)
    assert_error(upload(client, incident, "tool.exe", b"MZ"), 400, "invalid")
    assert_error(upload(client, incident, "screenshot.png", b"MZ disguised"), 400, "invalid")
    assert Attachment.objects.count() == 1


# --- Links and children -----------------------------------------------------------------------------------------


def test_link_a_child_to_a_parent_and_list_the_children(api_as, crew: Crew, hr_caller) -> None:  # noqa: ANN001
    parent, child, hr_child = report(crew, title="Core switch down"), report(crew), report(crew, caller=hr_caller)
    client = api_as(crew.duty)
    for incident in (child, hr_child):
        response = client.post(url(incident, "link/"), {"parent": parent.pk, "comment": "x"}, format="json")
        assert_error(response, 400, "invalid")  # comment is not part of a link
        response = client.post(url(incident, "link/"), {"parent": parent.pk}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["parent"] == parent.pk
    assert FieldChange.objects.filter(object_id=child.pk, field="parent").exists()
    assert [row["id"] for row in client.get(url(parent, "children/")).json()] == [child.pk, hr_child.pk]
    # The finance caller sees the parent, but only the children of their own department.
    assert [row["id"] for row in api_as(crew.caller).get(url(parent, "children/")).json()] == [child.pk]

    cycle = assert_error(client.post(url(parent, "link/"), {"parent": child.pk}, format="json"), 400)
    assert "parent" in cycle["detail"]
    assert_error(client.post(url(parent, "link/"), {"parent": parent.pk}, format="json"), 400)
    unlinked = client.post(url(child, "link/"), {"parent": None}, format="json")
    assert unlinked.status_code == 200 and unlinked.json()["parent"] is None


def test_link_to_an_incident_the_user_cannot_see_is_400(api_as, crew: Crew) -> None:  # noqa: ANN001
    secret = incident_row(State.CLASSIFIED, crew=crew, category=category("security"))
    incident = report(crew)
    body = assert_error(api_as(crew.engineer).post(url(incident, "link/"), {"parent": secret.pk}, format="json"), 400)
    assert "parent" in body["detail"]
    assert reload(incident).parent is None


def test_department_user_may_not_link(api_as, crew: Crew) -> None:  # noqa: ANN001
    parent, child = report(crew), report(crew)
    assert_error(api_as(crew.caller).post(url(child, "link/"), {"parent": parent.pk}, format="json"), 403)


def test_closed_incident_cannot_be_linked(api_as, crew: Crew) -> None:  # noqa: ANN001
    closed, parent = incident_row(State.CLOSED, crew=crew), report(crew)
    assert_error(api_as(crew.duty).post(url(closed, "link/"), {"parent": parent.pk}, format="json"), 409, "read_only")


def test_resolving_a_parent_through_the_api_resolves_its_children(api_as, crew: Crew) -> None:  # noqa: ANN001
    parent = incident_row(State.RECOVERING, crew=crew)
    child = incident_row(State.HANDLING, crew=crew)
    Incident.objects.filter(pk=child.pk).update(parent=parent)
    data, _comment = transition_data(crew, "confirm_recovery")
    response = api_as(crew.engineer).post(url(parent, "transitions/confirm_recovery/"),
                                          {**data, "resolve_children": True}, format="json")
    assert response.status_code == 200, response.content
    child = reload(child)
    assert (child.state, child.resolution) == (State.RESOLVED, "Controller replaced")


# --- Categories and the priority matrix ----------------------------------------------------------------------------


def test_categories_and_the_priority_matrix_are_read_only_references(api_as, crew: Crew) -> None:  # noqa: ANN001
    client = api_as(crew.caller)
    rows = client.get(CATEGORIES).json()["results"]
    assert [row["code"] for row in rows] == ["hardware", "software", "network", "desktop", "security", "other"]
    assert [row["code"] for row in rows if row["is_security"]] == ["security"]
    cells = {(c["impact"], c["urgency"]): c["priority"] for c in client.get(MATRIX).json()["results"]}
    assert cells[(1, 1)] == Priority.P1 and cells[(3, 3)] == Priority.P4 and len(cells) == 9
    assert_error(api_as(crew.supervisor).post(MATRIX, {"impact": 1, "urgency": 1, "priority": "P4"},
                                              format="json"), 405, "method_not_allowed")
    assert_error(api_as(crew.supervisor).post(CATEGORIES, {"code": "x"}, format="json"), 405)


def test_openapi_schema_describes_the_incident_endpoints(api) -> None:  # noqa: ANN001
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/v1/incidents/", "/api/v1/incidents/{id}/", "/api/v1/incidents/{id}/transitions/{transition}/",
                 "/api/v1/incidents/{id}/link/", "/api/v1/incidents/{id}/reviews/", "/api/v1/incidents/{id}/children/",
                 "/api/v1/incident-categories/", "/api/v1/priority-matrix/"):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/incidents/{id}/"]) >= {"get", "patch"}
    assert "put" not in schema["paths"]["/api/v1/incidents/{id}/"]


# --- Query counts ---------------------------------------------------------------------------------------------------


def add_incidents(crew: Crew, count: int) -> None:
    """Rows with every relation a list row shows, in a spread of states, some major ones awaiting review."""
    service = ServiceFactory()
    ci = ConfigurationItemFactory()
    ci.services.add(service)
    states = [State.REPORTED, State.ASSIGNED, State.HANDLING, State.ON_HOLD, State.UNDER_REVIEW, State.RESOLVED]
    for n in range(count):
        state = states[n % len(states)]
        assigned = state != State.REPORTED
        IncidentFactory(created_by=crew.duty, caller=crew.caller, department=crew.department, service=service,
                        configuration_item=ci, state=state, held_from=State.HANDLING if state == State.ON_HOLD else "",
                        category=category("hardware") if assigned else None,
                        priority=Priority.P2 if assigned else "", team=crew.team if assigned else None,
                        assignee=crew.engineer if assigned and n % 2 else None,
                        is_major=state == State.UNDER_REVIEW)


def list_queries(client: APIClient, params: dict | None = None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(INCIDENTS, {"page_size": 100, **(params or {})})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


# Token with its user; the user's own permissions, their groups' permissions, their roles, their teams (the
# kinds also say whether they are in the security team); the count (up to 1,000); the rows (joined with
# category, service, team and assignee; whether each has its review-meeting record, which the close condition
# of major incidents reads, comes with them); the page's departments, its callers and reporters together
# (users), its configuration items (one query per model: more joins cost PostgreSQL more to plan than these
# cost to run).
LIST_QUERIES = {"supervisor": 10, "engineer": 10, "caller": 10}
COUNT_QUERIES = 1


@pytest.mark.parametrize("who", ["supervisor", "engineer", "caller"])
def test_list_query_count_does_not_grow_with_rows(  # noqa: ANN001
    api_as, crew: Crew, django_assert_num_queries, who: str
) -> None:
    client = api_as(getattr(crew, who))
    add_incidents(crew, 3)
    few, rows = list_queries(client)
    assert rows == 3
    add_incidents(crew, 27)
    many, rows = list_queries(client)
    assert rows == 30
    assert few == many, f"{few} queries for 3 rows but {many} for 30"
    with django_assert_num_queries(LIST_QUERIES[who]):
        client.get(INCIDENTS, {"page_size": 100})


def test_filtered_and_searched_list_query_count(api_as, crew: Crew, django_assert_num_queries) -> None:  # noqa: ANN001
    add_incidents(crew, 12)
    client = api_as(crew.supervisor)
    with django_assert_num_queries(LIST_QUERIES["supervisor"]):
        response = client.get(INCIDENTS, {"state": ["handling", "on_hold"], "priority": "P2", "q": "ERP"})
    assert response.json()["count"] == 4
    # Naming a team, a category or a department checks that it exists: one query each.
    with django_assert_num_queries(LIST_QUERIES["supervisor"] + 2):
        client.get(INCIDENTS, {"team": crew.team.pk, "category": "hardware"})


def test_count_stops_at_the_cap_and_next_still_leads_on(api_as, crew: Crew, monkeypatch) -> None:  # noqa: ANN001
    from opscenter.core.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    add_incidents(crew, 7)
    client = api_as(crew.supervisor)
    first = client.get(INCIDENTS, {"page_size": 2}).json()
    assert first["count"] is None and first["next"].endswith("page=2&page_size=2") and len(first["results"]) == 2
    third = client.get(INCIDENTS, {"page_size": 2, "page": 3}).json()
    assert third["count"] is None and "page=4" in third["next"]
    fourth = client.get(INCIDENTS, {"page_size": 2, "page": 4}).json()
    assert fourth["count"] == 7 and fourth["next"] is None and len(fourth["results"]) == 1
    last = client.get(INCIDENTS, {"page_size": 2, "page": "last"}).json()
    assert last["count"] == 7 and last["results"] == fourth["results"]
    assert client.get(INCIDENTS, {"page_size": 2, "state": "handling"}).json()["count"] == 1


# As the list without its count, plus the fields other apps add to the detail through the kernel's registry:
# the SLA clocks and the agreement they count against, one query each (these rows were written without clocks,
# so no calendar is read).
EXTRA_FIELD_QUERIES = 2
DETAIL_QUERIES = {who: count - COUNT_QUERIES + EXTRA_FIELD_QUERIES for who, count in LIST_QUERIES.items()}


@pytest.mark.parametrize("who", ["supervisor", "engineer", "caller"])
@pytest.mark.parametrize("state", [State.REPORTED, State.HANDLING, State.UNDER_REVIEW])
def test_detail_query_count_is_pinned(  # noqa: ANN001
    api_as, crew: Crew, django_assert_num_queries, state: str, who: str
) -> None:
    add_incidents(crew, 6)
    incident = Incident.objects.filter(state=state).first()
    client = api_as(getattr(crew, who))
    with django_assert_num_queries(DETAIL_QUERIES[who]):
        response = client.get(url(incident))
    assert response.status_code == 200 and response.json()["state"] == state


def test_timeline_query_count_does_not_grow(api_as, crew: Crew) -> None:  # noqa: ANN001
    incident = incident_row(State.HANDLING, crew=crew)
    client = api_as(crew.engineer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(incident, "timeline/")).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request also fills the content-type cache
    before = count()
    for n in range(5):
        client.post(url(incident, "comments/"), {"body": f"note {n}"}, format="json")
    assert count() == before


def test_a_page_of_rows_loads_its_people_in_one_query_and_reads_review_records_with_the_rows(
    crew: Crew, django_assert_num_queries  # noqa: ANN001
) -> None:
    """Callers and reporters (both users) come with one query, departments and CIs with one each, nothing
    for relations already loaded or empty; whether a major incident has its review record comes with the rows
    and decides whether its report may be approved."""
    from incidents import selectors
    from incidents.models import has_review_if_major
    from incidents.tests.factories import record_review

    add_incidents(crew, 6)
    IncidentFactory(created_by=crew.duty, caller=None, caller_name="walk-in", department=None)
    rows = list(selectors.incident_list_detailed(user=crew.supervisor).order_by("pk"))
    with django_assert_num_queries(3):
        selectors.complete_rows(rows)
        assert {row.caller for row in rows} == {crew.caller, None}
        assert {row.created_by for row in rows} == {crew.duty}
        assert {row.department for row in rows} == {crew.department, None}
        assert all(row.configuration_item is not None for row in rows[:6])
    with django_assert_num_queries(0):
        selectors.complete_rows(rows)
    major = next(row for row in rows if row.is_major)
    with django_assert_num_queries(0):
        assert not has_review_if_major(major)
    record_review(major, crew.supervisor)
    fresh = selectors.incident_list_detailed(user=crew.supervisor).get(pk=major.pk)
    assert fresh.has_review and has_review_if_major(fresh)


@pytest.mark.parametrize("who", ["supervisor", "engineer", "caller"])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_list_rows_read_together_are_what_the_serializer_gives_row_by_row(crew: Crew, who: str, language: str) -> None:
    """A page's rows take their further records together (complete_rows); each row equals what the serializer
    gives for it alone, labels, dates, references and transitions included."""
    from django.utils import translation
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from incidents import selectors
    from incidents.api.serializers import IncidentListSerializer

    add_incidents(crew, 12)
    IncidentFactory(created_by=crew.duty, caller=None, caller_name="walk-in", department=None)
    user = getattr(crew, who)
    request = Request(APIRequestFactory().get(INCIDENTS))
    request.user = user
    rows = list(selectors.list_rows(selectors.incident_list_detailed(user=user)).order_by("pk"))
    assert len(rows) >= 2
    with translation.override(language):
        compiled = IncidentListSerializer(rows, many=True, context={"request": request}).data
        one_by_one = [IncidentListSerializer(row, context={"request": request}).data for row in rows]
    assert compiled == one_by_one
    assert any(row["available_transitions"] for row in compiled)
    assert any(row["category"] for row in compiled)
    assert who == "caller" or any(row["caller"] is None for row in compiled)  # the walk-in is not the caller's
    assert all(row["created_at"] and isinstance(row["created_at"], str) for row in compiled)


@pytest.mark.parametrize("who", ["supervisor", "engineer", "caller"])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_detail_shows_labels_references_transitions_and_clocks(crew: Crew, who: str, language: str) -> None:
    """For incidents in a spread of states the detail shows Django's labels in the reader's language, its
    references, its available transitions and its SLA clocks."""
    from django.utils import translation
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from incidents import selectors
    from incidents.api.serializers import IncidentDetailSerializer
    from incidents.services import incident_report
    from sla.choices import ClockKind

    add_incidents(crew, 12)
    IncidentFactory(created_by=crew.duty, caller=None, caller_name="walk-in", department=None)
    incident_report(recorder=crew.duty, data={"title": "<b>ERP</b> down", "description": "d", "impact_scope": "x",
                                              "occurred_at": timezone.now(), "channel": "phone", "caller": crew.caller})
    user = getattr(crew, who)
    request = Request(APIRequestFactory().get(INCIDENTS))
    request.user = user
    rows = list(selectors.incident_list_detailed(user=user).order_by("pk"))
    assert len({row.state for row in rows}) >= 3
    written = []
    for row in rows:
        with translation.override(language):
            compiled = IncidentDetailSerializer(row, context={"request": request}).data
        assert isinstance(compiled["is_major"], bool) and isinstance(compiled["created_at"], str)
        with translation.override(language):
            assert compiled["state_label"] == row.get_state_display()
            assert compiled["priority_label"] == (row.get_priority_display() if row.priority else "")
            for clock in compiled["sla_clocks"]:
                assert clock["kind_label"] in {str(label) for label in ClockKind.labels}
        assert compiled["state_label"] and compiled["created_by"]["username"]
        written.append(compiled)
    assert any(data["sla_clocks"] for data in written)
    assert any(data["available_transitions"] for data in written)
    assert any(data["category"] and data["team"] for data in written)
    with translation.override("zh-hant"):
        label = IncidentDetailSerializer(rows[0], context={"request": request}).data["state_label"]
    with translation.override("en"):
        assert IncidentDetailSerializer(rows[0], context={"request": request}).data["state_label"] != label
