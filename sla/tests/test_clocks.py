"""Clocks on real incidents, moved through incidents.services at controlled times: they start at report, the
response clock stops at the first response, on hold pauses and resume resumes, resolved stops and reopen
resumes the resolution, cancel stops all, re-targeting keeps the time counted; team (OLA) clocks follow the
assignment; the sweep announces each warning and breach once, late or twice; calendar edits recompute open
clocks only. Then what people see of them: the incident page, the incident API and the clocks endpoint."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from conftest import assert_error
from incidents.choices import HoldReason
from incidents.models import Incident
from incidents.services import incident_report, incident_transition, incident_update
from incidents.tests.factories import Crew, transition_data
from opscenter.core import roles
from opscenter.core.choices import Channel, TeamKind
from opscenter.core.models import Notification
from opscenter.core.notification_kinds import render
from opscenter.core.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from sla import clocks
from sla.choices import ClockEventKind, ClockKind, ClockState, ExceptionKind
from sla.models import (
    Agreement,
    Breach,
    BusinessCalendar,
    CalendarException,
    Clock,
    ClockThreshold,
    TeamTarget,
    WorkingInterval,
)
from sla.tests.factories import agreement, at, make_crew, office_calendar

pytestmark = pytest.mark.django_db

HOUR, MINUTE = 3600, 60
# P3 (impact 2 × urgency 2): respond within 1 business hour, resolve within 10.
TARGETS = {"P3": (60, 600), "P2": (30, 240)}


class _AnyDatetime(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, datetime)


class Wall:
    """The time the application reads. `django.utils.timezone.now` reads the module's `datetime`, and model
    fields hold that function as their default (created_at of incidents and transition logs): patching the
    `datetime` it reads moves both."""

    def __init__(self) -> None:
        self.now = at("2026-11-30 09:00")

    def set(self, text: str) -> datetime:
        self.now = at(text)
        return self.now

    def patch(self) -> Any:
        wall = self

        class WallDatetime(datetime, metaclass=_AnyDatetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return wall.now.astimezone(tz) if tz else wall.now.replace(tzinfo=None)

        return mock.patch("django.utils.timezone.datetime", WallDatetime)


@pytest.fixture
def wall() -> Iterator[Wall]:
    wall = Wall()
    with wall.patch():
        yield wall


@pytest.fixture
def crew() -> Crew:
    crew = make_crew()
    agreement(crew.department, office_calendar(), targets=TARGETS)
    return crew


def report(crew: Crew, wall: Wall, when: str, **fields: Any) -> Incident:
    wall.set(when)
    return incident_report(recorder=crew.duty, data={
        "title": "ERP login fails", "description": "Timeout on the login page", "impact_scope": "Finance",
        "occurred_at": wall.now - timedelta(minutes=10), "channel": "phone", "caller": crew.caller, **fields})


def step(incident: Incident, crew: Crew, wall: Wall, when: str, name: str, *, user: Any = None,
         **data: Any) -> Incident:
    """Take one transition at a given time, with the data the road gives it (or the data passed)."""
    wall.set(when)
    road, comment = transition_data(crew, name)
    return incident_transition(incident, name, user=user or crew.actor(name), comment=comment,
                               data=data or road)


def walk(incident: Incident, crew: Crew, wall: Wall, when: str, *names: str) -> Incident:
    for name in names:
        incident = step(incident, crew, wall, when, name)
    return incident


def clock(incident: Incident, kind: str = ClockKind.RESPONSE, team: Any = None) -> Clock:
    return Clock.objects.get(incident=incident, kind=kind, **({"team": team} if team else {}))


def events(clock: Clock) -> list[tuple[str, int]]:
    return list(clock.events.order_by("at", "pk").values_list("kind", "segment_seconds"))


def assert_timelines_add_up(incident: Incident) -> None:
    """Each clock's elapsed time is the sum of its timeline, and every event says who and why."""
    for row in Clock.objects.filter(incident=incident):
        assert row.elapsed_seconds == row.events.aggregate(total=Sum("segment_seconds"))["total"], row
        for event in row.events.all():
            assert event.actor_id and event.reason, (row, event)


# --- Start, response, resolution -----------------------------------------------------------------------------


def test_the_policy_example_friday_1630_is_due_monday_0830(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-27 16:30")
    incident = step(incident, crew, wall, "2026-11-27 16:30", "classify")
    response = clock(incident)
    assert response.target_seconds == HOUR and response.due_at == at("2026-11-30 08:30")
    assert clocks.remaining_now(response, at("2026-11-27 16:45")) == 45 * MINUTE
    assert clocks.remaining_now(response, at("2026-11-29 23:00")) == 30 * MINUTE  # the weekend does not count


def test_the_clocks_a_report_starts_are_written_as_they_are_held(crew: Crew, wall: Wall) -> None:
    """Clocks, start events and thresholds each point at the right clock, with the keys the reporter's copy holds;
    one insert for each, on every database."""
    with CaptureQueriesContext(connection) as captured:
        incident = report(crew, wall, "2026-11-30 09:00")
    held = incident._started_clocks[1]
    rows = {row.pk: row for row in Clock.objects.filter(incident=incident).prefetch_related("events")}
    assert sorted(rows) == sorted(c.pk for c in held) and len(held) == 2
    for copy in held:
        row = rows[copy.pk]
        assert (row.kind, row.started_at, row.calendar_id, row.agreement_id, row.department_id, row.state) == (
            copy.kind, at("2026-11-30 09:00"), copy.calendar_id, copy.agreement_id, crew.department.pk,
            ClockState.RUNNING)
        assert [(e.pk, e.kind, e.actor_id, e.reason) for e in row.events.all()] == [
            (e.pk, ClockEventKind.START, crew.duty.pk, "Reported") for e in copy.events.all()]
    thresholds = ClockThreshold.objects.filter(clock__incident=incident)
    assert sorted(thresholds.values_list("clock__kind", "percent", "due_at")) == sorted(
        (kind, percent, None) for kind in (ClockKind.RESPONSE, ClockKind.RESOLUTION) for percent in (50, 75, 90, 100))
    inserts = [q["sql"] for q in captured.captured_queries
               if '"sla_clock' in q["sql"] and q["sql"].lstrip().startswith(("INSERT", "WITH"))]
    assert len(inserts) == 3


def test_clocks_start_at_report_and_the_response_stops_at_the_first_response(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    started = {c.kind: c for c in Clock.objects.filter(incident=incident)}
    assert set(started) == {ClockKind.RESPONSE, ClockKind.RESOLUTION}
    assert all(c.started_at == at("2026-11-30 09:00") and c.state == ClockState.RUNNING for c in started.values())
    assert all(c.target_seconds is None for c in started.values())  # no priority, no target yet
    incident = walk(incident, crew, wall, "2026-11-30 09:05", "classify", "assign")
    incident = step(incident, crew, wall, "2026-11-30 09:40", "start_diagnosis")
    response, resolution = clock(incident), clock(incident, ClockKind.RESOLUTION)
    assert response.state == ClockState.STOPPED and response.stopped_at == at("2026-11-30 09:40")
    assert response.elapsed_seconds == 40 * MINUTE and not response.breached and response.due_at is None
    assert events(response) == [("start", 0), ("retarget", 5 * MINUTE), ("stop", 35 * MINUTE)]
    assert resolution.state == ClockState.RUNNING and resolution.due_at == at("2026-12-01 10:00")
    assert_timelines_add_up(incident)


def test_on_hold_for_two_business_hours_pushes_the_resolution_by_two_business_hours(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = walk(incident, crew, wall, "2026-11-30 09:00", "classify", "assign", "start_diagnosis",
                    "start_handling")
    resolution = clock(incident, ClockKind.RESOLUTION)
    assert resolution.due_at == at("2026-12-01 10:00")  # 10 business hours: 8 on Monday, 2 on Tuesday
    incident = step(incident, crew, wall, "2026-11-30 16:00", "hold")
    paused = clock(incident, ClockKind.RESOLUTION)
    assert paused.state == ClockState.PAUSED and paused.due_at is None and paused.elapsed_seconds == 7 * HOUR
    assert clocks.remaining_now(paused, at("2026-12-01 08:30")) == 3 * HOUR  # frozen while on hold
    # Resumed the next morning at 09:00: 17:00–17:00 and 08:00–09:00, two business hours, were on hold.
    incident = step(incident, crew, wall, "2026-12-01 09:00", "resume")
    resumed = clock(incident, ClockKind.RESOLUTION)
    assert resumed.state == ClockState.RUNNING and resumed.due_at == at("2026-12-01 12:00")
    assert events(resumed)[-2:] == [("pause", 7 * HOUR), ("resume", 0)]
    assert resumed.events.get(kind=ClockEventKind.PAUSE).reason == str(HoldReason.VENDOR.label)
    assert_timelines_add_up(incident)


def test_resolved_stops_and_reopen_resumes_the_resolution_only(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = walk(incident, crew, wall, "2026-11-30 09:00", "classify", "assign")
    incident = walk(incident, crew, wall, "2026-11-30 09:30", "start_diagnosis", "start_handling", "restore")
    incident = step(incident, crew, wall, "2026-11-30 11:00", "confirm_recovery")
    resolution = clock(incident, ClockKind.RESOLUTION)
    assert resolution.state == ClockState.STOPPED and resolution.elapsed_seconds == 2 * HOUR
    assert resolution.stopped_at == at("2026-11-30 11:00")
    # Stopped clocks do not count on: the next morning the figures are the same.
    assert clocks.elapsed_now(resolution, at("2026-12-01 10:00")) == 2 * HOUR
    incident = step(incident, crew, wall, "2026-11-30 14:00", "reopen")
    response, resolution = clock(incident), clock(incident, ClockKind.RESOLUTION)
    assert response.state == ClockState.STOPPED and response.elapsed_seconds == 30 * MINUTE
    assert resolution.state == ClockState.RUNNING and resolution.due_at == at("2026-12-01 13:00")
    assert resolution.events.last().reason == "The fault is back"
    incident = walk(incident, crew, wall, "2026-11-30 15:00", "restore", "confirm_recovery")
    resolution = clock(incident, ClockKind.RESOLUTION)
    assert resolution.elapsed_seconds == 3 * HOUR and resolution.state == ClockState.STOPPED
    assert [kind for kind, _s in events(resolution)] == ["start", "retarget", "stop", "resume", "stop"]
    assert_timelines_add_up(incident)


def test_cancel_stops_every_clock(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = walk(incident, crew, wall, "2026-11-30 09:10", "classify", "assign")
    incident = step(incident, crew, wall, "2026-11-30 09:20", "cancel")
    assert set(Clock.objects.filter(incident=incident).values_list("state", flat=True)) == {ClockState.STOPPED}
    assert Clock.objects.filter(incident=incident, kind=ClockKind.OLA).exists()
    assert clock(incident).events.last().reason == "Cancelled"
    assert not ClockThreshold.objects.filter(clock__incident=incident, due_at__isnull=False).exists()
    assert_timelines_add_up(incident)


def test_classification_retargets_and_keeps_the_time_already_counted(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = step(incident, crew, wall, "2026-11-30 09:20", "classify")
    response = clock(incident)
    retarget = response.events.get(kind=ClockEventKind.RETARGET)
    assert (retarget.segment_seconds, retarget.target_seconds, retarget.reason) == (20 * MINUTE, HOUR, "Classified P3")
    assert response.elapsed_seconds == 20 * MINUTE and response.due_at == at("2026-11-30 10:00")
    assert response.priority == "P3" and response.agreement.department == crew.department


def test_a_department_change_retargets_to_the_other_agreement_and_keeps_the_time(crew: Crew, wall: Wall) -> None:
    """Reported at 16:00 for a department on office hours, moved at 16:30 to one on 7×24: the half hour
    counted stays, later time counts round the clock."""
    round_the_clock = BusinessCalendar.objects.create(name="Hospital 7×24", is_24x7=True)
    hospital = DepartmentFactory()
    agreement(hospital, round_the_clock, targets=TARGETS)
    incident = report(crew, wall, "2026-11-27 16:00")
    wall.set("2026-11-27 16:30")
    incident = incident_update(incident, user=crew.duty, changes={"department": hospital})
    response = clock(incident)
    assert response.department == hospital and response.calendar == round_the_clock
    assert response.events.last().kind == ClockEventKind.RETARGET
    assert response.events.last().segment_seconds == 30 * MINUTE
    incident = step(incident, crew, wall, "2026-11-27 16:40", "classify")
    response = clock(incident)
    assert response.elapsed_seconds == 40 * MINUTE and response.due_at == at("2026-11-27 17:00")
    assert_timelines_add_up(incident)


# --- Team clocks (OLA) ------------------------------------------------------------------------------------------


def other_team() -> tuple[Any, Any]:
    team = TeamFactory(kind=TeamKind.NETWORK)
    engineer = UserFactory(roles=[roles.NETWORK_ENGINEER])
    team.members.add(engineer)
    return team, engineer


def test_team_clocks_follow_the_assignment(crew: Crew, wall: Wall) -> None:
    TeamTarget.objects.create(team=crew.team, priority="P3", resolution_minutes=120, calendar=office_calendar("Sys"))
    network, network_engineer = other_team()
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = walk(incident, crew, wall, "2026-11-30 09:00", "classify", "assign")
    system = clock(incident, ClockKind.OLA, crew.team)
    assert system.target_seconds == 2 * HOUR and system.due_at == at("2026-11-30 11:00")
    incident = step(incident, crew, wall, "2026-11-30 10:00", "reassign", team=network, assignee=network_engineer)
    system, net = clock(incident, ClockKind.OLA, crew.team), clock(incident, ClockKind.OLA, network)
    assert system.state == ClockState.STOPPED and system.elapsed_seconds == HOUR
    assert net.state == ClockState.RUNNING and net.target_seconds is None  # the network team has no target
    incident = step(incident, crew, wall, "2026-11-30 10:30", "reassign", team=crew.team, assignee=crew.engineer)
    system, net = clock(incident, ClockKind.OLA, crew.team), clock(incident, ClockKind.OLA, network)
    assert net.state == ClockState.STOPPED and net.elapsed_seconds == 30 * MINUTE
    assert system.state == ClockState.RUNNING and system.due_at == at("2026-11-30 11:30")
    assert [kind for kind, _s in events(system)] == ["start", "stop", "resume"]
    # On hold pauses the team's clock too, and resolving stops it.
    incident = step(incident, crew, wall, "2026-11-30 11:00", "hold", user=crew.supervisor, reason="vendor")
    assert clock(incident, ClockKind.OLA, crew.team).state == ClockState.PAUSED
    incident = step(incident, crew, wall, "2026-11-30 13:00", "resume", user=crew.supervisor)
    incident = walk(incident, crew, wall, "2026-11-30 13:30", "start_diagnosis", "start_handling", "restore",
                    "confirm_recovery")
    system = clock(incident, ClockKind.OLA, crew.team)
    assert system.state == ClockState.STOPPED and system.elapsed_seconds == 2 * HOUR
    assert Clock.objects.filter(incident=incident, kind=ClockKind.OLA).count() == 2
    assert_timelines_add_up(incident)


# --- The sweep ----------------------------------------------------------------------------------------------------


def inbox(event: str, incident: Incident, percent: int | None = None) -> int:
    rows = Notification.objects.filter(event=event, channel=Channel.IN_APP, payload__id=incident.pk)
    return rows.filter(payload__percent=percent).count() if percent is not None else rows.count()


def assigned_at_nine(crew: Crew, wall: Wall) -> Incident:
    """P3 reported, classified and assigned Monday 09:00: response due 10:00, warnings at 09:30, 09:45, 09:54."""
    incident = report(crew, wall, "2026-11-30 09:00")
    return walk(incident, crew, wall, "2026-11-30 09:00", "classify", "assign")


def test_each_warning_is_announced_once_when_the_sweep_runs_twice(crew: Crew, wall: Wall) -> None:
    incident = assigned_at_nine(crew, wall)
    assert clocks.sweep(now=at("2026-11-30 09:29")) == 0
    assert clocks.sweep(now=at("2026-11-30 09:31")) == 1
    assert clocks.sweep(now=at("2026-11-30 09:31")) == 0
    assert clocks.sweep(now=at("2026-11-30 09:32")) == 0
    assert inbox("sla.warning", incident, 50) == 1  # to the assignee
    notice = Notification.objects.get(event="sla.warning", channel=Channel.IN_APP)
    assert notice.recipient == crew.engineer and incident.number in render(notice, "en").subject
    assert clocks.sweep(now=at("2026-11-30 09:46")) == 1
    assert inbox("sla.warning", incident) == 2


def test_a_late_sweep_announces_every_threshold_once_and_records_one_breach(crew: Crew, wall: Wall) -> None:
    """Beat or the worker was down all morning: the first sweep after noon catches up, once."""
    incident = assigned_at_nine(crew, wall)
    assert clocks.sweep(now=at("2026-11-30 12:00")) == 4  # the response's 50, 75, 90 and 100 %
    assert clocks.sweep(now=at("2026-11-30 12:00")) == 0
    assert clocks.sweep(now=at("2026-11-30 12:05")) == 0
    for percent in (50, 75, 90):
        assert inbox("sla.warning", incident, percent) == 1
    breach = Breach.objects.get(incident=incident)
    assert breach.kind == ClockKind.RESPONSE and breach.breached_at == at("2026-11-30 10:00")
    assert clock(incident).breached
    # The breach goes to the assignee and the supervisors, once each.
    assert inbox("sla.breach", incident) == 2
    assert set(Notification.objects.filter(event="sla.breach", channel=Channel.IN_APP)
               .values_list("recipient", flat=True)) == {crew.engineer.pk, crew.supervisor.pk}
    # The response comes late: the breach stays one, and nobody is told again.
    incident = step(incident, crew, wall, "2026-11-30 12:10", "start_diagnosis")
    assert Breach.objects.filter(incident=incident).count() == 1 and inbox("sla.breach", incident) == 2
    assert clocks.sweep(now=at("2026-11-30 12:15")) == 0


def test_a_clock_stopped_after_its_target_records_the_breach_and_the_sweep_does_not_repeat_it(
        crew: Crew, wall: Wall) -> None:
    incident = assigned_at_nine(crew, wall)
    incident = step(incident, crew, wall, "2026-11-30 10:30", "start_diagnosis")  # no sweep since 09:00
    response = clock(incident)
    assert response.breached and response.elapsed_seconds == 90 * MINUTE
    breach = Breach.objects.get(clock=response)
    assert breach.breached_at == at("2026-11-30 10:00")
    assert inbox("sla.breach", incident) == 2  # announced when it stopped
    assert clocks.sweep(now=at("2026-11-30 10:31")) == 0
    assert clocks.sweep(now=at("2026-11-30 10:32")) == 0
    assert inbox("sla.breach", incident) == 2 and Breach.objects.count() == 1
    assert inbox("sla.warning", incident) == 0  # warnings of a stopped clock are moot


def test_a_breach_the_sweep_announced_is_not_announced_again_when_the_clock_stops(crew: Crew, wall: Wall) -> None:
    incident = assigned_at_nine(crew, wall)
    assert clocks.sweep(now=at("2026-11-30 10:05")) == 4
    step(incident, crew, wall, "2026-11-30 10:30", "start_diagnosis")
    assert inbox("sla.breach", incident) == 2 and Breach.objects.count() == 1


def test_paused_clocks_are_not_swept(crew: Crew, wall: Wall) -> None:
    incident = assigned_at_nine(crew, wall)
    incident = step(incident, crew, wall, "2026-11-30 09:10", "hold", user=crew.supervisor, reason="vendor")
    assert clocks.sweep(now=at("2026-12-04 12:00")) == 0
    assert not Notification.objects.filter(event__startswith="sla.").exists()
    # Resumed on Tuesday at 08:00 with 50 minutes of the hour left: due 08:50, 50 % reached at 08:20.
    step(incident, crew, wall, "2026-12-01 08:00", "resume", user=crew.supervisor)
    assert clock(incident).due_at == at("2026-12-01 08:50")
    assert clocks.sweep(now=at("2026-12-01 08:19")) == 0
    assert clocks.sweep(now=at("2026-12-01 08:21")) == 1


def test_the_beat_task_sweeps(crew: Crew, wall: Wall) -> None:
    from sla.tasks import sweep_sla

    incident = assigned_at_nine(crew, wall)
    wall.set("2026-11-30 09:50")
    assert sweep_sla.apply().get() == 2
    assert sweep_sla.apply().get() == 0
    assert inbox("sla.warning", incident) == 2


# --- Calendar edits ----------------------------------------------------------------------------------------------


def test_calendar_edits_raise_the_version_and_recompute_open_clocks_only(crew: Crew, wall: Wall) -> None:
    early = assigned_at_nine(crew, wall)
    early = step(early, crew, wall, "2026-11-30 09:20", "start_diagnosis")  # response stopped: 20 minutes
    late = report(crew, wall, "2026-11-30 16:30")
    late = step(late, crew, wall, "2026-11-30 16:30", "classify")
    calendar = clock(late).calendar
    version = calendar.version
    assert clock(late).due_at == at("2026-12-01 08:30")
    stopped_before = Clock.objects.filter(pk=clock(early).pk).values().get()

    wall.set("2026-11-30 16:40")
    evening = WorkingInterval.objects.create(calendar=calendar, weekday=0, start=at("2026-11-30 17:00").time(),
                                             end=at("2026-11-30 20:00").time())
    calendar.refresh_from_db()
    assert calendar.version == version + 1
    open_clock = clock(late)
    assert open_clock.due_at == at("2026-11-30 17:30") and open_clock.calendar_version == calendar.version
    assert clocks.remaining_now(open_clock, at("2026-11-30 17:00")) == 30 * MINUTE
    assert Clock.objects.filter(pk=clock(early).pk).values().get() == stopped_before

    evening.delete()
    calendar.refresh_from_db()
    assert calendar.version == version + 2 and clock(late).due_at == at("2026-12-01 08:30")
    day_off = CalendarException.objects.create(calendar=calendar, date=at("2026-12-01 00:00").date(),
                                               kind=ExceptionKind.DAY_OFF)
    assert clock(late).due_at == at("2026-12-02 08:30")
    day_off.delete()
    assert clock(late).due_at == at("2026-12-01 08:30")
    calendar.is_24x7 = True
    calendar.save()
    calendar.refresh_from_db()
    assert calendar.version == version + 5
    assert clock(late).due_at == at("2026-11-30 17:30")  # 10 minutes counted, 50 left, round the clock now
    assert Clock.objects.filter(pk=clock(early).pk).values().get() == stopped_before


def test_each_report_counts_against_the_agreement_and_calendar_as_they_are_now(crew: Crew, wall: Wall) -> None:
    """The agreements valid on a day are kept in the cache: an edit of the calendar's hours, and an agreement
    ended by the supervisors, apply from the next report."""
    first = step(report(crew, wall, "2026-11-30 16:30"), crew, wall, "2026-11-30 16:30", "classify")
    calendar = clock(first).calendar
    assert clock(first).due_at == at("2026-12-01 08:30")
    WorkingInterval.objects.create(calendar=calendar, weekday=0, start=at("2026-11-30 17:00").time(),
                                   end=at("2026-11-30 20:00").time())
    calendar.refresh_from_db()
    second = step(report(crew, wall, "2026-11-30 16:40"), crew, wall, "2026-11-30 16:40", "classify")
    assert clock(second).calendar_version == calendar.version and clock(second).due_at == at("2026-11-30 17:40")

    ended = Agreement.objects.get(department=crew.department)
    ended.is_active = False
    ended.save()
    third = report(crew, wall, "2026-11-30 16:50")
    assert clock(third).agreement is None and clock(third).target_seconds is None


def test_a_stale_copy_of_a_calendar_does_not_lower_its_version(crew: Crew) -> None:
    calendar = office_calendar("Branch")
    stale = BusinessCalendar.objects.get(pk=calendar.pk)
    calendar.intervals.first().delete()
    current = BusinessCalendar.objects.get(pk=calendar.pk).version
    stale.name = "Branch office"
    stale.save()
    assert BusinessCalendar.objects.get(pk=calendar.pk).version == current + 1


# --- What people see: the incident page, the incident API, the clocks endpoint --------------------------------


def handled_and_held(crew: Crew, wall: Wall) -> Incident:
    """Reported Monday 09:00, first response 09:30, on hold 11:00–13:00; looked at on Monday 14:00."""
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = walk(incident, crew, wall, "2026-11-30 09:00", "classify", "assign")
    incident = walk(incident, crew, wall, "2026-11-30 09:30", "start_diagnosis", "start_handling")
    incident = step(incident, crew, wall, "2026-11-30 11:00", "hold")
    incident = step(incident, crew, wall, "2026-11-30 13:00", "resume")
    wall.set("2026-11-30 14:00")
    return incident


def signed_in(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_incident_page_shows_each_clock_with_its_due_time_and_remaining_business_time(
        crew: Crew, wall: Wall) -> None:
    incident = handled_and_held(crew, wall)
    page = signed_in(crew.caller).get(f"/incidents/{incident.pk}/").content.decode()
    response = page[page.index('id="sla-clock-response"'):page.index('id="sla-clock-resolution"')]
    assert 'data-state="stopped"' in response and "Stopped" in response and "30 min" in response
    assert "Breached" not in response
    resolution = page[page.index('id="sla-clock-resolution"'):]
    # 10 h target, 3 h counted (09:00–11:00, 13:00–14:00): 7 h left, due Tuesday 10:00 + 2 h on hold = 12:00.
    assert "2026-12-01 12:00" in resolution and "7 h 00 min" in resolution and "Running" in resolution


def test_the_page_says_paused_and_breached(crew: Crew, wall: Wall) -> None:
    incident = assigned_at_nine(crew, wall)
    clocks.sweep(now=at("2026-11-30 10:01"))
    incident = step(incident, crew, wall, "2026-11-30 10:30", "hold", user=crew.supervisor, reason="vendor")
    page = signed_in(crew.supervisor).get(f"/incidents/{incident.pk}/").content.decode()
    response = page[page.index('id="sla-clock-response"'):page.index('id="sla-clock-resolution"')]
    assert "Paused" in response and "Breached" in response and "Overdue by" in response and "30 min" in response
    assert "Due" not in response  # a paused clock is due nowhere until it resumes
    # It says it is paused rather than how much it counts now; what it counted before stays in words.
    assert 'class="col-7 mb-0 sla-paused">Paused' in response and "Elapsed" not in response
    assert "1 h 30 min counted so far" in response


def test_a_clock_outside_service_hours_says_when_it_resumes_instead_of_elapsed_0_min(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-27 16:50")  # Friday, ten minutes before the office closes
    incident = step(incident, crew, wall, "2026-11-27 16:50", "classify")
    wall.set("2026-11-28 10:00")  # Saturday
    page = signed_in(crew.supervisor).get(f"/incidents/{incident.pk}/").content.decode()
    response = page[page.index('id="sla-clock-response"'):page.index('id="sla-clock-resolution"')]
    assert "Outside service hours — resumes 2026-11-30 08:00" in response and "Running" not in response
    assert "10 min counted so far" in response and "Elapsed" not in response
    assert "2026-11-30 08:50" in response  # still due Monday, fifty business minutes on
    wall.set("2026-11-30 08:20")  # Monday, in service hours: counting again
    page = signed_in(crew.supervisor).get(f"/incidents/{incident.pk}/").content.decode()
    response = page[page.index('id="sla-clock-response"'):page.index('id="sla-clock-resolution"')]
    assert "Outside service hours" not in response and "Running" in response and "Elapsed" in response


def test_the_queue_and_my_incidents_show_the_response_then_the_resolution_due_from_the_clocks(
        crew: Crew, wall: Wall) -> None:
    incident = assigned_at_nine(crew, wall)  # P3: respond by 10:00, resolve by Tuesday 10:00
    wall.set("2026-11-30 09:40")
    client = signed_in(crew.engineer)
    home = client.get("/").content.decode()
    mine = home[home.index('id="panel-incidents-mine"'):]
    assert incident.number in mine and "Respond by" in mine and "2026-11-30 10:00" in mine and "20 min left" in mine
    queue = client.get("/incidents/", {"queue": "mine"}).content.decode()
    assert "Respond by" in queue and "20 min left" in queue
    wall.set("2026-11-30 10:10")
    queue = client.get("/incidents/", {"queue": "mine"}).content.decode()
    assert "overdue by 10 min" in queue
    step(incident, crew, wall, "2026-11-30 10:10", "start_diagnosis")
    queue = client.get("/incidents/", {"queue": "mine"}).content.decode()
    assert "Resolve by" in queue and "2026-12-01 10:00" in queue and "Respond by" not in queue


def test_the_incident_api_shows_the_clocks(crew: Crew, wall: Wall, api_as: Any) -> None:
    incident = handled_and_held(crew, wall)
    caller = api_as(crew.caller).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert [c["kind"] for c in caller["sla_clocks"]] == ["response", "resolution"]  # no internal team clock
    body = api_as(crew.supervisor).get(f"/api/v1/incidents/{incident.pk}/").json()
    by_kind = {c["kind"]: c for c in body["sla_clocks"]}
    assert [c["kind"] for c in body["sla_clocks"]] == ["response", "resolution", "ola"]
    assert by_kind["ola"]["team"]["id"] == crew.team.pk and by_kind["ola"]["target_seconds"] is None
    assert by_kind["response"]["state"] == "stopped"
    assert by_kind["response"]["due_at"] is None and by_kind["response"]["elapsed_seconds"] == 30 * MINUTE
    resolution = by_kind["resolution"]
    assert resolution["remaining_seconds"] == 7 * HOUR and resolution["target_seconds"] == 10 * HOUR
    assert resolution["due_at"].startswith("2026-12-01T12:00") and not resolution["paused"]
    assert not resolution["breached"] and not resolution["overdue"]
    assert "sla_clocks" not in api_as(crew.caller).get("/api/v1/incidents/").json()["results"][0]


def test_the_clocks_endpoint_gives_the_timelines(crew: Crew, wall: Wall, api_as: Any) -> None:
    incident = handled_and_held(crew, wall)
    body = api_as(crew.engineer).get(f"/api/v1/sla/incidents/{incident.pk}/clocks/").json()
    resolution = next(c for c in body if c["kind"] == "resolution")
    assert [e["kind"] for e in resolution["events"]] == ["start", "retarget", "pause", "resume"]
    assert sum(e["segment_seconds"] for e in resolution["events"]) == 2 * HOUR
    assert resolution["elapsed_seconds"] == 3 * HOUR  # and the open hour since 13:00
    pause = resolution["events"][2]
    assert pause["actor"]["id"] == crew.engineer.pk and pause["reason"] and pause["at"].startswith("2026-11-30T11:00")


def test_only_those_who_may_see_the_incident_see_its_clocks(crew: Crew, wall: Wall, api_as: Any, api: Any) -> None:
    incident = handled_and_held(crew, wall)
    url = f"/api/v1/sla/incidents/{incident.pk}/clocks/"
    assert api_as(crew.caller).get(url).status_code == 200
    assert api_as(crew.supervisor).get(url).status_code == 200
    stranger = UserFactory(roles=[roles.DEPARTMENT_USER], department=DepartmentFactory())
    assert_error(api_as(stranger).get(url), 404, "not_found")
    assert_error(api_as(crew.caller).get("/api/v1/sla/incidents/999999/clocks/"), 404, "not_found")
    assert_error(api_as(crew.caller).get(f"/api/v1/sla/incidents/{2**63}/clocks/"), 404, "not_found")
    assert api.get(url).status_code in (401, 403)
    stranger_page = signed_in(stranger).get(f"/incidents/{incident.pk}/")
    assert stranger_page.status_code == 404


def test_the_clocks_written_out_are_what_the_documented_serializer_gives(crew: Crew, wall: Wall) -> None:
    """The API writes clocks out by hand (for speed); the schema documents ClockSerializer: both give the same,
    for running, stopped, paused and breached clocks with their timelines, in the site's time zone."""
    from sla.api.clock_views import ClockSerializer, clock_data

    held = handled_and_held(crew, wall)
    late = assigned_at_nine(crew, wall)
    clocks.sweep(now=at("2026-11-30 10:01"))
    late = step(late, crew, wall, "2026-11-30 10:30", "hold", user=crew.supervisor, reason="vendor")
    statuses = [clocks.clock_status(c, at("2026-11-30 15:00"))
                for incident in (held, late) for c in clocks.incident_clocks(incident, events=True)]
    assert {s.clock.state for s in statuses} >= {"running", "stopped", "paused"}
    assert any(s.clock.breached for s in statuses) and any(s.clock.team_id for s in statuses)
    assert any(e.actor_id for s in statuses for e in s.clock.events.all())
    assert [clock_data(s) for s in statuses] == ClockSerializer(statuses, many=True).data


# The token with its user, the user's roles, their teams (visibility), the incident's visibility, the clocks with
# their calendars and teams, and the events with their actors (a calendar's hours and exceptions are read once per
# process and version of the calendar: sla.businesstime).
CLOCKS_QUERIES = 6


def test_the_clocks_endpoint_query_count_does_not_grow_with_the_timeline(
        crew: Crew, wall: Wall, api_as: Any, django_assert_num_queries: Any) -> None:
    incident = handled_and_held(crew, wall)
    client = api_as(crew.caller)
    url = f"/api/v1/sla/incidents/{incident.pk}/clocks/"
    client.get(url)
    with django_assert_num_queries(CLOCKS_QUERIES):
        client.get(url)
    for hour in ("14:00", "15:00"):
        incident = step(incident, crew, wall, f"2026-11-30 {hour}", "hold", user=crew.supervisor, reason="vendor")
        incident = step(incident, crew, wall, f"2026-11-30 {hour[:2]}:30", "resume", user=crew.supervisor)
    with django_assert_num_queries(CLOCKS_QUERIES):
        assert len(client.get(url).json()[1]["events"]) == 8


# --- The sweep through a real worker ---------------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_run_twice_by_a_real_worker_announces_once(policy_defaults: None, tmp_path: Any) -> None:
    """Two sweeps queued while the worker was down (a beat that kept ticking) announce the thresholds that
    came due once, and the worker delivers them from the outbox."""
    from django.utils import timezone

    from opscenter.core.choices import DeliveryStatus
    from opscenter.core.tests.real_services import celery_worker, drain, require_postgres_and_redis, wait_for
    from sla.tasks import sweep_sla

    require_postgres_and_redis()
    crew = make_crew()
    agreement(crew.department, BusinessCalendar.objects.create(name="Lab 7×24", is_24x7=True), targets=TARGETS)
    incident = incident_report(recorder=crew.duty, data={
        "title": "ERP login fails", "description": "Timeout", "impact_scope": "Finance", "channel": "phone",
        "occurred_at": timezone.now(), "caller": crew.caller})
    for name in ("classify", "assign"):
        data, _comment = transition_data(crew, name)
        incident = incident_transition(incident, name, user=crew.actor(name), data=data)
    # Half and three quarters of the hour have passed.
    ClockThreshold.objects.filter(clock__incident=incident, clock__kind=ClockKind.RESPONSE,
                                  percent__in=[50, 75]).update(due_at=timezone.now() - timedelta(minutes=1))
    warnings = Notification.objects.filter(event="sla.warning", payload__id=incident.pk)

    with celery_worker(tmp_path) as worker:
        sweep_sla.delay()
        sweep_sla.delay()
        delivered = wait_for(lambda: warnings.exists() and not warnings.exclude(status=DeliveryStatus.SENT).exists())
        assert delivered, "the worker did not sweep and deliver: " + drain(worker)
    assert warnings.filter(channel=Channel.IN_APP).count() == 2
    assert set(warnings.values_list("recipient", flat=True)) == {crew.engineer.pk}
    assert ClockThreshold.objects.filter(clock__incident=incident, fired_at__isnull=False).count() == 2


def test_the_round_the_clock_calendars_read_once_compiled_are_the_orms_rows() -> None:
    """read_frozen's rows of the 7×24 calendars are the ORM's own, column for column, and read afresh."""
    from opscenter.core.selectors import read_frozen

    def columns(row: BusinessCalendar) -> dict:
        return {f.attname: getattr(row, f.attname) for f in BusinessCalendar._meta.concrete_fields}

    BusinessCalendar.objects.create(name="second 7x24", is_24x7=True)
    BusinessCalendar.objects.create(name="office", is_24x7=False)
    for _turn in range(2):
        found = read_frozen(BusinessCalendar, clocks.round_the_clock_calendars)
        expected = list(clocks.round_the_clock_calendars())
        assert found and [columns(r) for r in found] == [columns(r) for r in expected]
        assert all(row._state.adding is False for row in found)
        BusinessCalendar.objects.filter(is_24x7=True).update(version=7)
