"""A small world for the swap tests: a crew with a published roster around today, shifts placed by day and
hour in the duty policy's time zone, and swaps walked to a state through the services."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from duty.choices import SwapKind, SwapState
from duty.models import DutyPolicy, Roster, Shift, SwapRequest
from duty.swaps import swap_request, swap_transition
from duty.tests.factories import DutyCrew, duty_crew
from opscenter.core.services import perform_bulk_transition


@dataclass
class SwapWorld:
    crew: DutyCrew
    roster: Roster

    @property
    def a(self) -> Any:
        return self.crew.engineers[0]

    @property
    def b(self) -> Any:
        return self.crew.engineers[1]

    @property
    def c(self) -> Any:
        return self.crew.engineers[2]

    @property
    def supervisor(self) -> Any:
        return self.crew.supervisor

    def shift(self, user: Any, days: int, hour: int = 8, hours: int = 12, roster: Roster | None = None) -> Shift:
        """A shift of `user` starting `days` from today at `hour` o'clock in the policy's time zone."""
        return self.crew.shift(roster or self.roster, user, at(days, hour), hours=hours,
                               shift_type=self.crew.day if hour == 8 else self.crew.night)


def at(days: int, hour: int = 8, minute: int = 0) -> datetime:
    """Today + `days` at hour:minute in the duty policy's time zone."""
    zone = DutyPolicy.current().zone
    day = timezone.localdate(timezone=zone) + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def swap_world(code: str = "sys") -> SwapWorld:
    crew = duty_crew(code)
    today = timezone.localdate(timezone=DutyPolicy.current().zone)
    return SwapWorld(crew, crew.published_roster(today - timedelta(days=3), today + timedelta(days=400)))


def give(world: SwapWorld, shift: Shift, to: Any, *, by: Any = None, **fields: Any) -> SwapRequest:
    return swap_request(by=by or shift.user, shift=shift, colleague=to, reason="Family matters", **fields)


def trade(world: SwapWorld, shift: Shift, counter: Shift, *, by: Any = None) -> SwapRequest:
    return swap_request(by=by or shift.user, shift=shift, colleague=counter.user, reason="Trade, please",
                        kind=SwapKind.TRADE, counter_shift=counter)


def swap_in_state(world: SwapWorld, state: str, shift: Shift, to: Any) -> SwapRequest:
    """A swap of `shift` to `to`, walked to `state` through the services (approved: the roster changed)."""
    swap = give(world, shift, to)
    steps = {
        SwapState.REQUESTED: [],
        SwapState.ACCEPTED: [("accept", to, "")],
        SwapState.APPROVED: [("accept", to, ""), ("approve", world.supervisor, "")],
        SwapState.REJECTED: [("accept", to, ""), ("reject", world.supervisor, "Not this week")],
        SwapState.CANCELLED: [("cancel", shift.user, "")],
    }
    if state == SwapState.EXPIRED:
        # The sweep's own transition, on this row alone (its shift has not started: the sweep would not take it).
        perform_bulk_transition(SwapRequest.objects.filter(pk=swap.pk), "expire")
        return SwapRequest.objects.get(pk=swap.pk)
    for name, user, comment in steps[state]:
        swap = swap_transition(swap, name, user=user, comment=comment)
    return swap
