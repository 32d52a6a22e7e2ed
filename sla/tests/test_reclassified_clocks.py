"""A reclassified incident's clocks count against the new priority's targets and keep the business time already
counted: the elapsed time stays, the deadline moves (earlier on a raise, later when lowered), a clock already past
the new target is swept as breached, a paused clock stays paused, and the retarget is on each clock's timeline with
its reason."""

from typing import Any

import pytest

from incidents.tests.factories import Crew, category
from sla import clocks
from sla.choices import ClockEventKind, ClockKind, ClockState
from sla.models import Breach
from sla.tests import test_clocks
from sla.tests.factories import agreement, at, make_crew, office_calendar
from sla.tests.test_clocks import HOUR, MINUTE, Wall, assert_timelines_add_up, clock, report, step

pytestmark = pytest.mark.django_db
wall = test_clocks.wall  # the fixture: the time the application reads

# Business minutes to respond and to resolve, per priority.
TARGETS = {"P1": (15, 120), "P2": (30, 240), "P3": (60, 600)}
REASON = "Every site of the centre is down now"  # the reason incidents.tests.factories gives


@pytest.fixture
def crew() -> Crew:
    crew = make_crew()
    agreement(crew.department, office_calendar(), targets=TARGETS)
    return crew


def reclassify(incident: Any, crew: Crew, wall: Wall, when: str, impact: int, urgency: int) -> Any:
    return step(incident, crew, wall, when, "reclassify", user=crew.duty, impact=impact, urgency=urgency)


def handled_p3(crew: Crew, wall: Wall) -> Any:
    """Reported Monday 09:00, classified P3 at 09:10, assigned and taken up at 09:30 (the response clock stops)."""
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = step(incident, crew, wall, "2026-11-30 09:10", "classify")
    incident = step(incident, crew, wall, "2026-11-30 09:20", "assign")
    return step(incident, crew, wall, "2026-11-30 09:30", "start_diagnosis")


def test_a_raise_to_p1_keeps_the_elapsed_time_and_brings_the_deadline_forward(crew: Crew, wall: Wall) -> None:
    incident = handled_p3(crew, wall)
    resolution = clock(incident, ClockKind.RESOLUTION)
    assert (resolution.priority, resolution.target_seconds) == ("P3", 10 * HOUR)
    assert resolution.due_at == at("2026-12-01 10:00")  # 8 h on Monday, 2 h on Tuesday

    incident = reclassify(incident, crew, wall, "2026-11-30 10:00", 1, 1)
    resolution = clock(incident, ClockKind.RESOLUTION)
    # An hour counted (09:00–10:00) stays; the P1 target is 2 h: one more hour, due 11:00 the same morning.
    assert (resolution.priority, resolution.target_seconds) == ("P1", 2 * HOUR)
    assert resolution.elapsed_seconds == HOUR and resolution.due_at == at("2026-11-30 11:00")
    retarget = resolution.events.order_by("at", "pk").last()
    assert (retarget.kind, retarget.segment_seconds, retarget.target_seconds) == (
        ClockEventKind.RETARGET, 50 * MINUTE, 2 * HOUR)
    assert "P1" in retarget.reason and REASON in retarget.reason
    # The response was given at 09:30: a stopped clock keeps its figures.
    response = clock(incident)
    assert (response.state, response.priority, response.elapsed_seconds) == (ClockState.STOPPED, "P3", 30 * MINUTE)
    # Its thresholds follow the new target (the 50 % warning at one hour of two: now).
    assert resolution.thresholds.get(percent=100).due_at == at("2026-11-30 11:00")
    assert resolution.thresholds.get(percent=50).due_at == at("2026-11-30 10:00")
    assert_timelines_add_up(incident)


def test_a_raise_past_the_new_target_is_swept_as_a_breach(crew: Crew, wall: Wall) -> None:
    """Forty minutes without a response is within P3's hour, past P1's quarter: breached once the sweep runs."""
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = step(incident, crew, wall, "2026-11-30 09:10", "classify")
    incident = reclassify(incident, crew, wall, "2026-11-30 09:40", 1, 1)
    response = clock(incident)
    assert (response.elapsed_seconds, response.target_seconds) == (40 * MINUTE, 15 * MINUTE)
    assert response.due_at == at("2026-11-30 09:40")  # due at once
    assert clocks.sweep(now=at("2026-11-30 09:41")) >= 1
    assert Breach.objects.filter(clock=response, kind=ClockKind.RESPONSE).count() == 1


def test_lowering_the_priority_moves_the_deadline_later(crew: Crew, wall: Wall) -> None:
    incident = report(crew, wall, "2026-11-30 09:00")
    incident = step(incident, crew, wall, "2026-11-30 09:10", "classify", impact=1, urgency=2,
                    category=category("software"))
    assert clock(incident).priority == "P2" and clock(incident).due_at == at("2026-11-30 09:30")
    incident = reclassify(incident, crew, wall, "2026-11-30 09:20", 2, 2)
    response = clock(incident)
    assert (response.priority, response.elapsed_seconds, response.due_at) == ("P3", 20 * MINUTE, at("2026-11-30 10:00"))


def test_a_paused_clock_is_retargeted_and_stays_paused(crew: Crew, wall: Wall) -> None:
    incident = handled_p3(crew, wall)
    incident = step(incident, crew, wall, "2026-11-30 10:00", "hold", user=crew.duty, reason="vendor")
    incident = reclassify(incident, crew, wall, "2026-11-30 11:00", 1, 1)
    resolution = clock(incident, ClockKind.RESOLUTION)
    assert (resolution.state, resolution.priority, resolution.elapsed_seconds, resolution.due_at) == (
        ClockState.PAUSED, "P1", HOUR, None)
    incident = step(incident, crew, wall, "2026-11-30 13:00", "resume", user=crew.duty)
    resolution = clock(incident, ClockKind.RESOLUTION)
    assert resolution.due_at == at("2026-11-30 14:00")  # the hour left of P1's two, from 13:00
    assert_timelines_add_up(incident)


def test_the_incident_page_shows_the_new_target_and_deadline(crew: Crew, wall: Wall) -> None:
    from django.test import Client

    incident = handled_p3(crew, wall)
    incident = reclassify(incident, crew, wall, "2026-11-30 10:00", 1, 1)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(crew.duty)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    resolution = page[page.index('id="sla-clock-resolution"'):]
    assert "2 h 00 min" in resolution and "2026-11-30 11:00" in resolution
