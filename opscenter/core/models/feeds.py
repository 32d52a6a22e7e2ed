"""Personal calendar feed tokens: a calendar client reads a user's iCal feeds without a session."""

import re
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What new_key gives (token_urlsafe's alphabet); any other key names no token and is never looked up (a NUL
# byte in it made PostgreSQL fail the query).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_key() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """One secret per user in the address of their calendar feeds; regenerating it revokes the old one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="feed_token")
    key = models.CharField(_("key"), max_length=64, unique=True, default=new_key, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d}"

    @classmethod
    def for_user(cls, user) -> "FeedToken":  # noqa: ANN001
        token, _created = cls.objects.get_or_create(user=user)
        return token

    @classmethod
    def regenerate(cls, user) -> "FeedToken":  # noqa: ANN001
        cls.objects.filter(user=user).delete()
        return cls.objects.create(user=user)

    @classmethod
    def user_for_key(cls, key: str):  # noqa: ANN206
        """The active user the key belongs to, or None."""
        if not key or not KEY_PATTERN.fullmatch(key):
            return None
        token = cls.objects.select_related("user").filter(key=key).first()
        return token.user if token and token.user.is_active else None
