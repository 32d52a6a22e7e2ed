"""Read queries of duty shared by pages, the API, other apps and reports."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from duty.models import Shift

# No shift is longer (a shift type lasts at most 24 wall-clock hours, 25 real hours over the autumn change): who is
# on duty reads only the shifts that started within this much before the moment, over an index range of a day.
LONGEST_SHIFT = timedelta(hours=25)


def on_duty(team: Any, at: datetime | None = None) -> list[Shift]:
    """Who is on duty for `team` (a Team or its id; every team for None) at `at` (now by default): the shifts of
    published rosters that cover that instant, with their people, in the order they started. One query over the
    (team, start, end) index."""
    at = at or timezone.now()
    shifts = Shift.objects.published().filter(start__gt=at - LONGEST_SHIFT, start__lte=at, end__gt=at)
    if team is not None:
        shifts = shifts.filter(team_id=getattr(team, "pk", team))
    return list(shifts.select_related("user").order_by("start", "role", "user_id"))
