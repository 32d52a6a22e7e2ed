"""Security incidents stay with those who may see them: paging reaches only the members of the responsible team who
may open the incident, the assignment forms (page and admin) offer only them, and the services refuse anyone else
(400 through the API, nothing changed). The rule is the selectors' own (IncidentQuerySet.visible_to), read from the
users' side by `readers`; a test holds the two to each other."""

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from conftest import assert_error
from incidents.choices import State
from incidents.models import Category, Incident, readers
from incidents.services import incident_transition
from incidents.tests.factories import Crew, category, incident_in_state, incident_row, make_crew, report
from opscenter.core import roles
from opscenter.core.choices import Channel, TeamKind
from opscenter.core.exceptions import InvalidInput
from opscenter.core.models import Notification, Service, Team, TransitionLog, User
from opscenter.core.tests.factories import DepartmentFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


class Security:
    """The crew's system team supports the service; a security team with its analyst; a security category."""

    def __init__(self) -> None:
        self.crew: Crew = make_crew()
        self.team: Team = TeamFactory(kind=TeamKind.SECURITY)
        self.analyst: User = UserFactory(roles=[roles.SYSTEM_ENGINEER])
        self.team.members.add(self.analyst)
        self.service: Service = ServiceFactory(support_team=self.crew.team)
        self.category: Category = category("security")


@pytest.fixture
def sec() -> Security:
    return Security()


def paged() -> set[User]:
    return {n.recipient for n in Notification.objects.filter(event="incident.urgent", channel=Channel.IN_APP)}


def classify_p2(sec: Security) -> Incident:
    incident = report(sec.crew, service=sec.service)
    return incident_transition(incident, "classify", user=sec.crew.duty,
                               data={"category": sec.category, "impact": 1, "urgency": 2})


def test_the_security_category_ships_without_paging_the_support_team(sec: Security) -> None:
    """Without a default team the responsible team is the service's support team: its engineers may not open a
    security incident, so they are not paged (the supervisors are)."""
    assert sec.category.default_team is None
    incident = classify_p2(sec)
    assert incident.priority == "P2"
    assert paged() == {sec.crew.supervisor}


def test_the_shipped_security_category_goes_to_the_security_team_once_there_is_one(sec: Security) -> None:
    """What the installation ships (migration 0006): where a security team exists, the security category's default
    team is that team, and a P2 security incident then pages its analyst, not the service's support team."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("incidents.migrations.0006_security_category_team")
    Category.objects.filter(pk=sec.category.pk).update(is_security=True, default_team=None)
    migration.security_team_takes_security(apps, None)
    sec.category.refresh_from_db()
    assert sec.category.default_team == sec.team
    classify_p2(sec)
    assert paged() == {sec.analyst, sec.crew.supervisor}


def test_a_p2_security_incident_pages_the_security_team(sec: Security) -> None:
    sec.category.default_team = sec.team
    sec.category.save()
    classify_p2(sec)
    assert paged() == {sec.analyst, sec.crew.supervisor}


def test_a_raise_of_a_security_incident_pages_only_who_may_see_it(sec: Security) -> None:
    incident = incident_in_state(State.CLASSIFIED, crew=sec.crew, category_code="security", service=sec.service)
    Notification.objects.all().delete()
    incident_transition(incident, "reclassify", user=sec.crew.duty, comment="Data is leaving the network",
                        data={"impact": 1, "urgency": 1})
    assert sec.crew.engineer not in paged() and sec.crew.supervisor in paged()


def logs(incident: Incident) -> int:
    return TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                        object_id=incident.pk).count()


@pytest.mark.parametrize("data", ["engineer", "team"])
def test_assigning_a_security_incident_to_someone_who_may_not_see_it_is_a_400_and_changes_nothing(
        sec: Security, api_as: Any, data: str) -> None:
    incident = classify_p2(sec)
    payload = {"team": sec.crew.team.pk, "assignee": sec.crew.engineer.pk} if data == "engineer" else {
        "team": sec.crew.team.pk}
    before = logs(incident)
    response = api_as(sec.crew.duty).post(f"/api/v1/incidents/{incident.pk}/transitions/assign/", payload,
                                          format="json")
    assert_error(response, 400, "invalid")
    assert ("assignee" if data == "engineer" else "team") in response.json()["detail"]
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.state, fresh.team_id, fresh.assignee_id, logs(incident)) == (State.CLASSIFIED, None, None, before)


def test_the_security_team_takes_it(sec: Security, api_as: Any) -> None:
    incident = classify_p2(sec)
    response = api_as(sec.crew.duty).post(f"/api/v1/incidents/{incident.pk}/transitions/assign/",
                                          {"team": sec.team.pk, "assignee": sec.analyst.pk}, format="json")
    assert response.status_code == 200, response.content
    assert api_as(sec.analyst).get(f"/api/v1/incidents/{incident.pk}/").status_code == 200


def test_reassigning_to_someone_who_may_not_see_it_is_refused_too(sec: Security) -> None:
    incident = classify_p2(sec)
    incident = incident_transition(incident, "assign", user=sec.crew.duty,
                                   data={"team": sec.team, "assignee": sec.analyst})
    with pytest.raises(InvalidInput) as refused:
        incident_transition(incident, "reassign", user=sec.crew.duty,
                            data={"team": sec.crew.team, "assignee": sec.crew.engineer})
    assert "assignee" in refused.value.detail
    assert Incident.objects.get(pk=incident.pk).assignee == sec.analyst


def test_the_assignment_forms_offer_only_who_may_see_it(sec: Security) -> None:
    incident = classify_p2(sec)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(sec.crew.duty)
    form = client.get(f"/incidents/{incident.pk}/").context["actions"]
    assign = next(a.form for a in form if a.transition.name == "assign")
    assert set(assign.fields["assignee"].queryset) == {sec.analyst}
    assert set(assign.fields["team"].queryset) == {sec.team}

    # An ordinary incident still offers the system engineer and their team.
    plain = incident_in_state(State.CLASSIFIED, crew=sec.crew)
    actions = client.get(f"/incidents/{plain.pk}/").context["actions"]
    plain_form = next(a.form for a in actions if a.transition.name == "assign")
    assert {sec.crew.engineer, sec.analyst} <= set(plain_form.fields["assignee"].queryset)

    sec.crew.supervisor.is_staff = True
    sec.crew.supervisor.save()
    admin = Client()
    admin.force_login(sec.crew.supervisor)
    page = admin.get(reverse("admin:incidents_incident_transition", args=[incident.pk, "assign"]))
    # The admin offers engineers and supervisors: of them, the analyst and the supervisor may see it.
    assert set(page.context["transition_form"].fields["assignee"].queryset) == {sec.analyst, sec.crew.supervisor}


def test_readers_are_exactly_those_the_selectors_show_the_incident_to(sec: Security) -> None:
    """`readers` (the users' side) and IncidentQuerySet.visible_to (the incidents' side) agree, user by user."""
    other_department = DepartmentFactory()
    people = [sec.crew.supervisor, sec.crew.duty, sec.crew.engineer, sec.crew.caller, sec.analyst,
              UserFactory(roles=[roles.AUDITOR]), UserFactory(roles=[roles.DEPARTMENT_USER],
                                                              department=other_department),
              UserFactory(roles=[roles.DEPARTMENT_USER], department=sec.crew.department), UserFactory(),
              UserFactory(roles=[roles.SUPERVISOR], is_active=False), UserFactory(is_superuser=True)]
    incidents = [
        incident_row(State.CLASSIFIED, crew=sec.crew, category=sec.category),
        incident_row(State.CLASSIFIED, crew=sec.crew, category=sec.category, caller=None, department=None),
        incident_row(State.HANDLING, crew=sec.crew),
        incident_row(State.REPORTED, crew=sec.crew, category=None, department=other_department, caller=None),
    ]
    users = User.objects.filter(pk__in=[u.pk for u in people])
    for incident in incidents:
        seen_by = {u for u in people if Incident.objects.visible_to(u).filter(pk=incident.pk).exists()}
        assert set(readers(incident, users)) == seen_by, incident
