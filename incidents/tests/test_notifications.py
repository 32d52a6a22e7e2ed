"""An incident's notifications are written once, as their kind and facts, and each reader reads them in their own
language: an English engineer reads in English what a Chinese duty officer did, in the inbox, the API and e-mail."""

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from incidents.services import incident_transition
from incidents.tests.factories import make_crew, report, transition_data
from opscenter.core import outbox
from opscenter.core.models import Notification, Service
from opscenter.core.tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(policy_defaults: None, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """A P2 incident on the ERP reported and classified and assigned by a duty officer who reads 繁體中文, to an
    engineer who reads English; the supervisor reads 繁體中文. Every notification delivered."""
    crew = make_crew()
    crew.duty.language = crew.supervisor.language = "zh-hant"
    crew.engineer.language = "en"
    for person, name in ((crew.duty, "李值班"), (crew.engineer, "Alex Engineer"), (crew.supervisor, "陳主管")):
        person.display_name, person.email = name, f"{person.username}@example.com"
        person.save()
    service = ServiceFactory(name="ERP", support_team=crew.team)
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(crew, service=service, title="ERP login fails")
        data, _comment = transition_data(crew, "classify", impact=1, urgency=2)
        incident = incident_transition(incident, "classify", user=crew.duty, data=data)
        data, _comment = transition_data(crew, "assign")
        incident = incident_transition(incident, "assign", user=crew.duty, data=data)
    return {"crew": crew, "incident": incident, "service": service}


def client_for(user: Any, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def mails_to(user: Any) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_an_english_engineer_reads_in_english_what_a_chinese_duty_officer_did(assigned: dict[str, Any]) -> None:
    crew, incident = assigned["crew"], assigned["incident"]
    expected = f"P2 {incident.number} assigned to you: ERP login fails"
    # Rendered when read, not when written: the row holds the kind and the facts, no text.
    row = Notification.objects.get(event="incident.assigned", recipient=crew.engineer, channel="in_app")
    assert row.subject == "" and row.payload["number"] == incident.number and row.ticket == incident.number

    # The inbox, even on a browser that asks for Chinese: the engineer's own language wins.
    page = client_for(crew.engineer, "zh-hant").get("/notifications/").content.decode()
    assert expected in page
    assert "Priority: P2" in page and "Service: ERP" in page and "By: 李值班" in page
    assert "已指派給您" not in page

    # The API.
    client = client_for(crew.engineer, "zh-hant")
    [first, *_rest] = client.get("/api/v1/notifications/", {"event": "incident.assigned"}).json()["results"]
    assert first["subject"] == expected and first["kind"] == "Incident assigned"
    assert {"label": "Service", "value": "ERP"} in first["facts"] and first["ticket"] == incident.number

    # The e-mail: a subject one reads in a list, then the facts and the link.
    [message] = [m for m in mails_to(crew.engineer) if "assigned to you" in m.subject]
    assert message.subject == f"[OpsCenter] {expected}"
    assert "Priority: P2" in message.body and "Service: ERP" in message.body and "By: 李值班" in message.body
    assert f"Open: http://127.0.0.1:8000/incidents/{incident.pk}/" in message.body
    assert not re.search(r"[\u4e00-\u9fff]", message.body.replace("李值班", ""))


def test_a_chinese_supervisor_reads_the_same_event_in_chinese(assigned: dict[str, Any]) -> None:
    crew, incident = assigned["crew"], assigned["incident"]
    [message] = [m for m in mails_to(crew.supervisor) if incident.number in m.subject]
    assert message.subject == f"[OpsCenter] {incident.number} P2 事件：ERP login fails"
    assert re.search(r"優先級[:：] ?P2", message.body) and re.search(r"服務[:：] ?ERP", message.body)
    page = client_for(crew.supervisor, "en").get("/notifications/").content.decode()
    assert f"{incident.number} P2 事件：ERP login fails" in page
    # The engineer's copy of the same event stays English.
    assert outbox.unread_count(crew.engineer) == 2  # urgent (the team) and assigned


def test_a_due_time_is_shown_in_local_time(assigned: dict[str, Any]) -> None:
    crew, incident = assigned["crew"], assigned["incident"]
    urgent = Notification.objects.get(event="incident.urgent", recipient=crew.engineer, channel="email")
    assert urgent.payload["due_at"]  # classified and not yet assigned when it was written
    subject, body = outbox.email_message(urgent)
    local = timezone.localtime(incident.assign_due_at)
    assert f"Due: {local:%Y-%m-%d %H:%M}" in body and subject.startswith(f"[OpsCenter] {incident.number} P2")


def test_a_service_renamed_later_does_not_change_what_was_said(assigned: dict[str, Any]) -> None:
    Service.objects.filter(pk=assigned["service"].pk).update(name="ERP (new)")
    page = client_for(assigned["crew"].engineer, "en").get("/notifications/").content.decode()
    assert "Service: ERP<" in page or "Service: ERP " in page
