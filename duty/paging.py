"""Who is paged first about a team's urgent incident (the kernel's paging extension point, filled in the app's
ready()): the people on duty for the team, and the supervisor on duty."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from duty.models import Roster, Shift
from duty.periods import LONGEST_SHIFT
from duty.selectors import on_duty
from opscenter.core import roles
from opscenter.core.caching import cached_by


def covering(at: datetime) -> QuerySet[Shift]:
    """The shifts of published rosters on duty at `at`, every team's (read over an index range of a day)."""
    return Shift.objects.published().filter(start__gt=at - LONGEST_SHIFT, start__lte=at, end__gt=at)


def _published_shifts_of_hour(hour: datetime) -> list[Shift]:
    """The shifts of published rosters on duty at some moment of the hour from `hour`, the earliest first."""
    return list(Shift.objects.published().filter(start__gt=hour - LONGEST_SHIFT, start__lt=hour + timedelta(hours=1),
                                                 end__gt=hour).order_by("start", "pk"))


def shifts_on_duty(at: datetime) -> list[Shift]:
    """The shifts of published rosters on duty at `at` (as `covering`), the earliest first.

    Read from those of its hour, kept in Django's cache until a shift or a roster is saved or deleted (the writes
    that send no signal, a roster's generated shifts and a swap's, renew them: `renew(Shift)`). What it saves: a
    fault reported by phone looked up the shift to log it on, one query of ≈ 0.9 ms of a report's 9 (the
    benchmark's database, December 2026); rosters change a few times a month, and a check-in or a swap renews it."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    shifts = cached_by(f"duty-shifts-of-hour:{hour.isoformat()}", (Shift, Roster),
                       lambda: _published_shifts_of_hour(hour), timeout=2 * 3600)
    return [shift for shift in shifts if at - LONGEST_SHIFT < shift.start <= at < shift.end]


def first_wave(team: Any, at: datetime) -> list[Any] | None:
    """The people on duty for `team` at `at` and the supervisor on duty (the team's own, else whoever is on a
    supervisor's shift); None when nobody of the team is on duty (no published roster covers the moment), so that
    everyone is paged as without duty."""
    shifts = on_duty(team, at)
    if not any(shift.role != roles.SUPERVISOR for shift in shifts):
        return None
    people = [shift.user for shift in shifts]
    if not any(shift.role == roles.SUPERVISOR for shift in shifts):
        people += [shift.user for shift in covering(at).filter(role=roles.SUPERVISOR).select_related("user")
                   .order_by("start", "pk")]
    unique = {person.pk: person for person in people if person.is_active}
    return list(unique.values())
