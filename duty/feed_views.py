"""Duty pages and feeds of the remind part: my shifts ahead with my calendar feed addresses, and the feeds."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from duty import calendars
from duty.models import DutyPolicy
from opscenter.core import roles
from opscenter.core.feeds import FEED_AHEAD, FEED_PAST, calendar_response, feed_key, feed_owner
from opscenter.core.models import Team
from opscenter.core.notification_kinds import language_of
from opscenter.core.roles import has_role

UPCOMING = timedelta(days=31)


@login_required
@require_GET
def shift_calendar(request: HttpRequest) -> HttpResponse:
    """My shifts of the coming month and the addresses of my calendar feeds (mine, my teams')."""
    user = request.user
    if not has_role(user, *roles.IT_STAFF):
        raise PermissionDenied
    key = feed_key(user)
    now = timezone.now()
    teams = list(calendars.feed_teams(user))
    feeds = [{"label": _("My shifts"), "url": request.build_absolute_uri(reverse("duty:shift-feed", args=[key]))}]
    feeds += [{"label": _("Duty of %(team)s") % {"team": team},
               "url": request.build_absolute_uri(reverse("duty:team-feed", args=[key, team.pk]))} for team in teams]
    policy = DutyPolicy.current()
    with timezone.override(policy.zone):  # duty pages read in the policy's time zone
        return render(request, "duty/remind_calendar.html", {
            "shifts": list(calendars.shifts_in_feed_of(user, now, now + UPCOMING)),
            "feeds": feeds, "zone": policy.time_zone, "next": reverse("duty:calendar") + "#feed",
        })


def _feed(request: HttpRequest, key: str, team_id: int | None = None) -> HttpResponse:
    user = feed_owner(key)
    team = None
    if team_id is not None:
        if not calendars.may_read_team_feed(user, team_id):
            raise Http404
        team = get_object_or_404(Team, pk=team_id, is_active=True)
    now = timezone.now()
    start, end = now - FEED_PAST, now + FEED_AHEAD
    shifts = (calendars.team_shifts_in_feed(team, start, end) if team is not None
              else calendars.shifts_in_feed_of(user, start, end))
    with translation.override(language_of(user)):  # a calendar program has no session: the owner's language
        calendar = calendars.shift_calendar(list(shifts), name=calendars.feed_name(team=team),
                                            base_url=request.build_absolute_uri("/"), link=reverse("duty:calendar"),
                                            team_feed=team is not None)
    return calendar_response(calendar, f"duty-team-{team.pk}.ics" if team is not None else "duty.ics")


@require_GET
def shift_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The person's own shifts as iCalendar, read with their secret key (no session)."""
    return _feed(request, key)


@require_GET
def team_feed(request: HttpRequest, key: str, team_id: int) -> HttpResponse:
    """A team's shifts as iCalendar, for its members and the supervisors, read with their own secret key."""
    return _feed(request, key, team_id)
