"""Who is paged first about a team's urgent incident (the kernel's paging extension point, filled in the app's
ready()): the people on duty for the team, and the supervisor on duty."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from duty.models import Shift
from duty.periods import LONGEST_SHIFT
from duty.selectors import on_duty
from opscenter.core import roles


def covering(at: datetime) -> QuerySet[Shift]:
    """The shifts of published rosters on duty at `at`, every team's (read over an index range of a day)."""
    return Shift.objects.published().filter(start__gt=at - LONGEST_SHIFT, start__lte=at, end__gt=at)


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
