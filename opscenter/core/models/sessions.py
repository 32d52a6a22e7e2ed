"""Browser sessions, kept with the id of the user signed in (opscenter.core.sessions)."""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _


class Session(AbstractBaseSession):
    """Django's database session with a column for its signed-in user, written from the session's data each time
    it is saved: a page reads the session and its user with one statement, and deleting a user ends their
    sessions.

    The column has no foreign-key constraint in the database: a request still running for a user deleted
    meanwhile writes its session at the end, and that write must not fail (a new session would otherwise be
    retried under new keys for ever). Such a session names nobody who exists, so it signs nobody in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             db_constraint=False, related_name="+", verbose_name=_("user"))

    class Meta(AbstractBaseSession.Meta):
        db_table = "core_session"

    @classmethod
    def get_session_store_class(cls) -> type:
        from opscenter.core.sessions import SessionStore

        return SessionStore
