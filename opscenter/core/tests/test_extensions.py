"""The kernel's extension point for handovers: what apps register is carried over, in order, once per key,
without the kernel or the duty app knowing the apps (a fake provider stands for them here)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opscenter.core import extensions
from opscenter.core.extensions import HandoverEntry, handover_entries, handover_sources, register_handover_items

START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=12)


@pytest.fixture(autouse=True)
def _own_sources(monkeypatch: Any) -> None:
    """Each test starts with no source registered (the apps' own come back after it)."""
    monkeypatch.setattr(extensions, "_handover_sources", [])


def test_a_registered_provider_is_asked_with_the_shift_and_its_entries_carried_over() -> None:
    calls = []

    def findings(team: Any, start: datetime, end: datetime, user: Any) -> list[HandoverEntry]:
        calls.append((team, start, end, user))
        return [HandoverEntry("FND-1", "UPS battery test failed", "Open", "/inspections/findings/1/")]

    register_handover_items("findings", findings, label="Inspection findings")
    found = handover_entries("team", START, END, "user")
    assert calls == [("team", START, END, "user")]
    assert [(source.key, str(source.label), entries) for source, entries in found] == [
        ("findings", "Inspection findings",
         [HandoverEntry("FND-1", "UPS battery test failed", "Open", "/inspections/findings/1/")])]


def test_sources_come_in_their_order_once_per_key_and_empty_ones_are_left_out() -> None:
    register_handover_items("changes", lambda *args: [HandoverEntry("CHG-1", "Firmware")], order=20)
    register_handover_items("incidents", lambda *args: [HandoverEntry("INC-1", "VPN down")], order=10)
    register_handover_items("incidents", lambda *args: [HandoverEntry("INC-9", "second registration")], order=1)
    register_handover_items("alerts", lambda *args: [], order=5)
    assert [source.key for source in handover_sources()] == ["alerts", "incidents", "changes"]
    assert [(source.key, [e.reference for e in entries]) for source, entries in handover_entries(
        None, START, END, None)] == [("incidents", ["INC-1"]), ("changes", ["CHG-1"])]


def test_a_source_without_a_label_is_named_by_its_key() -> None:
    register_handover_items("alerts", lambda *args: [])
    assert handover_sources()[0].label == "alerts"
