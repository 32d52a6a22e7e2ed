"""Sign-in lockout (django-axes, docs/security.md): the address a sign-in comes from, the words of the refusal, and
the log lines of a lockout and of an unlock.

Axes counts the failed sign-ins of a username from an address on the sign-in page, the admin's and the API's token
endpoint (all three go through `django.contrib.auth.authenticate`), refuses them once `AXES_FAILURE_LIMIT` is
reached, for `AXES_COOLOFF_TIME` after the latest failure or until a supervisor unlocks them in the admin; the
answer is `error_views.sign_in_locked_out` (pages) or the token endpoint's `SignInLockedOut` (API).
"""

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from rest_framework import exceptions

logger = logging.getLogger("opscenter.security")


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in comes from: the connection's, or behind `TRUSTED_PROXY_COUNT` proxies the address the
    outermost of them saw (X-Forwarded-For read from the right, where each proxy appends: a client cannot choose it).
    """
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


def lockout_seconds() -> int | None:
    """How long a lockout lasts from the latest failure (None: until a supervisor unlocks it)."""
    cool_off = get_cool_off()
    return int(cool_off.total_seconds()) if cool_off else None


def lockout_detail() -> str:
    """The refusal in the reader's language: why, for how long, and who can lift it."""
    seconds = lockout_seconds()
    if seconds is None:
        return gettext("Too many failed sign-ins with this username from your address: signing in is locked until "
                       "a supervisor unlocks it.")
    minutes = max(1, round(seconds / 60))
    return ngettext(
        "Too many failed sign-ins with this username from your address: signing in is locked for %(minutes)d "
        "minute. Try again then, or ask a supervisor to unlock it.",
        "Too many failed sign-ins with this username from your address: signing in is locked for %(minutes)d "
        "minutes. Try again then, or ask a supervisor to unlock it.",
        minutes) % {"minutes": minutes}


class SignInLockedOut(exceptions.APIException):
    """The token endpoint's answer to a locked-out sign-in: 429 `locked_out`, with Retry-After when it ends by
    itself (DRF writes the header from `wait`)."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(lockout_detail())
        self.wait = lockout_seconds()


def log_lockout(*, username: str | None, address: str | None, path: str) -> None:
    """One line for a sign-in refused at or past the failure limit."""
    logger.warning("Sign-in locked out: username %r from %s on %s", username, address or "an unknown address", path)


def log_unlocks(attempts: Iterable[Any], *, by: Any) -> None:
    """One line per username and address unlocked (their failures cleared) by a person in the admin."""
    for attempt in attempts:
        logger.warning("Sign-in unlocked: username %r from %s, by %s", attempt.username,
                       attempt.ip_address or "an unknown address", by.get_username())
