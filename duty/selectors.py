"""Read queries of duty shared by pages, the API, other apps and reports."""

from datetime import datetime
from typing import Any

from django.utils import timezone

from duty.models import Shift


def on_duty(team: Any, at: datetime | None = None) -> list[Shift]:
    """Who is on duty for `team` (a Team or its id) at `at` (now by default): the shifts of published rosters that
    cover that instant, with their people, in the order they started. One indexed query (shift_team_time)."""
    at = at or timezone.now()
    team_id = getattr(team, "pk", team)
    return list(Shift.objects.published().at(at).filter(team_id=team_id).select_related("user")
                .order_by("start", "role", "user_id"))
