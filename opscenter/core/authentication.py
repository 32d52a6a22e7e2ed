"""API authentication: DRF's token authentication, reading the token and its user with a statement written once."""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from opscenter.core.sessions import instance_from_row, model_columns


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token …` authentication, with the same answers (an unknown token, a user made
    inactive: 401). The ORM built and compiled the token's `select_related` query on every API request, which
    cost more than running it."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        alias = router.db_for_read(Token)
        sql, token_part, user_part = _statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        split = len(token_part[0])
        token = instance_from_row(Token, alias, list(row[:split]), *token_part)
        user = instance_from_row(get_user_model(), alias, list(row[split:]), *user_part)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        Token._meta.get_field("user").set_cached_value(token, user)
        return user, token


@functools.cache
def _statement(alias: str) -> tuple[str, tuple[Any, ...], tuple[Any, ...]]:
    """The token's columns and its user's in one statement, written once per database."""
    q = connections[alias].ops.quote_name
    user_model = get_user_model()
    token_selected, *token_part = model_columns(Token, alias, "t")
    user_selected, *user_part = model_columns(user_model, alias, "u")
    sql = (f"SELECT {token_selected}, {user_selected} FROM {q(Token._meta.db_table)} t "
           f"INNER JOIN {q(user_model._meta.db_table)} u ON u.{q(user_model._meta.pk.column)} = "
           f"t.{q(Token._meta.get_field('user').column)} WHERE t.{q(Token._meta.pk.column)} = %s")
    return sql, tuple(token_part), tuple(user_part)
