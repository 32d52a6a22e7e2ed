"""The kernel's own reactions: a language chosen before signing in is remembered for the user."""

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from opscenter.core.services import user_language_set


@receiver(user_logged_in)
def remember_language_chosen_before_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Someone who picked a language on the sign-in page (the cookie) and has none saved keeps it."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "") if request is not None else ""
    if not getattr(user, "language", "") and chosen in dict(settings.LANGUAGES):
        user_language_set(user, language=chosen)
