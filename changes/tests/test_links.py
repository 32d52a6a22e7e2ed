"""Incidents and changes linked on the pages: a change raised from an incident starts from it and links both
ways; related incidents are chosen by search (a search box on the request form, autocomplete in the admin),
never from a list of every incident; each page shows the other side of the link."""

from typing import Any

import pytest
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.test import Client
from django.urls import reverse

from changes.models import Change
from changes.services import change_update
from changes.tests.factories import ChangeCrew, draft_change, make_crew
from incidents.models import Incident
from incidents.tests.factories import IncidentFactory, report
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core import roles
from opscenter.core.models import User
from opscenter.core.tests.factories import ConfigurationItemFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW = "/changes/new/"
SEARCH = "/changes/incident-search/"


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def crew() -> ChangeCrew:
    return make_crew()


@pytest.fixture
def incident(crew: ChangeCrew) -> Incident:
    """An ERP outage reported by phone, on a service and a CI."""
    ci = ConfigurationItemFactory(name="erp-db-01")
    ci.services.add(crew.service)
    return report(incident_crew(), title="ERP database stops every night at 02:00",
                  description="The nightly backup fills the log volume; the database stops.",
                  service=crew.service, configuration_item=ci)


def incident_page(client: Client, incident: Incident) -> str:
    response = client.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def request_post(crew: ChangeCrew, **overrides: Any) -> dict[str, Any]:
    data = {"change_type": "normal", "category": "software_upgrade", "title": "Move the ERP log volume",
            "description": "Give the log volume 200 GB more.", "purpose": "Stop the nightly outage.",
            "impact_scope": "ERP down 10 minutes.", "services": [crew.service.pk],
            "planned_start": "2031-03-01T22:00", "planned_end": "2031-03-01T23:00",
            "risk_assessment": "Low.", "risk_mitigation": "Snapshot first."}
    data.update(overrides)
    return data


# --- Raise a change from an incident ---

def test_the_incident_page_offers_to_raise_a_change_to_those_who_may_request(crew: ChangeCrew,
                                                                             incident: Incident) -> None:
    page = incident_page(signed_in(crew.engineer), incident)
    assert 'id="incident-changes"' in page and f'href="{NEW}?incident={incident.pk}"' in page
    assert "No change is linked to this incident." in page
    auditor = UserFactory(roles=[roles.AUDITOR])
    page = incident_page(signed_in(auditor), incident)
    assert 'id="incident-changes"' in page and 'id="raise-change"' not in page


def test_the_request_form_starts_from_the_incident_and_the_change_links_both_ways(crew: ChangeCrew,
                                                                                  incident: Incident) -> None:
    client = signed_in(crew.engineer)
    form_page = client.get(NEW, {"incident": incident.pk})
    form = form_page.context["form"]
    assert form.initial == {"title": incident.title, "description": incident.description,
                            "services": [crew.service.pk], "configuration_items": [incident.configuration_item_id],
                            "related_incidents": [incident.pk]}
    html = form_page.content.decode()
    assert 'id="raised-from"' in html and incident.number in html
    assert f'<option value="{incident.pk}" selected>{incident.number} {incident.title}</option>' in html

    created = client.post(f"{NEW}?incident={incident.pk}", request_post(
        crew, title=incident.title, configuration_items=[incident.configuration_item_id],
        related_incidents=[incident.pk]))
    change = Change.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/changes/{change.pk}/"
    assert list(change.related_incidents.all()) == [incident]
    assert list(change.configuration_items.all()) == [incident.configuration_item]

    change_page = client.get(f"/changes/{change.pk}/").content.decode()
    related = change_page.split('id="related-incidents"')[1].split("</div></div>")[0]
    assert f'href="/incidents/{incident.pk}/"' in related and incident.number in related
    page = incident_page(client, incident)
    assert f'href="/changes/{change.pk}/"' in page.split('id="incident-changes"')[1]


def test_an_incident_the_user_cannot_see_or_a_wrong_id_is_not_found(crew: ChangeCrew, incident: Incident) -> None:
    outsider = UserFactory(roles=[roles.DEPARTMENT_USER])
    client = signed_in(outsider)
    assert client.get(NEW, {"incident": incident.pk}).status_code == 404
    assert client.get(NEW, {"incident": "x"}).status_code == 404
    assert client.get(NEW, {"incident": "999999"}).status_code == 404
    assert not Change.objects.exists()


def test_the_incident_page_lists_only_the_changes_the_reader_may_see(crew: ChangeCrew, incident: Incident) -> None:
    mine = draft_change(crew, related_incidents=[incident])
    other = draft_change(crew, related_incidents=[incident], title="Resize the volume")
    caller = incident.caller  # a department user: sees changes on services their department owns, or theirs
    page = incident_page(signed_in(crew.engineer), incident)
    assert mine.number in page and other.number in page
    page = incident_page(signed_in(caller), incident)
    assert mine.number not in page and other.number not in page


def test_the_incident_page_costs_the_same_however_many_changes_are_linked(crew: ChangeCrew, incident: Incident,
                                                                          django_assert_max_num_queries: Any) -> None:
    client = signed_in(crew.engineer)
    draft_change(crew, related_incidents=[incident])
    incident_page(client, incident)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        incident_page(client, incident)
    for n in range(4):
        draft_change(crew, related_incidents=[incident], title=f"Change {n}")
    with django_assert_max_num_queries(len(one)):
        page = incident_page(client, incident)
    assert page.count('class="list-group-item incident-change"') == 5


# --- Related incidents chosen by search ---

def test_the_request_form_draws_only_the_chosen_incidents_and_finds_the_others_by_search(crew: ChangeCrew) -> None:
    IncidentFactory.create_batch(30)
    client = signed_in(crew.engineer)
    html = client.get(NEW).content.decode()
    field = html.split('id="id_related_incidents_chosen"')[1].split("</select>")[0]
    assert "<option" not in field and "ERP login fails" not in html
    assert 'data-search-url="/changes/incident-search/"' in html and "js/search-select.js" in html


def test_the_search_finds_by_number_or_title_among_the_incidents_the_user_sees(crew: ChangeCrew,
                                                                                incident: Incident) -> None:
    IncidentFactory.create_batch(25)
    client = signed_in(crew.engineer)
    by_title = client.get(SEARCH, {"q": "nightly"}).json()["results"]
    assert by_title == []  # the description is not searched: the number and the title are
    by_title = client.get(SEARCH, {"q": "every night"}).json()["results"]
    assert by_title == [{"id": incident.pk, "text": f"{incident.number} {incident.title}"}]
    assert client.get(SEARCH, {"q": incident.number}).json()["results"][0]["id"] == incident.pk
    assert len(client.get(SEARCH, {"q": "ERP login"}).json()["results"]) == 20
    assert client.get(SEARCH, {"q": "E"}).json() == {"results": []}
    outsider = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert outsider.get(SEARCH, {"q": "every night"}).json() == {"results": []}
    assert Client().get(SEARCH, {"q": "ERP"}).status_code == 302


def test_the_search_costs_the_same_however_many_incidents_match(crew: ChangeCrew,
                                                                django_assert_num_queries: Any) -> None:
    client = signed_in(crew.engineer)
    IncidentFactory.create_batch(3)
    client.get(SEARCH, {"q": "ERP"})
    with django_assert_num_queries(SEARCH_QUERIES):
        assert len(client.get(SEARCH, {"q": "ERP"}).json()["results"]) == 3
    IncidentFactory.create_batch(30)
    with django_assert_num_queries(SEARCH_QUERIES):
        assert len(client.get(SEARCH, {"q": "ERP"}).json()["results"]) == 20


# The session, the user, their roles, the incidents found.
SEARCH_QUERIES = 4


def test_an_edit_keeps_the_links_to_incidents_the_editor_cannot_see(crew: ChangeCrew, incident: Incident) -> None:
    secret = IncidentFactory(department=incident.department)
    change = draft_change(crew, related_incidents=[incident, secret])
    requester = UserFactory(roles=[roles.DEPARTMENT_USER])
    Change.objects.filter(pk=change.pk).update(created_by=requester)
    change.refresh_from_db()
    visible = set(Incident.objects.visible_to(requester).values_list("pk", flat=True))
    assert incident.pk not in visible and secret.pk not in visible
    mine = IncidentFactory(created_by=requester)
    client = signed_in(requester)
    page = client.get(f"/changes/{change.pk}/edit/")
    data = {name: value for name, value in page.context["form"].initial.items() if value is not None}
    data = {**{k: (v if not isinstance(v, list) else [str(i) for i in v]) for k, v in data.items()},
            "related_incidents": [str(mine.pk)], "planned_start": "2031-03-01T22:00",
            "planned_end": "2031-03-01T23:00"}
    response = client.post(f"/changes/{change.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert set(change.related_incidents.values_list("pk", flat=True)) == {incident.pk, secret.pk, mine.pk}


# --- The admin: autocomplete, not a multi-select of every incident ---

def test_the_admin_chooses_related_incidents_by_autocomplete_among_those_the_user_sees(crew: ChangeCrew,
                                                                                       incident: Incident) -> None:
    crew.requester.is_staff = True
    crew.requester.save(update_fields=["is_staff"])
    change = draft_change(crew)
    IncidentFactory.create_batch(20)
    client = signed_in(crew.requester)
    page = client.get(reverse("admin:changes_change_change", args=[change.pk]))
    widget = page.context["adminform"].form.fields["related_incidents"].widget
    assert isinstance(widget.widget if hasattr(widget, "widget") else widget, AutocompleteSelectMultiple)
    assert "ERP login fails" not in page.content.decode()
    found = client.get(reverse("admin:autocomplete"), {"term": "every night", "app_label": "changes",
                                                       "model_name": "change", "field_name": "related_incidents"})
    assert found.status_code == 200
    assert [r["id"] for r in found.json()["results"]] == [str(incident.pk)]


def test_a_link_made_by_the_service_shows_on_both_pages(crew: ChangeCrew, incident: Incident) -> None:
    change = draft_change(crew)
    change_update(change, user=crew.requester, changes={"related_incidents": [incident]})
    assert incident.changes.get() == change
    assert change.number in incident_page(signed_in(crew.engineer), incident)
    assert change.number in signed_in(crew.engineer).get(f"/incidents/{incident.pk}/").content.decode()
