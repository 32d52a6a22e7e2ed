"""Every incident gets an agreement: its department's; without one, the agreement of its service's owner
department; else the default agreement the supervisors set (at most one, supervisors only, in the admin and the
API); and when none applies the recorder is told, on the incident page and in the API."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import assert_error
from incidents.services import incident_report, incident_update
from incidents.tests.factories import Crew
from opscenter.core import roles
from opscenter.core.tests.factories import DepartmentFactory, ServiceFactory, UserFactory
from sla.choices import ClockKind
from sla.models import Agreement, Clock
from sla.tests import test_clocks
from sla.tests.factories import agreement, at, make_crew, office_calendar
from sla.tests.test_clocks import HOUR, MINUTE, Wall

pytestmark = pytest.mark.django_db
wall = test_clocks.wall  # the fixture: the time the application reads

OWNER_TARGETS = {"P3": (60, 600)}
DEFAULT_TARGETS = {"P3": (120, 1200)}


@pytest.fixture
def crew() -> Crew:
    return make_crew()  # its department has no agreement


def phoned_in(crew: Crew, wall: Wall, **fields: Any) -> Any:
    """A fault phoned in Monday 09:00 by someone who is not a user, with no department."""
    wall.set("2026-11-30 09:00")
    return incident_report(recorder=crew.duty, data={
        "title": "Whole centre offline", "description": "Nothing answers", "impact_scope": "Everyone",
        "occurred_at": wall.now - timedelta(minutes=5), "channel": "phone", "caller_name": "Guard at the gate",
        **fields})


def resolution(incident: Any) -> Clock:
    return Clock.objects.get(incident=incident, kind=ClockKind.RESOLUTION)


def signed_in(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_without_a_department_the_service_owners_agreement_applies(crew: Crew, wall: Wall, api_as: Any) -> None:
    owner = DepartmentFactory()
    owners = agreement(owner, office_calendar(), targets=OWNER_TARGETS, name="ERP agreement")
    erp = ServiceFactory(owner_department=owner)
    incident = phoned_in(crew, wall, service=erp)
    assert incident.department is None

    body = api_as(crew.duty).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["sla_agreement"] == {"id": owners.pk, "name": "ERP agreement", "department_id": owner.pk,
                                     "source": "service_owner"}
    # Its clocks count for the owner department, whose agreement it is.
    from incidents.services import incident_transition
    from incidents.tests.factories import transition_data

    data, _comment = transition_data(crew, "classify")
    wall.set("2026-11-30 09:10")
    incident = incident_transition(incident, "classify", user=crew.duty, data=data)
    clock = resolution(incident)
    assert (clock.agreement, clock.department, clock.target_seconds) == (owners, owner, 10 * HOUR)
    page = signed_in(crew.duty).get(f"/incidents/{incident.pk}/").content.decode()
    assert "ERP agreement" in page and "No service level agreement applies" not in page


def test_the_departments_own_agreement_comes_first(crew: Crew, wall: Wall, api_as: Any) -> None:
    own = agreement(crew.department, office_calendar(), targets=OWNER_TARGETS, name="Finance agreement")
    other = DepartmentFactory()
    agreement(other, office_calendar("Other hours"), targets=DEFAULT_TARGETS, name="Owner agreement")
    incident = phoned_in(crew, wall, department=crew.department, service=ServiceFactory(owner_department=other))
    body = api_as(crew.duty).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert (body["sla_agreement"]["id"], body["sla_agreement"]["source"]) == (own.pk, "department")


def test_otherwise_the_default_agreement_applies(crew: Crew, wall: Wall, api_as: Any) -> None:
    default = agreement(DepartmentFactory(), office_calendar(), targets=DEFAULT_TARGETS, name="Centre-wide",
                        is_default=True)
    incident = phoned_in(crew, wall)  # no department, no service
    response = api_as(crew.duty).post("/api/v1/incidents/", {
        "title": "Whole centre offline", "description": "Nothing answers", "impact_scope": "Everyone",
        "occurred_at": "2026-11-30T08:55:00+08:00", "channel": "phone", "caller_name": "Guard"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["sla_agreement"]["source"] == "default"
    clock = resolution(incident)
    assert (clock.agreement, clock.department) == (default, None)  # counted for no department's evaluation


def test_when_no_agreement_applies_the_page_and_the_api_say_so(crew: Crew, wall: Wall, api_as: Any) -> None:
    response = api_as(crew.duty).post("/api/v1/incidents/", {
        "title": "Whole centre offline", "description": "Nothing answers", "impact_scope": "Everyone",
        "occurred_at": "2026-11-30T08:55:00+08:00", "channel": "phone", "caller_name": "Guard"}, format="json")
    assert response.status_code == 201 and response.json()["sla_agreement"] is None
    incident_id = response.json()["id"]
    assert api_as(crew.duty).get(f"/api/v1/incidents/{incident_id}/").json()["sla_agreement"] is None
    page = signed_in(crew.duty).get(f"/incidents/{incident_id}/").content.decode()
    assert "No service level agreement applies" in page and "No target" in page


def test_an_agreement_no_longer_valid_is_no_default(crew: Crew, wall: Wall) -> None:
    agreement(DepartmentFactory(), office_calendar(), is_default=True, valid_until=date(2025, 12, 31))
    incident = phoned_in(crew, wall)
    assert resolution(incident).agreement is None


def test_naming_the_department_later_retargets_and_keeps_the_time(crew: Crew, wall: Wall) -> None:
    agreement(DepartmentFactory(), office_calendar(), targets=DEFAULT_TARGETS, is_default=True)
    own = agreement(crew.department, office_calendar("Finance hours"), targets=OWNER_TARGETS)
    incident = phoned_in(crew, wall)
    wall.set("2026-11-30 09:30")
    incident = incident_update(incident, user=crew.duty, changes={"department": crew.department})
    from incidents.services import incident_transition
    from incidents.tests.factories import transition_data

    data, _comment = transition_data(crew, "classify")
    wall.set("2026-11-30 09:40")
    incident = incident_transition(incident, "classify", user=crew.duty, data=data)
    clock = resolution(incident)
    assert (clock.agreement, clock.elapsed_seconds, clock.due_at) == (own, 40 * MINUTE, at("2026-12-01 10:00"))


def test_choosing_the_service_later_takes_its_owners_agreement(crew: Crew, wall: Wall) -> None:
    owner = DepartmentFactory()
    owners = agreement(owner, office_calendar(), targets=OWNER_TARGETS)
    incident = phoned_in(crew, wall)
    assert resolution(incident).agreement is None
    wall.set("2026-11-30 09:20")
    incident = incident_update(incident, user=crew.duty, changes={"service": ServiceFactory(owner_department=owner)})
    clock = resolution(incident)
    assert (clock.agreement, clock.department, clock.elapsed_seconds) == (owners, owner, 20 * MINUTE)


# --- The default agreement: at most one, set by supervisors -----------------------------------------------------


AGREEMENTS = "/api/v1/sla/agreements/"


def agreement_body(department: Any, calendar: Any, **fields: Any) -> dict[str, Any]:
    return {"department": department.pk, "name": "Default", "valid_from": "2026-01-01", "calendar": calendar.pk,
            **fields}


def test_a_supervisor_sets_the_default_in_the_api_and_a_second_one_is_refused(api_as: Any) -> None:
    supervisor = UserFactory(roles=[roles.SUPERVISOR])
    calendar = office_calendar()
    client = api_as(supervisor)
    first = client.post(AGREEMENTS, agreement_body(DepartmentFactory(), calendar, is_default=True), format="json")
    assert first.status_code == 201 and first.json()["is_default"] is True
    second = client.post(AGREEMENTS, agreement_body(DepartmentFactory(), calendar, is_default=True), format="json")
    assert_error(second, 400, "invalid")
    assert "is_default" in second.json()["detail"]
    other = agreement(DepartmentFactory(), calendar, name="Other")
    flagged = client.patch(f"{AGREEMENTS}{other.pk}/", {"is_default": True}, format="json")
    assert_error(flagged, 400, "invalid")
    assert list(Agreement.objects.filter(is_default=True).values_list("pk", flat=True)) == [first.json()["id"]]
    # Saving the default again keeps it the default.
    again = client.patch(f"{AGREEMENTS}{first.json()['id']}/", {"is_default": True, "name": "Centre"}, format="json")
    assert again.status_code == 200 and again.json()["name"] == "Centre"


@pytest.mark.parametrize("role", [roles.DUTY_OFFICER, roles.SYSTEM_ENGINEER, roles.AUDITOR])
def test_only_supervisors_set_the_default(api_as: Any, role: str) -> None:
    existing = agreement(DepartmentFactory(), office_calendar())
    response = api_as(UserFactory(roles=[role])).patch(f"{AGREEMENTS}{existing.pk}/", {"is_default": True},
                                                      format="json")
    assert_error(response, 403, "permission_denied")
    assert not Agreement.objects.filter(is_default=True).exists()


def test_the_admin_sets_the_default_and_refuses_a_second(crew: Crew) -> None:
    supervisor = crew.supervisor
    supervisor.is_staff = True
    supervisor.save()
    calendar = office_calendar()
    first = agreement(DepartmentFactory(), calendar, name="Centre-wide", is_default=True)
    other = Agreement.objects.create(department=DepartmentFactory(), name="Other", valid_from=date(2020, 1, 1),
                                     calendar=calendar)
    client = signed_in(supervisor)
    url = reverse("admin:sla_agreement_change", args=[other.pk])
    form = client.get(url)
    assert form.status_code == 200 and "is_default" in form.context["adminform"].form.fields
    data = {"department": other.department_id, "name": "Other", "valid_from": "2020-01-01", "calendar": calendar.pk,
            "is_active": "on", "is_default": "on"}
    for inline in form.context["inline_admin_formsets"]:
        prefix = inline.formset.management_form.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "is_default" in refused.context["adminform"].form.errors
    assert "Centre-wide" in str(refused.context["adminform"].form.errors["is_default"])
    assert Agreement.objects.get(is_default=True) == first
