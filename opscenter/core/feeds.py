"""Personal calendar feeds (iCalendar) every app serves the same way: the address carries the user's secret
`FeedToken` key, a calendar client reads it without a session, and regenerating the key revokes every feed
address of that user at once."""

from datetime import timedelta
from typing import Any

import icalendar
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View

from opscenter.core.models import FeedToken, User

# What a feed holds around the present: a quarter back, a little over a year ahead.
FEED_PAST, FEED_AHEAD = timedelta(days=90), timedelta(days=400)


def feed_owner(key: str) -> User:
    """The active user whose secret key this is; 404 for an unknown, revoked or malformed key (a calendar client
    learns nothing more)."""
    user = FeedToken.user_for_key(key)
    if user is None:
        raise Http404
    return user


def feed_key(user: User) -> str:
    """The user's feed key, made on first use."""
    return FeedToken.for_user(user).key


def new_calendar(product: str, name: Any) -> icalendar.Calendar:
    """An empty calendar named `name` (shown by calendar programs) from OpsCenter's `product` (e.g. "Duty")."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//OpsCenter//{product}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", str(name))
    return calendar


def event_host(base_url: str) -> str:
    """The host part of the site's address, for event UIDs that stay the same from one reading to the next."""
    return base_url.split("//", 1)[-1].strip("/") or "opscenter"


def calendar_response(calendar: icalendar.Calendar, filename: str) -> HttpResponse:
    """The calendar as a `text/calendar` answer a calendar program subscribes to."""
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class FeedRegenerateView(LoginRequiredMixin, View):
    """POST: a new feed key for the signed-in user; every old feed address stops working at once. Goes back to
    the page named by `success_url_name` (with `#anchor`), or to a safe `next` the form gives."""

    http_method_names = ["post"]
    success_url_name = "home"
    anchor = "feed"

    def post(self, request: HttpRequest) -> HttpResponse:
        FeedToken.regenerate(request.user)
        messages.success(request, _("Your calendar feeds have a new address; the old one no longer works."))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            target = reverse(self.success_url_name) + (f"#{self.anchor}" if self.anchor else "")
        return HttpResponseRedirect(target)
