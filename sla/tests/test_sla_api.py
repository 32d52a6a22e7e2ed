"""Service level API: calendars and agreements written by supervisors with their bad input refused, breaches
explained, outages recorded by IT staff, availability, evaluations published, the department dashboard;
another department's numbers appear nowhere; pinned query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import assert_error
from opscenter.core import roles
from opscenter.core.tests.factories import ServiceFactory
from sla.choices import EvaluationState
from sla.models import Agreement, Breach, BusinessCalendar, Evaluation, Outage, WorkingInterval
from sla.tests.figures import april, explain_all, two_departments

pytestmark = pytest.mark.django_db
MONTH = "2026-04"


@pytest.fixture
def two() -> tuple:
    return two_departments()


def calendar_body(**fields) -> dict:  # noqa: ANN003
    return {"name": "Plant hours", "time_zone": "Asia/Taipei", "is_24x7": False,
            "intervals": [{"weekday": 0, "start": "08:00", "end": "12:00"},
                          {"weekday": 0, "start": "13:00", "end": "17:00"}],
            "exceptions": [{"date": "2026-10-10", "kind": "day_off", "note": "National day"}], **fields}


def agreement_body(department, calendar, service, **fields) -> dict:  # noqa: ANN001, ANN003
    return {"department": department.pk, "name": "2027", "valid_from": "2027-01-01", "calendar": calendar.pk,
            "service_targets": [{"service": service.pk, "availability": "99.9"}],
            "priority_targets": [{"priority": "P1", "response_minutes": 15, "resolution_minutes": 240}],
            "thresholds": [{"percent": 50}, {"percent": 100, "notify_supervisors": True}], **fields}


# --- Calendars and agreements ------------------------------------------------------------------------------


def test_a_supervisor_writes_a_calendar_and_an_edit_raises_its_version(api_as, supervisor) -> None:  # noqa: ANN001
    client = api_as(supervisor)
    created = client.post("/api/v1/sla/calendars/", calendar_body(), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["intervals"]) == 2 and body["exceptions"][0]["kind"] == "day_off"
    edited = client.patch(f"/api/v1/sla/calendars/{body['id']}/",
                          {"intervals": [{"weekday": 1, "start": "09:00", "end": "18:00"}]}, format="json")
    assert edited.status_code == 200
    assert edited.json()["version"] > body["version"]
    assert list(WorkingInterval.objects.filter(calendar_id=body["id"]).values_list("weekday", flat=True)) == [1]


@pytest.mark.parametrize("change", [
    {"intervals": [{"weekday": 0, "start": "08:00", "end": "12:00"}, {"weekday": 0, "start": "11:00", "end": "14:00"}]},
    {"intervals": [{"weekday": 0, "start": "12:00", "end": "08:00"}]},
    {"time_zone": "Mars/Olympus"},
    {"holiday_country": "XX"},
    {"exceptions": [{"date": "2026-10-10", "kind": "day_off", "start": "08:00", "end": "09:00"}]},
])
def test_bad_calendars_are_400_and_nothing_is_written(api_as, supervisor, change: dict) -> None:  # noqa: ANN001
    before = BusinessCalendar.objects.count()
    response = api_as(supervisor).post("/api/v1/sla/calendars/", calendar_body(**change), format="json")
    assert_error(response, 400, "invalid")
    assert BusinessCalendar.objects.count() == before


@pytest.mark.parametrize(("path", "rows", "missing"), [
    ("calendars", {"intervals": [{"weekday": 0, "end": "17:00"}]}, "start"),
    ("calendars", {"exceptions": [{"date": "2026-10-10"}]}, "kind"),
    ("agreements", {"thresholds": [{"notify_supervisors": True}]}, "percent"),
    ("agreements", {"priority_targets": [{"priority": "P1", "resolution_minutes": 240}]}, "response_minutes"),
    ("agreements", {"service_targets": [{"availability": "99.9"}]}, "service"),
])
def test_an_edit_of_a_list_written_whole_needs_complete_rows(api_as, supervisor, two, path, rows,  # noqa: ANN001
                                                            missing) -> None:
    """An edit (PATCH) replaces a list whole: a row missing what it requires is a 400 naming the field, and
    nothing is written (it was a 500: the missing field was read as the rows were checked)."""
    finance, _logistics = two
    instance = finance.agreement.calendar if path == "calendars" else finance.agreement
    before = (list(WorkingInterval.objects.values_list("pk", flat=True)),
              list(finance.agreement.thresholds.values_list("pk", flat=True)))
    response = api_as(supervisor).patch(f"/api/v1/sla/{path}/{instance.pk}/", rows, format="json")
    body = assert_error(response, 400, "invalid")
    [(name, [row_errors])] = body["detail"].items()
    assert name == next(iter(rows)) and missing in row_errors
    assert (list(WorkingInterval.objects.values_list("pk", flat=True)),
            list(finance.agreement.thresholds.values_list("pk", flat=True))) == before


def test_a_supervisor_writes_an_agreement(api_as, supervisor, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    response = api_as(supervisor).post("/api/v1/sla/agreements/", agreement_body(
        finance.department, finance.agreement.calendar, ServiceFactory()), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["service_targets"][0]["availability"] == "99.900"


@pytest.mark.parametrize("change", [
    {"priority_targets": [{"priority": "P1", "response_minutes": 0, "resolution_minutes": 240}]},
    {"priority_targets": [{"priority": "P1", "response_minutes": 15, "resolution_minutes": -5}]},
    {"service_targets": [{"service": 0, "availability": "0"}]},
    {"thresholds": [{"percent": 150}]},
    {"thresholds": [{"percent": 0}]},
    {"valid_until": "2026-01-01"},
])
def test_bad_agreements_are_400_and_nothing_is_written(api_as, supervisor, two, change: dict) -> None:  # noqa: ANN001
    finance, _logistics = two
    body = agreement_body(finance.department, finance.agreement.calendar, ServiceFactory(), **change)
    if "service_targets" in change:
        body["service_targets"][0]["service"] = finance.service.pk
    before = Agreement.objects.count()
    assert_error(api_as(supervisor).post("/api/v1/sla/agreements/", body, format="json"), 400, "invalid")
    assert Agreement.objects.count() == before


@pytest.mark.parametrize("role", [roles.SYSTEM_ENGINEER, roles.AUDITOR, roles.DEPARTMENT_USER])
def test_only_supervisors_write_calendars_and_agreements(api_as, make_user, two, role: str) -> None:  # noqa: ANN001
    finance, _logistics = two
    client = api_as(make_user(role, department=finance.department))
    assert_error(client.post("/api/v1/sla/calendars/", calendar_body(), format="json"), 403)
    assert_error(client.post("/api/v1/sla/agreements/", agreement_body(
        finance.department, finance.agreement.calendar, finance.service), format="json"), 403)


# --- Breaches and outages ----------------------------------------------------------------------------------


def test_an_engineer_explains_a_breach_and_bad_input_changes_nothing(api_as, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    breach = Breach.objects.filter(department=finance.department).first()
    client = api_as(finance.engineer)
    url = f"/api/v1/sla/breaches/{breach.pk}/explain/"
    assert_error(client.post(url, {"explanation": "Slow"}, format="json"), 400)
    assert_error(client.post(url, {"explanation": "Slow", "corrective_action": "Fix",
                                   "action_owner": finance.department_user.pk, "action_due": "2026-05-01"},
                             format="json"), 400)
    breach.refresh_from_db()
    assert not breach.explanation
    done = client.post(url, {"explanation": "Slow", "corrective_action": "Fix", "action_owner": finance.engineer.pk,
                             "action_due": "2026-05-01"}, format="json")
    assert done.status_code == 200 and done.json()["is_explained"]


def test_department_users_read_their_breaches_and_cannot_explain(api_as, two) -> None:  # noqa: ANN001
    finance, logistics = two
    client = api_as(finance.department_user)
    rows = client.get("/api/v1/sla/breaches/").json()["results"]
    assert {r["department"] for r in rows} == {finance.department.pk}
    theirs = Breach.objects.filter(department=logistics.department).first()
    assert_error(client.get(f"/api/v1/sla/breaches/{theirs.pk}/"), 404)
    own = Breach.objects.filter(department=finance.department).first()
    assert_error(client.post(f"/api/v1/sla/breaches/{own.pk}/explain/", {
        "explanation": "x", "corrective_action": "y", "action_owner": finance.engineer.pk,
        "action_due": "2026-05-01"}, format="json"), 403)


def test_it_staff_record_outages_and_bad_periods_are_refused(api_as, make_user, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    incident = Breach.objects.filter(department=finance.department).first().incident
    body = {"incident": incident.pk, "service": finance.service.pk, "started_at": "2026-04-20T10:00:00+08:00",
            "ended_at": "2026-04-20T10:30:00+08:00", "kind": "partial"}
    before = Outage.objects.count()
    assert_error(api_as(finance.engineer).post("/api/v1/sla/outages/", {
        **body, "ended_at": "2026-04-20T09:00:00+08:00"}, format="json"), 400)
    assert_error(api_as(finance.department_user).post("/api/v1/sla/outages/", body, format="json"), 403)
    assert Outage.objects.count() == before
    created = api_as(finance.engineer).post("/api/v1/sla/outages/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["recorded_by"]["id"] == finance.engineer.pk


# --- Availability, evaluations, dashboard -----------------------------------------------------------------


def test_availability_of_a_month(api_as, supervisor, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    body = api_as(supervisor).get(f"/api/v1/sla/availability/?month={MONTH}&department={finance.department.pk}")
    assert body.status_code == 200
    [row] = body.json()["results"]
    assert row["availability"][0]["availability"] == 99.884 and row["availability"][0]["breached"]
    for bad in ("2026-13", "April", "9999-01"):
        assert_error(api_as(supervisor).get(f"/api/v1/sla/availability/?month={bad}"), 400)


def test_a_department_user_gets_only_their_own_numbers(api_as, two, supervisor) -> None:  # noqa: ANN001
    finance, logistics = two
    explain_all(logistics, supervisor)
    evaluation = api_as(supervisor).post("/api/v1/sla/evaluations/", {"department": logistics.department.pk,
                                                                      "month": MONTH}, format="json").json()
    assert api_as(supervisor).post(f"/api/v1/sla/evaluations/{evaluation['id']}/publish/").status_code == 200
    client = api_as(finance.department_user)
    assert_error(client.get(f"/api/v1/sla/dashboard/{logistics.department.pk}/"), 404)
    assert_error(client.get(f"/api/v1/sla/availability/?department={logistics.department.pk}"), 404)
    assert_error(client.get(f"/api/v1/sla/evaluations/{evaluation['id']}/"), 404)
    for url in (f"/api/v1/sla/dashboard/?month={MONTH}", f"/api/v1/sla/availability/?month={MONTH}",
                "/api/v1/sla/evaluations/", "/api/v1/sla/breaches/", "/api/v1/sla/outages/",
                f"/api/v1/sla/dashboard/{finance.department.pk}/?month={MONTH}"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "Warehouse scanning" not in text and "Logistics" not in text, url
        assert f'"department":{logistics.department.pk},' not in text.replace(" ", ""), url
    own = client.get(f"/api/v1/sla/dashboard/{finance.department.pk}/?month={MONTH}").json()
    assert own["month"]["compliance_percent"] == 60.0 and len(own["trend"]) == 12


def test_publish_through_the_api(api_as, supervisor, make_user, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    client = api_as(supervisor)
    assert_error(api_as(finance.engineer).post("/api/v1/sla/evaluations/", {
        "department": finance.department.pk, "month": MONTH}, format="json"), 403)
    assert_error(client.post("/api/v1/sla/evaluations/", {"department": finance.department.pk, "month": "04-2026"},
                             format="json"), 400)
    assert_error(client.post("/api/v1/sla/evaluations/", {"department": 10**9, "month": MONTH}, format="json"), 400)
    created = client.post("/api/v1/sla/evaluations/", {"department": finance.department.pk, "month": MONTH},
                          format="json")
    assert created.status_code == 201 and created.json()["state"] == "draft"
    url = f"/api/v1/sla/evaluations/{created.json()['id']}/publish/"
    refused = client.post(url, {"summary": "x"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "unexplained_breaches"
    assert [b["kind"] for b in refused.json()["breaches"]] == ["response", "availability", "resolution"]
    assert Evaluation.objects.get().state == EvaluationState.DRAFT
    explain_all(finance, supervisor)
    assert_error(api_as(make_user(roles.SYSTEM_ENGINEER)).post(url, format="json"), 403)
    published = client.post(url, {"summary": "April"}, format="json")
    assert published.status_code == 200 and published.json()["state"] == "published"
    assert published.json()["figures"]["availability"][0]["availability"] == 99.884
    assert_error(client.post(url, format="json"), 409, "invalid_state")


def test_list_query_counts_are_pinned_and_do_not_grow_with_rows(api_as, supervisor) -> None:  # noqa: ANN001
    counts = {}
    for size in (1, 4):
        for n in range(size):
            month = april(f"Department {size}-{n}")
            explain_all(month, supervisor)
        client = api_as(supervisor)
        client.get("/api/v1/sla/breaches/")
        measured = {}
        for url in ("/api/v1/sla/calendars/", "/api/v1/sla/agreements/", "/api/v1/sla/breaches/",
                    "/api/v1/sla/outages/", "/api/v1/sla/evaluations/", f"/api/v1/sla/dashboard/?month={MONTH}",
                    f"/api/v1/sla/availability/?month={MONTH}"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            measured[url] = len(queries)
        counts[size] = measured
    # Token and user, roles (and the user's own and their groups' permissions for model-permission views), the
    # count, the rows, one per relation;
    # dashboard and availability: visibility, the grouped figures of every department at once.
    pinned = {"/api/v1/sla/calendars/": 7, "/api/v1/sla/agreements/": 9, "/api/v1/sla/breaches/": 6,
              "/api/v1/sla/outages/": 6, "/api/v1/sla/evaluations/": 3, f"/api/v1/sla/dashboard/?month={MONTH}": 12,
              f"/api/v1/sla/availability/?month={MONTH}": 12}
    assert counts[1] == counts[4] == pinned


def test_an_availability_miss_is_explained_through_the_api_before_publication(api_as, supervisor, two) -> None:  # noqa: ANN001
    finance, _logistics = two
    client = api_as(supervisor)
    created = client.post("/api/v1/sla/evaluations/", {"department": finance.department.pk, "month": MONTH},
                          format="json").json()
    Breach.objects.filter(department=finance.department, kind__in=["response", "resolution"]).update(
        explanation="Slow.", corrective_action="Rehearse.", action_owner=finance.engineer, action_due="2026-05-20")
    url = f"/api/v1/sla/evaluations/{created['id']}/publish/"
    refused = client.post(url, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "unexplained_breaches"
    assert [(b["kind"], b["service"]) for b in refused.json()["breaches"]] == [("availability", finance.service.pk)]
    listed = client.get("/api/v1/sla/breaches/", {"kind": "availability", "department": finance.department.pk})
    [row] = listed.json()["results"]
    assert (row["service_name"], row["incident"], row["month"]) == (finance.service.name, None, "2026-04-01")
    explain = f"/api/v1/sla/breaches/{row['id']}/explain/"
    assert_error(client.post(explain, {"explanation": "Power switch-over."}, format="json"), 400)
    assert not Breach.objects.get(pk=row["id"]).explanation
    done = client.post(explain, {"explanation": "Power switch-over.", "corrective_action": "Switch outside hours.",
                                 "action_owner": finance.engineer.pk, "action_due": "2026-05-20"}, format="json")
    assert done.status_code == 200 and done.json()["is_explained"]
    assert client.post(url, format="json").json()["state"] == EvaluationState.PUBLISHED
