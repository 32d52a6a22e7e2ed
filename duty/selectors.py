"""Reads of duty shared by the pages, the API, the home panel and other apps.

`on_duty(team, at=None)` is THE question other apps ask (who pages a P1, whose shift a phone report goes to): the
published rosters' shifts covering a moment, in one indexed query. It reads only shifts that started at most
`LONGEST_SHIFT` before the moment, so that the (team, start, end) index is read over a day's range, not the team's
whole history."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from duty.choices import RosterState
from duty.models import DUTY_ROLES, Roster, Shift
from duty.periods import LONGEST_SHIFT
from opscenter.core import roles
from opscenter.core.models import Team
from opscenter.core.roles import has_role

# "Next on duty" looks this far ahead.
NEXT_WINDOW = timedelta(hours=48)
ROLE_ORDER = {role: index for index, (role, _label) in enumerate(DUTY_ROLES)}


def may_read_duty(user: Any) -> bool:
    """IT staff and auditors read rosters and who is on duty; department users read none of it."""
    return bool(user and user.is_authenticated and has_role(user, *roles.IT_STAFF, roles.AUDITOR))


def _team_id(team: Team | int | None) -> int | None:
    return team.pk if isinstance(team, Team) else team


def _by_role(shifts: list[Shift]) -> list[Shift]:
    return sorted(shifts, key=lambda s: (s.team_id, ROLE_ORDER.get(s.role, 99), s.start, str(s.user)))


def on_duty(team: Team | int | None, at: datetime | None = None) -> list[Shift]:
    """The published rosters' shifts covering `at` (now by default) of one team (every team for None), with
    their people and shift types: one query over the (team, start, end) index."""
    at = at or timezone.now()
    shifts = Shift.objects.filter(roster__state=RosterState.PUBLISHED, start__gt=at - LONGEST_SHIFT,
                                  start__lte=at, end__gt=at).select_related("user", "shift_type").order_by()
    team_id = _team_id(team)
    if team_id is not None:
        shifts = shifts.filter(team_id=team_id)
    return _by_role(list(shifts))


def next_on_duty(team: Team | int | None, at: datetime | None = None) -> list[Shift]:
    """For each role of the team (of every team for None), the published shifts starting next after `at` within
    two days: one query."""
    at = at or timezone.now()
    shifts = Shift.objects.filter(roster__state=RosterState.PUBLISHED, start__gt=at,
                                  start__lte=at + NEXT_WINDOW).select_related("user", "shift_type").order_by("start")
    team_id = _team_id(team)
    if team_id is not None:
        shifts = shifts.filter(team_id=team_id)
    first: dict[tuple[int, str], datetime] = {}
    chosen = []
    for shift in shifts:
        key = (shift.team_id, shift.role)
        if first.setdefault(key, shift.start) == shift.start:
            chosen.append(shift)
    return _by_role(chosen)


def shifts_of(user: Any, *, start: datetime | None = None, end: datetime | None = None,
              published: bool = True) -> QuerySet[Shift]:
    """A person's shifts (on published rosters unless `published` is False) that are on duty at some moment
    between `start` and `end` (either open), earliest first, with their roster, team and shift type."""
    shifts = Shift.objects.filter(user=user)
    if published:
        shifts = shifts.filter(roster__state=RosterState.PUBLISHED)
    if start is not None:
        shifts = shifts.filter(end__gt=start)
    if end is not None:
        shifts = shifts.filter(start__lt=end)
    return shifts.select_related("roster", "team", "shift_type").order_by("start", "pk")


@dataclass
class TeamOnDuty:
    """A team's people on duty now and next (the home panel, the on-duty API)."""

    team: Team
    now: list[Shift]
    next: list[Shift]

    @property
    def now_until(self) -> list[tuple[datetime, list[Shift]]]:
        """Who is on duty now, grouped by when their shifts end (a page says each end once)."""
        return _grouped(self.now, "end")

    @property
    def next_from(self) -> list[tuple[datetime, list[Shift]]]:
        """Who is on duty next, grouped by when their shifts start."""
        return _grouped(self.next, "start")


def _grouped(shifts: list[Shift], moment: str) -> list[tuple[datetime, list[Shift]]]:
    groups: dict[datetime, list[Shift]] = {}
    for shift in shifts:
        groups.setdefault(getattr(shift, moment), []).append(shift)
    return sorted(groups.items(), key=lambda group: group[0])


def on_duty_board(*, team: Team | None = None, at: datetime | None = None,
                  first: set[int] | frozenset[int] = frozenset()) -> list[TeamOnDuty]:
    """Every active team (or one) with who is on duty at `at` and next: three queries. Teams in `first` (the
    reader's own) come first."""
    at = at or timezone.now()
    teams = [team] if team is not None else list(Team.objects.filter(is_active=True).order_by("name"))
    now = on_duty(team, at)
    later = next_on_duty(team, at)
    board = {t.pk: TeamOnDuty(t, [], []) for t in teams}
    for shifts, attribute in ((now, "now"), (later, "next")):
        for shift in shifts:
            row = board.get(shift.team_id)
            if row is not None:
                shift.team = row.team  # the board's own row: no query per shift
                getattr(row, attribute).append(shift)
    return sorted(board.values(), key=lambda row: (row.team.pk not in first, row.team.name))


# --- Rosters and shifts, as the reader may see them --------------------------------------------------------------


def roster_list(*, user: Any) -> QuerySet[Roster]:
    """Rosters the user may read, newest period first, with their team, author and shift count."""
    if not may_read_duty(user):
        return Roster.objects.none()
    return Roster.objects.select_related("team", "created_by").annotate(shift_count=Count("shifts")).order_by(
        "-first_day", "team__name", "pk")


def roster_get(*, user: Any, pk: int, with_shifts: bool = False) -> Roster:
    """One roster the user may read (Roster.DoesNotExist otherwise), with its shifts, people and shift types
    when asked for."""
    rosters = Roster.objects.select_related("team", "created_by", "findings_accepted_by") if may_read_duty(user) \
        else Roster.objects.none()
    if with_shifts:
        rosters = rosters.prefetch_related(Prefetch("shifts", queryset=roster_shifts()))
    return rosters.get(pk=pk)


def roster_shifts() -> QuerySet[Shift]:
    """Shifts as a roster shows them: with the person, the team and the shift type, in time order."""
    return Shift.objects.select_related("user", "team", "shift_type").order_by("start", "role", "user_id", "pk")


def shift_list(*, user: Any) -> QuerySet[Shift]:
    """Shifts the user may read (of draft and published rosters), with what a list row shows."""
    return Shift.objects.visible_to(user).select_related("user", "team", "shift_type", "roster").order_by(
        "start", "pk")
