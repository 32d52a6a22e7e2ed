"""Reclassification: an incident being worked gets a new impact × urgency with its reason, the priority from the
matrix, the state unchanged; refused before classification and once resolved, and to roles that do not classify;
a raise to P1/P2 pages the responsible team as a new P1/P2 does; the timeline shows old → new priority and the
reason; the page, the API and the admin all go through the same service. (The SLA clocks' side is in
sla/tests/test_reclassified_clocks.py; the whole state × role matrix in test_transitions and test_generated.)"""

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import assert_error
from incidents.choices import Priority, State
from incidents.models import Incident
from incidents.services import incident_transition
from incidents.tests.factories import Crew, category, incident_in_state, make_crew
from opscenter.core import roles
from opscenter.core.choices import Channel
from opscenter.core.exceptions import InvalidInput, InvalidState, TransitionForbidden
from opscenter.core.models import FieldChange, Notification, TransitionLog, User
from opscenter.core.notification_kinds import render
from opscenter.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REASON = "Every site of the centre is down now"


@pytest.fixture
def crew() -> Crew:
    crew = make_crew()
    software = category("software")
    software.default_team = crew.team
    software.save()
    return crew


def reload(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def logs(incident: Incident) -> list[TransitionLog]:
    return list(TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                             object_id=incident.pk).order_by("pk"))


def priority_changes(incident: Incident) -> list[tuple[str, str]]:
    return list(FieldChange.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                           object_id=incident.pk, field="priority")
                .order_by("pk").values_list("old_value", "new_value"))


def paged(event: str = "incident.urgent") -> set[User]:
    return {n.recipient for n in Notification.objects.filter(event=event, channel=Channel.IN_APP)}


def reclassify(incident: Incident, user: User, impact: int, urgency: int, comment: str = REASON) -> Incident:
    return incident_transition(incident, "reclassify", user=user, comment=comment,
                               data={"impact": impact, "urgency": urgency})


# --- The service ------------------------------------------------------------------------------------------------


def test_a_p3_grown_into_an_outage_becomes_p1_in_place_with_its_reason_on_the_timeline(crew: Crew) -> None:
    incident = incident_in_state(State.HANDLING, crew=crew)  # impact 2 × urgency 2: P3
    assert incident.priority == Priority.P3

    raised = reclassify(incident, crew.duty, 1, 1)
    assert (raised.state, raised.impact, raised.urgency, raised.priority) == (State.HANDLING, 1, 1, Priority.P1)
    assert reload(incident).priority == Priority.P1
    log = logs(incident)[-1]
    assert (log.transition, log.source_state, log.target_state, log.actor, log.comment, log.data) == (
        "reclassify", State.HANDLING, State.HANDLING, crew.duty, REASON, {"impact": 1, "urgency": 1})
    assert priority_changes(incident) == [("P3", "P1")]


@pytest.mark.parametrize(("state", "user", "refusal"), [
    (State.REPORTED, "duty", InvalidState),  # classify it first
    (State.RESOLVED, "duty", InvalidState),  # resolved under its priority; reopen first
    (State.UNDER_REVIEW, "supervisor", InvalidState),
    (State.CLOSED, "supervisor", InvalidState),
    (State.CANCELLED, "supervisor", InvalidState),
    (State.HANDLING, "caller", TransitionForbidden),  # the department reports; IT staff classify
])
def test_reclassification_is_refused_outside_the_worked_states_and_to_those_who_do_not_classify(
        crew: Crew, state: str, user: str, refusal: type) -> None:
    incident = incident_in_state(state, crew=crew)
    before = (incident.state, incident.priority, incident.updated_at, len(logs(incident)))
    with pytest.raises(refusal):
        reclassify(incident, getattr(crew, user), 1, 1)
    fresh = reload(incident)
    assert (fresh.state, fresh.priority, fresh.updated_at, len(logs(incident))) == before


@pytest.mark.parametrize("state", [State.CLASSIFIED, State.ASSIGNED, State.DIAGNOSING, State.HANDLING,
                                   State.RECOVERING, State.ON_HOLD])
@pytest.mark.parametrize("user", ["duty", "engineer", "supervisor"])
def test_whoever_classifies_may_reclassify_in_every_worked_state(crew: Crew, state: str, user: str) -> None:
    incident = incident_in_state(state, crew=crew)
    assert reclassify(incident, getattr(crew, user), 1, 2).priority == Priority.P2
    assert reload(incident).state == state


def test_the_reason_is_required_and_nothing_changes_without_it(crew: Crew) -> None:
    incident = incident_in_state(State.HANDLING, crew=crew)
    with pytest.raises(InvalidInput) as refused:
        reclassify(incident, crew.duty, 1, 1, comment="  ")
    assert "comment" in refused.value.detail
    assert reload(incident).priority == Priority.P3 and logs(incident)[-1].transition == "start_handling"
    assert priority_changes(incident) == [] and paged() == set()


@pytest.mark.parametrize(("before", "after", "pages"), [
    ((2, 2), (1, 1), True),   # P3 → P1
    ((2, 2), (1, 2), True),   # P3 → P2
    ((1, 2), (1, 1), True),   # P2 → P1
    ((1, 1), (1, 2), False),  # P1 → P2: lowered, nobody paged again
    ((2, 3), (2, 2), False),  # P4 → P3: not urgent
    ((1, 1), (1, 1), False),  # P1 → P1: a new reason, the same priority
])
def test_a_raise_to_p1_or_p2_pages_the_team_as_a_new_one_does(
        crew: Crew, django_capture_on_commit_callbacks: Any, before: tuple[int, int], after: tuple[int, int],
        pages: bool) -> None:
    colleague = UserFactory(roles=[roles.SYSTEM_ENGINEER])
    crew.team.members.add(colleague)
    incident = incident_in_state(State.HANDLING, crew=crew, impact=before[0], urgency=before[1])
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        raised = reclassify(incident, crew.duty, *after)
    if not pages:
        assert paged() == set()
        return
    assert paged() == {crew.engineer, colleague, crew.supervisor}
    classified = Notification.objects.filter(event="incident.urgent", recipient=crew.engineer,
                                             channel=Channel.IN_APP).get()
    assert classified.payload["priority"] == raised.priority and classified.payload["id"] == incident.pk
    assert raised.priority in render(classified, "en").subject


def test_a_p3_reclassified_p1_pages_exactly_as_a_p1_classified_does(crew: Crew) -> None:
    """The same people hear of it in the same words: one rule pages both."""
    new = incident_in_state(State.CLASSIFIED, crew=crew, impact=1, urgency=1)
    as_new = {(n.recipient_id, render(n, "en").subject.replace(new.number, "#"))
              for n in Notification.objects.filter(event="incident.urgent")}
    Notification.objects.all().delete()
    grown = incident_in_state(State.CLASSIFIED, crew=crew, title=new.title)
    reclassify(grown, crew.duty, 1, 1)
    as_grown = {(n.recipient_id, render(n, "en").subject.replace(grown.number, "#"))
                for n in Notification.objects.filter(event="incident.urgent")}
    assert as_grown == as_new and as_new


def test_a_raise_before_assignment_brings_the_assign_by_time_forward(crew: Crew, settings: Any) -> None:
    incident = incident_in_state(State.CLASSIFIED, crew=crew)  # P3: an hour to assign it
    before = timezone.now()
    raised = reclassify(incident, crew.duty, 1, 1)
    minutes = settings.INCIDENT_ASSIGN_WITHIN_MINUTES["P1"]
    assert before + timezone.timedelta(minutes=minutes) <= raised.assign_due_at <= timezone.now() + \
        timezone.timedelta(minutes=minutes)
    assert raised.assign_overdue_notified_at is None


# --- The API ----------------------------------------------------------------------------------------------------


def transition_url(incident: Incident, name: str = "reclassify") -> str:
    return f"/api/v1/incidents/{incident.pk}/transitions/{name}/"


def test_the_api_reclassifies_and_answers_with_the_new_priority(crew: Crew, api_as: Any) -> None:
    incident = incident_in_state(State.DIAGNOSING, crew=crew)
    response = api_as(crew.engineer).post(transition_url(incident), {"impact": 1, "urgency": 1, "comment": REASON},
                                          format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["priority"], body["impact"], body["urgency"]) == ("diagnosing", "P1", 1, 1)
    assert "reclassify" in body["available_transitions"]
    timeline = api_as(crew.engineer).get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
    assert [e["kind"] for e in timeline[-2:]] == ["transition", "change"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"impact": 7, "urgency": 1, "comment": REASON}, "impact"),
    ({"impact": 1, "urgency": "high", "comment": REASON}, "urgency"),
    ({"urgency": 1, "comment": REASON}, "impact"),
    ({"impact": 1, "urgency": 1}, "comment"),
    ({"impact": 1, "urgency": 1, "comment": ""}, "comment"),
    ({"impact": 1, "urgency": 1, "comment": REASON, "priority": "P1"}, "priority"),
])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
        crew: Crew, api_as: Any, payload: dict[str, Any], field: str) -> None:
    incident = incident_in_state(State.HANDLING, crew=crew)
    count = len(logs(incident))
    response = api_as(crew.duty).post(transition_url(incident), payload, format="json")
    assert_error(response, 400, "invalid")
    assert field in str(response.json()["detail"])
    assert reload(incident).priority == Priority.P3 and len(logs(incident)) == count


@pytest.mark.parametrize(("state", "who", "status", "code"), [
    (State.RESOLVED, "duty", 409, "invalid_state"),
    (State.CLOSED, "supervisor", 409, "invalid_state"),
    (State.REPORTED, "duty", 409, "invalid_state"),
    (State.HANDLING, "caller", 403, "permission_denied"),
])
def test_the_api_refuses_by_state_and_role_before_reading_the_data(
        crew: Crew, api_as: Any, state: str, who: str, status: int, code: str) -> None:
    incident = incident_in_state(state, crew=crew)
    response = api_as(getattr(crew, who)).post(transition_url(incident), {"impact": 9}, format="json")
    assert_error(response, status, code)
    assert reload(incident).state == state


# --- The page ---------------------------------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_page_offers_the_form_reclassifies_and_shows_old_and_new_priority_with_the_reason(crew: Crew) -> None:
    incident = incident_in_state(State.HANDLING, crew=crew)
    client = signed_in(crew.duty)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="transition-reclassify"' in page and 'name="reclassify-impact"' in page
    assert 'name="reclassify-comment"' in page

    missing = client.post(f"/incidents/{incident.pk}/transitions/reclassify/",
                          {"reclassify-impact": "1", "reclassify-urgency": "1", "reclassify-comment": ""})
    assert missing.status_code == 400 and "Please correct the fields marked below." in missing.content.decode()
    assert reload(incident).priority == Priority.P3

    done = client.post(f"/incidents/{incident.pk}/transitions/reclassify/",
                       {"reclassify-impact": "1", "reclassify-urgency": "1", "reclassify-comment": REASON},
                       follow=True)
    text = done.content.decode()
    assert done.status_code == 200 and reload(incident).priority == Priority.P1
    timeline = text[text.index('id="timeline"'):]
    assert "Reclassify" in timeline and "impact High, urgency High" in timeline and REASON in timeline
    assert ">P3</span> → P1" in timeline


def test_the_page_offers_no_reclassification_to_the_department_or_once_resolved(crew: Crew) -> None:
    handling = incident_in_state(State.HANDLING, crew=crew)
    assert 'id="transition-reclassify"' not in signed_in(crew.caller).get(f"/incidents/{handling.pk}/").content.decode()
    resolved = incident_in_state(State.RESOLVED, crew=crew)
    assert 'id="transition-reclassify"' not in signed_in(crew.duty).get(f"/incidents/{resolved.pk}/").content.decode()


# --- The admin --------------------------------------------------------------------------------------------------


def test_the_admin_reclassifies_through_the_same_service(crew: Crew) -> None:
    crew.supervisor.is_staff = True
    crew.supervisor.save()
    incident = incident_in_state(State.HANDLING, crew=crew)
    client = signed_in(crew.supervisor)
    form_url = reverse("admin:incidents_incident_transition", args=[incident.pk, "reclassify"])
    form = client.get(form_url)
    assert form.status_code == 200 and form.context["transition_form"].initial["impact"] == 2
    missing = client.post(form_url, {"impact": "1", "urgency": "1", "comment": ""})
    assert missing.status_code == 200 and missing.context["transition_form"].errors["comment"]
    assert reload(incident).priority == Priority.P3
    done = client.post(form_url, {"impact": "1", "urgency": "1", "comment": REASON})
    assert done.status_code == 302 and reload(incident).priority == Priority.P1
    assert logs(incident)[-1].comment == REASON and priority_changes(incident) == [("P3", "P1")]
