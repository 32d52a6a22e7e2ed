"""交接班: the outgoing person writes the handover, carrying over the open incidents and changes in progress through
the kernel's extension point (incidents and changes fill it; duty imports neither service); the incoming person,
and nobody else but a supervisor, acknowledges it."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from changes.choices import State as ChangeState
from changes.tests.factories import change_in_state
from changes.tests.factories import make_crew as change_crew
from duty.attendance import shift_check_in
from duty.choices import HandoverState
from duty.handovers import (
    handover_acknowledge,
    handover_write,
    handovers_waiting,
    incoming_shift_for,
    item_groups,
    may_leave,
)
from duty.models import Handover, HandoverItem
from duty.tests.attend_scenarios import DAY_START, DutyDay, at, duty_day, minutes, recipients
from duty.tests.factories import ShiftFactory, UserFactory
from incidents.choices import State as IncidentState
from incidents.tests.factories import incident_row
from incidents.tests.factories import make_crew as incident_crew
from opscenter.core import extensions, roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput, TransitionForbidden
from opscenter.core.extensions import HandoverEntry
from opscenter.core.models import TransitionLog

pytestmark = pytest.mark.django_db
END = DAY_START + timedelta(hours=12)


@pytest.fixture
def day() -> DutyDay:
    d = duty_day()
    with at(DAY_START):
        shift_check_in(d.day, user=d.outgoing)
    return d


def write(d: DutyDay, summary: str = "Disk alarm on db-02 cleared at 14:10; watch the backup at 02:00.",
          user: Any = None) -> Handover:
    with at(END - minutes(15)):
        return handover_write(shift=d.day, user=user or d.outgoing, summary=summary)


def test_the_handover_carries_the_teams_open_incidents_and_its_changes_in_progress(day: DutyDay) -> None:
    people = incident_crew(team=day.crew.team)
    handling = incident_row(IncidentState.HANDLING, crew=people, title="ERP login fails")
    elsewhere = incident_row(IncidentState.HANDLING, crew=incident_crew(), title="Another team's printer")
    incident_row(IncidentState.CLOSED, crew=people, title="Closed last week")
    crew = change_crew()
    day.crew.team.members.add(crew.implementer)
    implementing = change_in_state(ChangeState.IMPLEMENTING, crew, title="Core switch firmware")
    change_in_state(ChangeState.DRAFT, crew, title="Only a draft")

    handover = write(day)
    rows = list(HandoverItem.objects.filter(handover=handover).order_by("ordering"))
    assert [(r.source, r.reference) for r in rows] == [("incidents", handling.number),
                                                       ("changes", implementing.number)]
    assert rows[0].title == "P3 · ERP login fails" and rows[0].status == "Handling"
    assert rows[0].url == f"/incidents/{handling.pk}/" and rows[1].url == f"/changes/{implementing.pk}/"
    assert rows[1].status == "Implementing"
    assert elsewhere.number not in {r.reference for r in rows}
    assert [str(label) for label, _items in item_groups(handover)] == ["Open incidents", "Changes in progress"]
    assert handover.incoming_shift == day.night
    log = TransitionLog.objects.get(object_id=handover.pk, transition="write")
    assert (log.actor, log.target_state) == (day.outgoing, HandoverState.WRITTEN)
    # The incoming person is asked to acknowledge it.
    assert recipients("duty.handover_written") == {day.incoming.username}


def test_what_was_carried_over_stays_as_it_was_handed_over(day: DutyDay) -> None:
    incident = incident_row(IncidentState.DIAGNOSING, crew=incident_crew(team=day.crew.team), title="VPN drops")
    with translation.override("zh-hant"):
        handover = write(day)
    item = handover.items.get()
    assert item.status == "Diagnosing"  # kept untranslated: each reader sees it in their language
    type(incident).objects.filter(pk=incident.pk).update(title="Renamed later")
    assert handover.items.get().title.endswith("VPN drops")


def test_a_registered_source_fills_the_handover_without_duty_knowing_it(day: DutyDay, monkeypatch: Any) -> None:
    seen = []

    def alerts(team: Any, start: Any, end: Any, user: Any) -> list[HandoverEntry]:
        seen.append((team, start, end, user))
        return [HandoverEntry("ALR-7", "Disk 91% on db-02" + "!" * 300, "Firing", "/alerts/7/")]

    monkeypatch.setattr(extensions, "_handover_sources", list(extensions._handover_sources))
    extensions.register_handover_items("alerts", alerts, label="Alerts", order=5)
    handover = write(day)
    assert seen == [(day.crew.team, day.day.start, day.day.end, day.outgoing)]
    item = handover.items.get(source="alerts")
    assert (item.reference, item.status, item.ordering, len(item.title)) == ("ALR-7", "Firing", 0, 200)


def test_the_handover_is_written_once_by_the_person_on_duty(day: DutyDay) -> None:
    with pytest.raises(TransitionForbidden) as other:
        write(day, user=day.incoming)
    assert other.value.code == "not_your_shift"
    with pytest.raises(InvalidInput):
        write(day, summary="   ")
    write(day)
    with pytest.raises(ConditionFailed) as twice:
        write(day)
    assert twice.value.code == "handover_exists"
    assert Handover.objects.count() == 1


def test_the_handover_is_written_while_on_duty(day: DutyDay) -> None:
    with at(day.night.start), pytest.raises(ConditionFailed) as refused:
        handover_write(shift=day.night, user=day.incoming, summary="Not checked in yet")
    assert refused.value.code == "not_on_duty"


def test_a_supervisor_writes_it_for_the_person_and_may_not_acknowledge_it_then(day: DutyDay) -> None:
    handover = write(day, user=day.crew.supervisor)
    assert handover.written_by == day.crew.supervisor
    with pytest.raises(TransitionForbidden) as own:
        handover_acknowledge(handover, user=day.crew.supervisor)
    assert own.value.code == "own_handover"


def test_only_the_incoming_person_or_a_supervisor_acknowledges(day: DutyDay) -> None:
    handover = write(day)
    for wrong in (day.outgoing, day.before, day.crew.duty):
        with pytest.raises(TransitionForbidden) as refused:
            handover_acknowledge(handover, user=wrong)
        assert refused.value.status_code == 403
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.WRITTEN
    assert not may_leave(day.day)
    with at(END + minutes(2)):
        done = handover_acknowledge(handover, user=day.incoming, comment="Read; backup job noted.")
    assert (done.state, done.acknowledged_by, done.acknowledged_at) == (
        HandoverState.ACKNOWLEDGED, day.incoming, END + minutes(2))
    assert may_leave(day.day)
    assert recipients("duty.handover_acknowledged") == {day.outgoing.username}
    another = duty_day("net")
    with at(DAY_START):
        shift_check_in(another.day, user=another.outgoing)
    second = write(another)
    handover_acknowledge(second, user=day.crew.supervisor)  # a supervisor for the incoming person
    assert Handover.objects.get(pk=second.pk).acknowledged_by == day.crew.supervisor


def test_unacknowledged_handovers_wait_for_the_supervisor(day: DutyDay) -> None:
    handover = write(day)
    assert list(handovers_waiting(user=day.crew.supervisor)) == [handover]
    handover_acknowledge(handover, user=day.incoming)
    assert not handovers_waiting(user=day.crew.supervisor).exists()
    department = UserFactory(roles=[roles.DEPARTMENT_USER])
    assert not handovers_waiting(user=department).exists()


def test_with_two_people_in_the_role_each_hands_over_to_one_of_the_next_two(day: DutyDay) -> None:
    partner = UserFactory(username="sys-eng4", roles=[roles.SYSTEM_ENGINEER])
    second_day = ShiftFactory(roster=day.roster, team=day.crew.team, user=partner, start=day.day.start,
                              end=day.day.end)
    second_night = ShiftFactory(roster=day.roster, team=day.crew.team, user=day.before, start=day.night.start,
                                end=day.night.end)
    assert incoming_shift_for(day.day) == day.night
    assert incoming_shift_for(second_day) == second_night
