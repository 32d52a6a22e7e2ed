"""The queue's "Due / time left" column follows the SLA clocks: the incident row keeps its next response or
resolution target as the clocks start, pause, resume, are re-targeted and stop (the target met or missed), and the
breach sweep leaves a missed target where it is, shown overdue. Each step is read from the queue page a person
reads, at controlled times."""

import re
from typing import Any

import pytest

from incidents.models import Incident
from incidents.tests.factories import Crew
from incidents.tests.test_pages import LIST, html, signed_in
from sla import clocks
from sla.choices import ClockKind, ClockState
from sla.models import Clock
from sla.tests import test_clocks
from sla.tests.factories import agreement, at, make_crew, office_calendar
from sla.tests.test_clocks import Wall, report, step

pytestmark = pytest.mark.django_db
wall = test_clocks.wall  # the fixture: the time the application reads

# Business minutes to respond and to resolve, per priority, Monday to Friday 08:00–17:00.
TARGETS = {"P1": (15, 120), "P2": (30, 240), "P3": (60, 600)}


@pytest.fixture
def crew() -> Crew:
    crew = make_crew()
    agreement(crew.department, office_calendar(), targets=TARGETS)
    return crew


def due_cell(crew: Crew, incident: Incident) -> str:
    """The incident's due cell on the supervisor's queue (every incident), as text: "Respond by 2026-11-30 10:00
    40 min left", "Paused", "–"."""
    page = html(signed_in(crew.supervisor).get(LIST, {"queue": "all"}))
    at_number = page.index(incident.number)
    row = page[page.rindex("<tr>", 0, at_number):page.index("</tr>", at_number)]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", cells[6]).split())


def stored(incident: Incident) -> tuple[Any, str]:
    row = Incident.objects.get(pk=incident.pk)
    return row.sla_due_at, row.sla_due_kind


def test_the_due_cell_follows_each_clock_event(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    assert due_cell(crew, incident) == "–"  # no priority yet: the clocks run without a target

    # Classified P3 at 09:10: respond within a business hour of the report (10:00), before the assign-by time
    # (60 minutes from the classification, 10:10).
    incident = step(incident, crew, wall, "2026-11-30 09:10", "classify")
    assert due_cell(crew, incident) == "Respond by 2026-11-30 10:00 50 min left"
    incident = step(incident, crew, wall, "2026-11-30 09:20", "assign")
    assert due_cell(crew, incident) == "Respond by 2026-11-30 10:00 40 min left"

    # The first response meets its target: the resolution is next, 10 business hours from the report.
    incident = step(incident, crew, wall, "2026-11-30 09:30", "start_diagnosis")
    assert due_cell(crew, incident) == "Resolve by 2026-12-01 10:00 24 h 30 min left"

    # On hold the clocks pause: nothing is due.
    incident = step(incident, crew, wall, "2026-11-30 10:00", "hold")
    assert due_cell(crew, incident) == "Paused" and stored(incident) == (None, "")

    # Resumed on Tuesday at 09:00: an hour was counted, nine remain (8 on Tuesday, 1 on Wednesday).
    incident = step(incident, crew, wall, "2026-12-01 09:00", "resume")
    assert due_cell(crew, incident) == "Resolve by 2026-12-02 09:00 24 h 00 min left"

    # Raised to P2 at 10:00: two hours counted of the four, due at noon.
    incident = step(incident, crew, wall, "2026-12-01 10:00", "reclassify", user=crew.duty, impact=1, urgency=2)
    assert due_cell(crew, incident) == "Resolve by 2026-12-01 12:00 2 h 00 min left"

    # The sweep records the breach at 12:30; the missed target stays the next deadline, shown overdue.
    wall.set("2026-12-01 12:30")
    assert clocks.sweep() >= 1
    assert Clock.objects.get(incident=incident, kind=ClockKind.RESOLUTION).breached
    assert due_cell(crew, incident) == "Resolve by 2026-12-01 12:00 overdue by 30 min"

    # Resolved: every clock stops, nothing is due any more.
    incident = step(incident, crew, wall, "2026-12-01 12:40", "start_handling")
    incident = step(incident, crew, wall, "2026-12-01 12:50", "restore")
    incident = step(incident, crew, wall, "2026-12-01 13:00", "confirm_recovery")
    assert due_cell(crew, incident) == "–" and stored(incident) == (None, "")


def test_a_report_with_its_priority_starts_with_its_target(crew: Crew, wall: Wall, settings: Any) -> None:
    """Impact and urgency given with the report: the clocks start with targets and the row holds the nearest."""
    settings.INCIDENT_ASSIGN_WITHIN_MINUTES = {**settings.INCIDENT_ASSIGN_WITHIN_MINUTES, "P2": 45}
    incident = report(crew, wall, "2026-11-30 09:00", impact=1, urgency=2)
    assert incident.priority == "P2"
    assert (incident.sla_due_at, incident.sla_due_kind) == (at("2026-11-30 09:30"), ClockKind.RESPONSE)
    assert stored(incident) == (at("2026-11-30 09:30"), ClockKind.RESPONSE)
    assert due_cell(crew, incident) == "Respond by 2026-11-30 09:30 30 min left"

    settings.INCIDENT_ASSIGN_WITHIN_MINUTES = {**settings.INCIDENT_ASSIGN_WITHIN_MINUTES, "P2": 15}
    sooner = report(crew, wall, "2026-11-30 09:00", impact=1, urgency=2)
    assert due_cell(crew, sooner) == "Assign by 2026-11-30 09:15 15 min left"  # the nearest of the two


def test_cancelling_stops_the_clocks_and_reopening_resumes_the_resolution(crew: Crew, wall: Wall) -> None:
    cancelled = report(crew, wall, "2026-11-30 09:00", impact=2, urgency=2)
    assert due_cell(crew, cancelled).startswith("Assign by 2026-11-30 10:00")
    cancelled = step(cancelled, crew, wall, "2026-11-30 09:05", "cancel")
    assert due_cell(crew, cancelled) == "–" and stored(cancelled) == (None, "")

    incident = report(crew, wall, "2026-11-30 09:00")
    for name in ("classify", "assign", "start_diagnosis", "start_handling", "restore", "confirm_recovery"):
        incident = step(incident, crew, wall, "2026-11-30 10:00", name)
    assert due_cell(crew, incident) == "–"
    incident = step(incident, crew, wall, "2026-11-30 11:00", "reopen")
    # One business hour was counted before the resolution (09:00–10:00); nine remain from 11:00.
    assert due_cell(crew, incident) == "Resolve by 2026-12-01 11:00 24 h 00 min left"


def test_a_calendar_edit_moves_the_stored_targets_of_its_open_clocks(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    for name in ("classify", "assign"):
        incident = step(incident, crew, wall, "2026-11-30 09:00", name)
    assert due_cell(crew, incident).startswith("Respond by 2026-11-30 10:00")
    calendar = Clock.objects.get(incident=incident, kind=ClockKind.RESPONSE).calendar
    # Monday's hours start at 09:30 from now on: the hour counts from 09:30, due 10:30.
    calendar.intervals.filter(weekday=0).update(start=at("2026-11-30 09:30").time())
    calendar.intervals.get(weekday=0).save()  # as the admin saves it: the calendar's open clocks are recomputed
    assert stored(incident) == (at("2026-11-30 10:30"), ClockKind.RESPONSE)
    assert due_cell(crew, incident).startswith("Respond by 2026-11-30 10:30")


def test_the_stored_target_is_the_clocks_nearest_running_one(crew: Crew, wall: Wall) -> None:
    """Whatever the road, the row holds what its clocks say: the nearest due time of a running response or
    resolution clock (a team's clock never counts), NULL when none runs."""
    incidents = [report(crew, wall, "2026-11-30 09:00") for _ in range(3)]
    step(step(incidents[0], crew, wall, "2026-11-30 09:05", "classify"), crew, wall, "2026-11-30 09:10", "assign")
    road = step(incidents[1], crew, wall, "2026-11-30 09:05", "classify")
    for name in ("assign", "start_diagnosis", "hold"):
        road = step(road, crew, wall, "2026-11-30 09:20", name)
    for incident in Incident.objects.filter(pk__in=[i.pk for i in incidents]):
        running = (Clock.objects.filter(incident=incident, kind__in=clocks.TARGET_KINDS, state=ClockState.RUNNING)
                   .exclude(due_at=None).order_by("due_at"))
        nearest = running.first()
        assert stored(incident) == ((nearest.due_at, nearest.kind) if nearest else (None, ""))
        assert incident.next_due_at == incident.sla_due_at  # none of them waits to be assigned
    assert [stored(i)[1] for i in incidents] == [ClockKind.RESPONSE, "", ""]


def test_the_migration_fills_the_next_target_of_existing_incidents_from_their_clocks(crew: Crew, wall: Wall) -> None:
    import importlib

    from django.apps import apps

    def worked(*names: str) -> Incident:
        incident = report(crew, wall, "2026-11-30 09:00")
        for name in names:
            incident = step(incident, crew, wall, "2026-11-30 09:30", name)
        return incident

    waiting, taken, held = worked("classify"), worked("classify", "assign", "start_diagnosis"), worked(
        "classify", "assign", "start_diagnosis", "hold")
    expected = {i.pk: stored(i) for i in (waiting, taken, held)}
    assert list(expected.values()) == [(at("2026-11-30 10:00"), ClockKind.RESPONSE),
                                       (at("2026-12-01 10:00"), ClockKind.RESOLUTION), (None, "")]
    Incident.objects.update(sla_due_at=None, sla_due_kind="")  # the rows as they were before the migration

    importlib.import_module("sla.migrations.0009_incident_next_targets").fill(apps, None)
    assert {i.pk: stored(i) for i in (waiting, taken, held)} == expected
    assert due_cell(crew, taken) == "Resolve by 2026-12-01 10:00 24 h 30 min left"
