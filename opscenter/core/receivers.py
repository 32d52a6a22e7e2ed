"""The kernel's own reactions: a language chosen before signing in is remembered for the user; a sign-in locked out
for its failures is a log line."""

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from opscenter.core.lockout import log_lockout
from opscenter.core.services import user_language_set


@receiver(user_logged_in)
def remember_language_chosen_before_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Someone who picked a language on the sign-in page (the cookie) and has none saved keeps it."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "") if request is not None else ""
    if not getattr(user, "language", "") and chosen in dict(settings.LANGUAGES):
        user_language_set(user, language=chosen)


@receiver(user_locked_out)
def log_sign_in_lockout(sender: Any, request: Any, username: str | None, ip_address: str | None,
                        **kwargs: Any) -> None:
    """A sign-in refused at or past the failure limit (django-axes), on the page, the admin's or the token endpoint."""
    log_lockout(username=username, address=ip_address, path=request.path if request is not None else "")
