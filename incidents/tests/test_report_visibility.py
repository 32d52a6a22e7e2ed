"""Who may name which configuration item in a fault report: the report form's options, the page form, the API
report and edit follow the CI endpoint's rule (IT staff read every CI, a department user none), so that finance's
department user learns nothing about HR's servers and cannot file against them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import assert_error
from incidents.models import Incident
from incidents.services import incident_report
from incidents.tests.test_pages import signed_in
from opscenter.core.exceptions import InvalidInput
from opscenter.core.models import ConfigurationItem, Service
from opscenter.core.tests.factories import ConfigurationItemFactory

OPTIONS = "/incidents/report/configuration-items/"
REPORT = "/incidents/report/"
INCIDENTS = "/api/v1/incidents/"
CIS = "/api/v1/configuration-items/"


def hr_server() -> ConfigurationItem:
    return ConfigurationItem.objects.get(asset_tag="SRV-0005")  # hr-app-01, of HR's payroll service


def payroll() -> Service:
    return Service.objects.get(code="hr-payroll")


def api_payload(**fields: object) -> dict[str, object]:
    return {"title": "Payroll slow", "description": "Pages take a minute",
            "occurred_at": (timezone.now() - timedelta(minutes=10)).isoformat(), "impact_scope": "HR",
            "channel": "phone", **fields}


def page_payload(**fields: object) -> dict[str, object]:
    return {"title": "Payroll slow", "description": "Pages take a minute", "impact_scope": "HR",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), **fields}


# --- The options of the CI select ----------------------------------------------------------------------------


def test_department_user_is_offered_no_other_departments_ci(demo) -> None:  # noqa: ANN001
    # The API refuses them the CI list; the report form's options tell them no more.
    assert signed_in(demo["finance"]).get(CIS).status_code == 403
    for params in ({"service": payroll().pk}, {}):
        response = signed_in(demo["finance"]).get(OPTIONS, params)
        assert response.status_code == 200
        page = response.content.decode()
        assert "hr-app-01" not in page and "erp-db-01" not in page
        assert page.count("<option") == 1  # only the empty choice


def test_duty_officer_is_offered_every_ci_of_the_service(demo) -> None:  # noqa: ANN001
    page = signed_in(demo["duty"]).get(OPTIONS, {"service": payroll().pk}).content.decode()
    assert "hr-app-01" in page and "mail-01" not in page


def test_options_take_a_fixed_number_of_queries(demo, django_assert_num_queries) -> None:  # noqa: ANN001
    client = signed_in(demo["duty"])
    service = payroll()
    client.get(OPTIONS, {"service": service.pk})  # warm: the same request again
    with django_assert_num_queries(4):
        first = client.get(OPTIONS, {"service": service.pk})
    for _ in range(6):
        ConfigurationItemFactory().services.add(service)
    with django_assert_num_queries(4):
        more = client.get(OPTIONS, {"service": service.pk})
    assert more.content.decode().count("<option") == first.content.decode().count("<option") + 6


# --- The page form -----------------------------------------------------------------------------------------


def test_department_users_page_form_takes_no_ci(demo) -> None:  # noqa: ANN001
    client = signed_in(demo["finance"])
    assert 'name="configuration_item"' not in client.get(REPORT).content.decode()
    response = client.post(REPORT, page_payload(service=payroll().pk, configuration_item=hr_server().pk))
    assert response.status_code == 302  # the report is theirs; the CI they typed in is not on their form
    assert Incident.objects.get().configuration_item is None


def test_duty_officer_files_against_any_ci_on_the_page(demo) -> None:  # noqa: ANN001
    response = signed_in(demo["duty"]).post(REPORT, page_payload(
        channel="phone", caller_name="HR clerk", service=payroll().pk, configuration_item=hr_server().pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Incident.objects.get().configuration_item == hr_server()


def test_the_incident_list_does_not_name_a_ci_to_a_department_user(demo) -> None:  # noqa: ANN001
    page = signed_in(demo["finance"]).get("/incidents/", {"configuration_item": hr_server().pk}).content.decode()
    assert "hr-app-01" not in page
    page = signed_in(demo["duty"]).get("/incidents/", {"configuration_item": hr_server().pk}).content.decode()
    assert "hr-app-01" in page


# --- The API -----------------------------------------------------------------------------------------------


def test_api_report_against_another_departments_ci_is_400_and_creates_nothing(demo, api_as) -> None:  # noqa: ANN001
    client = api_as(demo["finance"])
    answers = [client.post(INCIDENTS, api_payload(configuration_item=pk), format="json")
               for pk in (hr_server().pk, 999999)]
    bodies = [assert_error(response, 400, "invalid") for response in answers]
    assert all(list(body["detail"]) == ["configuration_item"] for body in bodies)
    # An existing CI is refused as a missing one: the answer tells nothing about HR's equipment.
    assert bodies[0]["detail"]["configuration_item"] == [
        m.replace("999999", str(hr_server().pk)) for m in bodies[1]["detail"]["configuration_item"]]
    assert not Incident.objects.exists()


def test_api_edit_cannot_name_another_departments_ci(demo, api_as) -> None:  # noqa: ANN001
    incident = incident_report(recorder=demo["finance"], data={
        "title": "Printer", "description": "Jam", "impact_scope": "3F", "occurred_at": timezone.now()})
    response = api_as(demo["finance"]).patch(f"{INCIDENTS}{incident.pk}/", {"configuration_item": hr_server().pk},
                                             format="json")
    assert "configuration_item" in assert_error(response, 400, "invalid")["detail"]
    assert Incident.objects.get().configuration_item is None


def test_duty_officer_reports_against_any_ci_on_the_api(demo, api_as) -> None:  # noqa: ANN001
    response = api_as(demo["duty"]).post(INCIDENTS, api_payload(
        caller_name="HR clerk", service=payroll().pk, configuration_item=hr_server().pk), format="json")
    assert response.status_code == 201, response.content
    assert Incident.objects.get().configuration_item == hr_server()


def test_the_service_refuses_an_invisible_ci_whoever_calls_it(demo) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        incident_report(recorder=demo["finance"], data={
            "title": "Payroll", "description": "Slow", "impact_scope": "HR", "occurred_at": timezone.now(),
            "configuration_item": hr_server()})
    assert "configuration_item" in refused.value.detail
    assert not Incident.objects.exists()
