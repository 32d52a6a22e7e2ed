"""The duty log (值班日誌): written by whoever is on duty, attached to their current shift, linking incidents and
changes they may see, and never changed or deleted — through the service, the API or the admin."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from changes.choices import State as ChangeState
from changes.tests.factories import change_in_state
from conftest import assert_error
from duty.attendance import shift_check_in
from duty.choices import LogKind
from duty.log import log_entry_record
from duty.models import DutyLogEntry
from duty.tests.attend_scenarios import DAY_START, DutyDay, at, duty_day, minutes
from duty.tests.factories import UserFactory
from incidents.choices import State as IncidentState
from incidents.tests.factories import incident_row
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, TransitionForbidden
from opscenter.core.models.workflow import AppendOnlyError

pytestmark = pytest.mark.django_db
LOG = "/api/v1/duty/log/"


@pytest.fixture
def day() -> DutyDay:
    return duty_day()


def record(user: Any, moment: Any = None, **fields: Any) -> DutyLogEntry:
    with at(moment or DAY_START + minutes(90)):
        return log_entry_record(user=user, **{"kind": LogKind.CALL, "text": "Finance called: ERP slow.", **fields})


def test_an_entry_attaches_to_the_authors_current_shift(day: DutyDay) -> None:
    entry = record(day.outgoing)
    assert (entry.shift, entry.author, entry.occurred_at) == (day.day, day.outgoing, DAY_START + minutes(90))
    # Checked in early for the night, the engineer's entries go to the night shift.
    with at(day.night.start - minutes(20)):
        shift_check_in(day.night, user=day.incoming)
    later = record(day.incoming, day.night.start - minutes(5), kind=LogKind.NOTICE, text="Took the pager early.")
    assert later.shift == day.night


def test_an_entry_links_incidents_and_changes_the_author_may_see(day: DutyDay) -> None:
    incident = incident_row(IncidentState.HANDLING, crew=incident_crew(team=day.crew.team))
    change = change_in_state(ChangeState.DRAFT)
    entry = record(day.outgoing, kind=LogKind.ALARM, text="CPU alarm on erp-01, handed to the system team.",
                   informed="Li (system team)", incidents=[incident], changes=[change.pk],
                   occurred_at=DAY_START + minutes(80))
    assert list(entry.incidents.all()) == [incident] and list(entry.changes.all()) == [change]
    assert (entry.informed, entry.occurred_at) == ("Li (system team)", DAY_START + minutes(80))


def test_whoever_is_not_on_duty_may_not_write_but_a_supervisor_may(day: DutyDay) -> None:
    with pytest.raises(TransitionForbidden) as refused:
        record(day.incoming)  # the night engineer, at 09:30
    assert refused.value.code == "not_on_duty"
    auditor = UserFactory(roles=[roles.AUDITOR])
    with pytest.raises(TransitionForbidden):
        record(auditor)
    entry = record(day.crew.supervisor, kind=LogKind.NOTICE, text="Change freeze from Friday.")
    assert entry.shift is None
    assert DutyLogEntry.objects.count() == 1


@pytest.mark.parametrize(("fields", "field"), [
    ({"text": "  "}, "text"),
    ({"kind": "gossip"}, "kind"),
    ({"occurred_at": DAY_START + minutes(95)}, "occurred_at"),  # in the future
    ({"occurred_at": DAY_START - minutes(90)}, "occurred_at"),  # before the shift
])
def test_bad_entries_are_refused_and_nothing_is_written(day: DutyDay, fields: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        record(day.outgoing, **fields)
    assert field in refused.value.detail
    assert not DutyLogEntry.objects.exists()


def test_an_entry_is_never_changed_or_deleted(day: DutyDay) -> None:
    entry = record(day.outgoing)
    entry.text = "Rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        DutyLogEntry.objects.filter(pk=entry.pk).update(text="Rewritten")


# --- Through the API -------------------------------------------------------------------------------------------


def test_the_api_adds_an_entry_to_the_callers_shift(day: DutyDay, api_as: Any) -> None:
    incident = incident_row(IncidentState.HANDLING, crew=incident_crew(team=day.crew.team))
    with at(DAY_START + minutes(90)):
        response = api_as(day.outgoing).post(LOG, {"kind": "fault", "text": "Printer 3F jammed; desk told.",
                                                   "informed": "Desktop team", "incidents": [incident.pk]},
                                             format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["shift"], body["team"]["code"], body["kind_label"]) == (day.day.pk, "sys", "Fault reported")
    assert body["incidents"] == [{"id": incident.pk, "number": incident.number, "title": incident.title}]


def test_the_api_refuses_bad_input_with_a_code(day: DutyDay, api_as: Any) -> None:
    client = api_as(day.outgoing)
    with at(DAY_START + minutes(90)):
        assert_error(client.post(LOG, {"kind": "call", "text": "x", "shift": day.night.pk}, format="json"), 400,
                     "invalid")  # the shift is found, never given
        assert_error(client.post(LOG, {"kind": "call", "text": "x", "incidents": [999999]}, format="json"), 400,
                     "invalid")
        assert_error(api_as(day.incoming).post(LOG, {"kind": "call", "text": "x"}, format="json"), 403,
                     "not_on_duty")
    assert not DutyLogEntry.objects.exists()


def test_the_log_is_append_only_through_the_api(day: DutyDay, api_as: Any) -> None:
    entry = record(day.outgoing)
    client = api_as(day.crew.supervisor)
    url = f"{LOG}{entry.pk}/"
    assert client.get(url).status_code == 200
    for method in ("put", "patch", "delete"):
        assert_error(getattr(client, method)(url, {"text": "Rewritten"}, format="json"), 405, "method_not_allowed")
    assert DutyLogEntry.objects.get(pk=entry.pk).text == entry.text


def test_the_log_is_filtered_by_team_day_and_kind(day: DutyDay, api_as: Any) -> None:
    other = duty_day("net")
    record(day.outgoing, kind=LogKind.ALARM, text="sys alarm")
    record(other.outgoing, kind=LogKind.CALL, text="net call")
    record(other.before, DAY_START - minutes(60), kind=LogKind.CALL, text="net call at night")
    client = api_as(day.crew.supervisor)

    def texts(**params: Any) -> list[str]:
        response = client.get(LOG, params)
        assert response.status_code == 200, response.content
        return [row["text"] for row in response.json()["results"]]

    assert texts() == ["net call", "sys alarm", "net call at night"]  # newest first (net's was recorded later)
    assert texts(team=other.crew.team.pk) == ["net call", "net call at night"]
    assert texts(kind="alarm") == ["sys alarm"]
    assert texts(day="2026-03-10", kind="call") == ["net call", "net call at night"]  # 07:00 local is that day
    assert texts(day=str(date(2026, 3, 9))) == []
    assert_error(client.get(LOG, {"kind": "gossip"}), 400, "invalid")


def test_department_users_read_no_log(day: DutyDay, api_as: Any, client: Any) -> None:
    entry = record(day.outgoing)
    department = UserFactory(roles=[roles.DEPARTMENT_USER])
    api = api_as(department)
    assert_error(api.get(LOG), 403)
    assert_error(api.get(f"{LOG}{entry.pk}/"), 403)
    client.force_login(department)
    assert client.get(reverse("duty:log-list")).status_code == 403
    assert client.get(reverse("duty:my-duty")).status_code == 403


def test_auditors_read_the_log_and_write_nothing(day: DutyDay, api_as: Any) -> None:
    record(day.outgoing)
    auditor = UserFactory(roles=[roles.AUDITOR])
    client = api_as(auditor)
    assert client.get(LOG).json()["count"] == 1
    with at(DAY_START + timedelta(hours=2)):
        assert_error(client.post(LOG, {"kind": "call", "text": "x"}, format="json"), 403)
