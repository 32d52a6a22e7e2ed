"""The pages of attendance, the duty log and handovers as a person uses them — My duty (check in and out, the
refusal shown with its reason, the log, the handover written and acknowledged), the duty log, the handovers waiting
for the supervisor, a handover's page, the admin — and their pinned query counts."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from duty.attendance import shift_check_in
from duty.choices import Attendance, HandoverState, LogKind
from duty.handovers import handover_acknowledge, handover_write
from duty.log import log_entry_record
from duty.models import DutyLogEntry, Handover, Shift
from duty.tests.attend_scenarios import DAY_START, DutyDay, at, count, duty_day, minutes, more_log
from duty.tests.factories import UserFactory
from incidents.choices import State as IncidentState
from incidents.tests.factories import incident_row
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core import roles

pytestmark = pytest.mark.django_db
MY = reverse("duty:my-duty")
LOG = reverse("duty:log-list")
HANDOVERS = reverse("duty:handover-list")
END = DAY_START + timedelta(hours=12)


@pytest.fixture
def day() -> DutyDay:
    return duty_day()


def signed_in(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def act(client: Client, shift: Shift, name: str) -> Any:
    return client.post(reverse("duty:attendance-action", args=[shift.pk, name]), follow=True)


def written(d: DutyDay) -> Handover:
    with at(DAY_START):
        shift_check_in(d.day, user=d.outgoing)
    with at(END - minutes(10)):
        return handover_write(shift=d.day, user=d.outgoing, summary="Backup job re-run at 15:00; all green.")


# --- My duty --------------------------------------------------------------------------------------------------


def test_my_duty_shows_the_shift_now_the_next_one_and_checks_in(day: DutyDay) -> None:
    client = signed_in(day.outgoing)
    with at(DAY_START - minutes(20)):
        page = client.get(MY)
        assert page.status_code == 200
        assert f'id="check_in-{day.day.pk}"' in html(page)
        assert 'id="no-shift"' not in html(page)
        done = act(client, day.day, "check_in")
    assert messages_of(done) == ["Checked in at 07:40."]
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.ON_DUTY
    with at(DAY_START - minutes(20)):
        night = signed_in(day.incoming).get(MY)
    assert 'id="no-shift"' in html(night) and "2026-03-10 20:00" in html(night)  # the next shift


def test_a_late_check_in_says_how_late(day: DutyDay) -> None:
    with at(DAY_START + minutes(22)):
        done = act(signed_in(day.outgoing), day.day, "check_in")
    assert messages_of(done) == ["Checked in at 08:22. Recorded as 22 minutes late."]


def test_check_out_before_the_acknowledgement_is_refused_with_the_reason(day: DutyDay) -> None:
    client = signed_in(day.outgoing)
    with at(DAY_START):
        act(client, day.day, "check_in")
    with at(END):
        page = client.get(MY)
        blocked = f'id="check_out-{day.day.pk}-blocked"'
        assert blocked in html(page) and "Write the handover first" in html(page)
        refused = act(client, day.day, "check_out")
    reason = f"Write the handover first: {day.incoming} takes over at 2026-03-10 20:00"
    assert messages_of(refused)[0].startswith(reason)
    assert Shift.objects.get(pk=day.day.pk).attendance == Attendance.ON_DUTY


def test_the_handover_is_written_and_acknowledged_from_my_duty(day: DutyDay) -> None:
    incident = incident_row(IncidentState.HANDLING, crew=incident_crew(team=day.crew.team), title="ERP slow")
    outgoing, incoming = signed_in(day.outgoing), signed_in(day.incoming)
    with at(DAY_START):
        act(outgoing, day.day, "check_in")
    with at(END - minutes(10)):
        empty = outgoing.post(reverse("duty:handover-write", args=[day.day.pk]), {"handover-summary": " "})
        assert empty.status_code == 400 and empty.context["handover_form"].errors["summary"]
        response = outgoing.post(reverse("duty:handover-write", args=[day.day.pk]),
                                 {"handover-summary": "ERP slow since 16:00, vendor called."}, follow=True)
    handover = Handover.objects.get()
    assert response.redirect_chain[-1][0] == reverse("duty:handover-detail", args=[handover.pk])
    assert incident.number in html(response) and "ERP slow since 16:00" in html(response)
    with at(END - minutes(5)):
        page = incoming.get(MY)
        assert 'id="handover-to-acknowledge"' in html(page) and incident.number in html(page)
        url = reverse("duty:handover-transition", args=[handover.pk, "acknowledge"])
        unconfirmed = incoming.post(url, {})
        assert unconfirmed.status_code == 400
        wrong = signed_in(day.before).post(url, {"acknowledge-confirm": "on"})
        assert wrong.status_code == 403
        assert Handover.objects.get(pk=handover.pk).state == HandoverState.WRITTEN
        incoming.post(url, {"acknowledge-confirm": "on"})
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.ACKNOWLEDGED
    with at(END + minutes(1)):
        done = act(outgoing, day.day, "check_out")
    assert messages_of(done) == ["Checked out. Thank you."]


def test_the_log_is_written_from_my_duty(day: DutyDay) -> None:
    client = signed_in(day.outgoing)
    incident = incident_row(IncidentState.HANDLING, crew=incident_crew(team=day.crew.team))
    with at(DAY_START + minutes(30)):
        bad = client.post(reverse("duty:log-add"), {"log-kind": "call", "log-text": ""})
        assert bad.status_code == 400 and bad.context["log_form"].errors["text"]
        client.post(reverse("duty:log-add"), {"log-kind": "alarm", "log-text": "Disk 91% on db-02",
                                              "log-informed": "DBA on call", "log-incidents": [incident.pk]})
        page = client.get(MY)
    entry = DutyLogEntry.objects.get()
    assert (entry.shift, entry.kind, list(entry.incidents.all())) == (day.day, LogKind.ALARM, [incident])
    assert "Disk 91% on db-02" in html(page) and incident.number in html(page)
    with at(DAY_START + minutes(30)):
        refused = signed_in(day.incoming).post(reverse("duty:log-add"), {"log-kind": "call", "log-text": "Hi"})
    assert refused.status_code == 403 and "you have no shift now" in messages_of(refused)[0]


def test_the_search_boxes_find_incidents(day: DutyDay) -> None:
    incident = incident_row(IncidentState.HANDLING, crew=incident_crew(team=day.crew.team), title="VPN drops")
    found = signed_in(day.outgoing).get(reverse("duty:incident-search"), {"q": "VPN"}).json()
    assert found == {"results": [{"id": incident.pk, "text": f"{incident.number} VPN drops"}]}
    assert signed_in(day.outgoing).get(reverse("duty:change-search"), {"q": "VPN"}).json() == {"results": []}
    department = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert department.get(reverse("duty:incident-search"), {"q": "VPN"}).status_code == 403


# --- The supervisor's view, the log and the handover pages -----------------------------------------------------


def test_the_supervisor_sees_the_handovers_waiting(day: DutyDay) -> None:
    handover = written(day)
    supervisor = signed_in(day.crew.supervisor)
    home = supervisor.get("/")
    assert 'id="panel-duty-handovers-waiting"' in html(home)
    assert reverse("duty:handover-detail", args=[handover.pk]) in html(home)
    waiting = supervisor.get(HANDOVERS)
    assert [h.pk for h in waiting.context["page"].object_list] == [handover.pk]
    handover_acknowledge(handover, user=day.incoming)
    assert not supervisor.get(HANDOVERS).context["page"].object_list
    assert [h.pk for h in supervisor.get(HANDOVERS, {"state": ""}).context["page"].object_list] == [handover.pk]
    assert 'id="panel-duty-handovers-waiting"' not in html(signed_in(day.outgoing).get("/"))


def test_the_duty_log_page_filters_by_team_day_and_kind(day: DutyDay) -> None:
    other = duty_day("net")
    for d, kind, text in ((day, LogKind.ALARM, "sys alarm"), (other, LogKind.CALL, "net call")):
        with at(DAY_START + minutes(60)):
            log_entry_record(user=d.outgoing, kind=kind, text=text)
    client = signed_in(day.crew.supervisor)

    def texts(**params: Any) -> list[str]:
        return [e.text for e in client.get(LOG, params).context["page"].object_list]

    assert sorted(texts()) == ["net call", "sys alarm"]
    assert texts(team=other.crew.team.pk) == ["net call"]
    assert texts(kind="alarm", day="2026-03-10") == ["sys alarm"]
    assert texts(day="2026-03-11") == []
    assert sorted(texts(kind="nonsense")) == ["net call", "sys alarm"]  # a bad value drops only its own filter


def test_the_nav_offers_my_duty_to_those_on_shifts_and_the_log_to_auditors(day: DutyDay) -> None:
    assert f'href="{MY}"' in html(signed_in(day.outgoing).get("/"))
    auditor = signed_in(UserFactory(roles=[roles.AUDITOR]))
    page = auditor.get("/")
    assert f'href="{LOG}"' in html(page) and f'href="{MY}"' not in html(page)
    department = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    assert f'href="{MY}"' not in html(department.get("/"))


def test_department_users_see_no_duty_page(day: DutyDay) -> None:
    handover = written(day)
    department = signed_in(UserFactory(roles=[roles.DEPARTMENT_USER]))
    for url in (MY, LOG, HANDOVERS, reverse("duty:handover-detail", args=[handover.pk])):
        assert department.get(url).status_code in (403, 404), url
    refused = department.post(reverse("duty:attendance-action", args=[day.night.pk, "check_in"]))
    assert refused.status_code == 403
    assert Shift.objects.get(pk=day.night.pk).attendance == Attendance.EXPECTED


# --- The admin ------------------------------------------------------------------------------------------------


def test_the_admin_adds_log_entries_and_never_changes_them(day: DutyDay) -> None:
    day.crew.supervisor.is_staff = True
    day.crew.supervisor.save()
    client = signed_in(day.crew.supervisor)
    with at(DAY_START + minutes(30)):
        response = client.post(reverse("admin:duty_dutylogentry_add"), {
            "kind": "notice", "occurred_at_0": "2026-03-10", "occurred_at_1": "08:20:00",
            "text": "Freeze announced for Friday.", "informed": "All teams"}, follow=True)
    assert response.status_code == 200
    entry = DutyLogEntry.objects.get()
    assert (entry.author, entry.shift, entry.text) == (day.crew.supervisor, None, "Freeze announced for Friday.")
    change = reverse("admin:duty_dutylogentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200  # read only
    client.post(change, {"kind": "call", "text": "Rewritten"})
    assert DutyLogEntry.objects.get(pk=entry.pk).text == "Freeze announced for Friday."
    assert client.post(reverse("admin:duty_dutylogentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403


def test_a_supervisor_acknowledges_in_the_admin_for_the_incoming_person(day: DutyDay) -> None:
    handover = written(day)
    boss = UserFactory(username="sys-boss", roles=[roles.SUPERVISOR], is_staff=True)
    client = signed_in(boss)
    page = client.get(reverse("admin:duty_handover_change", args=[handover.pk]))
    assert page.status_code == 200 and 'id="decision-summary"' in html(page)
    client.post(reverse("admin:duty_handover_transition", args=[handover.pk, "acknowledge"]),
                {"comment": "Incoming engineer is stuck in traffic; I take it."})
    handover.refresh_from_db()
    assert (handover.state, handover.acknowledged_by) == (HandoverState.ACKNOWLEDGED, boss)
    assert client.get(reverse("admin:duty_handover_add")).status_code == 403


# --- Query counts -----------------------------------------------------------------------------------------------


def test_my_duty_queries_do_not_grow_with_the_log(day: DutyDay, django_assert_num_queries: Any) -> None:
    client = signed_in(day.outgoing)
    with at(DAY_START):
        shift_check_in(day.day, user=day.outgoing)
    more_log(day, 2)
    with at(DAY_START + minutes(100)):
        count(client, MY)
        few = count(client, MY)
    more_log(day, 6, start=10)
    with at(DAY_START + minutes(100)):
        assert count(client, MY) == few
        # the session's user, roles, my shifts (whether each may leave read with them); for the shift now: why it
        # may not be left yet (its handover, who follows: 2), its handover and who takes over (2); the handover I
        # receive, my teams (incident visibility), the shift's log (rows, incidents, changes: 3), permissions (2),
        # the unread count
        with django_assert_num_queries(MY_DUTY_QUERIES):
            client.get(MY)


MY_DUTY_QUERIES = 15


def test_log_list_queries_do_not_grow_with_rows(day: DutyDay, django_assert_num_queries: Any) -> None:
    client = signed_in(day.crew.supervisor)
    more_log(day, 2)
    count(client, LOG)
    few = count(client, LOG)
    more_log(day, 6, start=10)
    assert count(client, LOG) == few
    # the session's user, roles, the count, the unread count, the rows (author, shift and team joined), linked
    # incidents and changes
    with django_assert_num_queries(LOG_PAGE_QUERIES):
        client.get(LOG)


LOG_PAGE_QUERIES = 7


def test_handover_pages_queries_do_not_grow(day: DutyDay, django_assert_num_queries: Any) -> None:
    people = incident_crew(team=day.crew.team)
    incident_row(IncidentState.HANDLING, crew=people)
    small = written(day)
    other = duty_day("net")
    people = incident_crew(team=other.crew.team)
    for _k in range(8):
        incident_row(IncidentState.HANDLING, crew=people)
    large = written(other)
    client = signed_in(day.crew.supervisor)
    detail = [reverse("duty:handover-detail", args=[h.pk]) for h in (small, large)]
    count(client, detail[0])
    assert count(client, detail[0]) == count(client, detail[1])
    # the session's user, roles, the handover with its shifts, people and team, its items, the unread count
    with django_assert_num_queries(HANDOVER_DETAIL_QUERIES):
        client.get(detail[1])
    few = count(client, HANDOVERS)
    for d in (duty_day("dsk"), duty_day("sec")):
        written(d)
    assert count(client, HANDOVERS) == few
    # the session's user, roles, the count, the unread count, the rows (shifts, people and team joined; the team
    # filter's choices come from the cache)
    with django_assert_num_queries(HANDOVER_LIST_QUERIES):
        client.get(HANDOVERS)


HANDOVER_DETAIL_QUERIES = 5
HANDOVER_LIST_QUERIES = 5
