"""Who is paged first about a team's urgent incident (the kernel's paging extension point, filled in the app's
ready()): the people on duty for the team, and the supervisor on duty."""

from datetime import datetime
from typing import Any

from duty.selectors import on_duty
from opscenter.core import roles


def first_wave(team: Any, at: datetime) -> list[Any] | None:
    """The people on duty for `team` at `at` and the supervisor on duty (the team's own, else whoever is on a
    supervisor's shift); None when nobody of the team is on duty (no published roster covers the moment), so that
    everyone is paged as without duty."""
    shifts = on_duty(team, at)
    if not any(shift.role != roles.SUPERVISOR for shift in shifts):
        return None
    people = [shift.user for shift in shifts]
    if not any(shift.role == roles.SUPERVISOR for shift in shifts):
        people += [shift.user for shift in on_duty(None, at) if shift.role == roles.SUPERVISOR]
    unique = {person.pk: person for person in people if person.is_active}
    return list(unique.values())
