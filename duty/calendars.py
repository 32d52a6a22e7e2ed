"""Calendar feeds of duty (iCalendar): a person's own shifts, and a team's, read by calendar programs with the
person's secret feed key. Only published rosters' shifts are in them; each shift is one event whose UID stays the
same from one reading to the next, its times in UTC."""

from datetime import datetime
from typing import Any

import icalendar
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from duty.models import DutyPolicy, Shift
from opscenter.core import roles
from opscenter.core.feeds import event_host, new_calendar
from opscenter.core.models import Team, User
from opscenter.core.roles import has_role


def _feed_shifts(start: datetime, end: datetime) -> QuerySet[Shift]:
    return (Shift.objects.published().filter(end__gt=start, start__lt=end)
            .select_related("team", "shift_type", "roster", "user").order_by("start", "pk"))


def shifts_in_feed_of(user: User, start: datetime, end: datetime) -> QuerySet[Shift]:
    """The person's shifts of published rosters between `start` and `end`."""
    return _feed_shifts(start, end).filter(user=user)


def team_shifts_in_feed(team: Team, start: datetime, end: datetime) -> QuerySet[Shift]:
    """A team's shifts of published rosters between `start` and `end`, everybody's."""
    return _feed_shifts(start, end).filter(team=team)


def feed_teams(user: User) -> QuerySet[Team]:
    """The teams whose duty feed the person may read: their own teams; a supervisor's, every team on duty."""
    if has_role(user, roles.SUPERVISOR):
        return Team.objects.filter(is_active=True, shift_types__isnull=False).distinct().order_by("name")
    return user.teams.filter(is_active=True).order_by("name")


def may_read_team_feed(user: User, team_id: int) -> bool:
    return has_role(user, roles.SUPERVISOR) or user.teams.filter(pk=team_id, is_active=True).exists()


def shift_calendar(shifts: list[Shift], *, name: str, base_url: str, link: str, team_feed: bool) -> icalendar.Calendar:
    """One event per shift: what, when (UTC), the role and team; a team feed names the person on it."""
    calendar = new_calendar("Duty", name)
    calendar.add("x-wr-timezone", DutyPolicy.current().time_zone)
    host = event_host(base_url)
    stamp = timezone.now()
    for shift in shifts:
        role = shift.get_role_display()
        what = shift.shift_type.name if shift.shift_type_id else role
        event = icalendar.Event()
        event.add("uid", f"duty-shift-{shift.pk}@{host}")
        if team_feed:
            event.add("summary", f"{shift.user} · {role} ({what})")
        else:
            event.add("summary", _("Duty: %(team)s · %(shift)s") % {"team": shift.team, "shift": what})
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("dtstamp", shift.roster.published_at or stamp)
        event.add("description", "\n".join([f"{_('Team')}: {shift.team}", f"{_('Role')}: {role}",
                                            f"{_('Person')}: {shift.user}"]))
        event.add("categories", [_("Duty")])
        event.add("url", base_url.rstrip("/") + link)
        calendar.add_component(event)
    return calendar


def feed_name(*, team: Any = None) -> str:
    return _("Duty of %(team)s") % {"team": team} if team is not None else _("My duty shifts")
