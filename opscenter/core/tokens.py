"""API tokens (django-rest-knox, docs/security.md): only a hash of each key is stored, a token expires after
`API_TOKEN_TTL_HOURS`, its owner revokes it (one, or all of theirs), and a change of the owner's password revokes
them all.

Clients send `Authorization: Token <key>`. The key is shown once, when it is issued (`api_token_create`); the
database keeps its SHA-512 and its first 15 characters (`token_key`, how a token is found and how its owner tells
their tokens apart), never the key.
"""

from hmac import compare_digest
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import User

KEY_PREFIX_LENGTH = CONSTANTS.TOKEN_KEY_LENGTH


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token authentication in one query (the token with its user), as DRF's plain tokens took.

    knox reads all of the user's other tokens on every request to delete the expired ones: a second query on every
    API call. Here an expired token is refused (and deleted) when it is presented, and the others of its user go
    when they next ask for a token (`api_token_create`). A user who may no longer sign in with a password (made
    unusable) is refused like an inactive one; a changed password has deleted the tokens already.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[User, AuthToken]:
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            key = token.decode()
        except UnicodeDecodeError:
            raise invalid from None
        candidates = list(AuthToken.objects.filter(token_key=key[:KEY_PREFIX_LENGTH]).select_related("user"))
        if not candidates:
            raise invalid
        digest = hash_token(key)
        for auth_token in candidates:
            if compare_digest(digest, auth_token.digest):
                if auth_token.expiry is None or auth_token.expiry <= timezone.now():  # every token expires
                    auth_token.delete()
                    raise exceptions.AuthenticationFailed(_("The token has expired. Ask for a new one."))
                return self.validate_user(auth_token)
        raise invalid

    def validate_user(self, auth_token: AuthToken) -> tuple[User, AuthToken]:
        if not auth_token.user.has_usable_password():
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return super().validate_user(auth_token)


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI schema's name for it: `Authorization: Token <key>`, as before."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"


class RevokeApiTokensOnPasswordChange:
    """Revokes a user's API tokens when their password changes (their own change, a reset, a superuser's).

    Listed in AUTH_PASSWORD_VALIDATORS for Django's `password_changed` hook: Django calls it after every password
    change, and not after a hash upgrade at sign-in (which is no change of the password). It accepts every password.
    """

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None and user.pk is not None:
            api_tokens_revoke_all(user=user)

    def get_help_text(self) -> str:
        return str(_("Changing your password revokes your API tokens."))


class ApiTokenNotFound(OpsCenterError):
    status_code = 404
    code = "not_found"
    default_detail = _("You have no token with this key.")


def api_tokens_of(user: User) -> QuerySet[AuthToken]:
    """The user's tokens still valid, the newest first."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


def api_token_create(*, user: User) -> tuple[AuthToken, str]:
    """Issue the user a token valid for API_TOKEN_TTL_HOURS; returns it with its key (shown this once, stored hashed).
    The user's expired tokens are deleted."""
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def api_token_revoke(*, user: User, key: str) -> None:
    """Revoke the user's token known by `key`, the first 15 characters of its key; another user's is not found."""
    deleted, _rows = AuthToken.objects.filter(user=user, token_key=key).delete()
    if not deleted:
        raise ApiTokenNotFound()


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of the user; returns how many there were."""
    deleted, _rows = AuthToken.objects.filter(user=user).delete()
    return deleted
