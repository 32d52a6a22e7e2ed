"""The session engine (SESSION_ENGINE) and the authentication middleware: a page reads its session and its
signed-in user with one statement.

Django's database sessions keep the user's id inside the encoded session data, so a page read the session,
then the user, with a statement each. Our sessions (opscenter.core.models.Session) also keep it in a column,
written from the data on every save; loading a session joins the user. Django's own `auth.get_user` still
decides who is signed in — the backend named in the session, the session hash checked against the password,
a session with a stale hash flushed — and takes the joined user only where it would have read that same user.
"""

import functools
from contextvars import ContextVar
from typing import Any

from django.contrib import auth
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.db.models import Model
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

# The session of the request whose user Django is working out (see AuthenticationMiddleware).
current_session: ContextVar[Any] = ContextVar("opscenter_current_session", default=None)


class SessionStore(DatabaseSessionStore):
    """Django's database session store, on our Session model, loading the signed-in user with the session."""

    # The user row read with the session (None: nobody signed in, or not loaded that way).
    user: Any = None

    @classmethod
    def get_model_class(cls) -> type[Model]:
        from opscenter.core.models import Session

        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Model:
        session = super().create_model_instance(data)
        session.user_id = _user_id(data.get(SESSION_KEY))
        return session

    def _get_session_from_db(self) -> Model | None:
        self.user = None
        if not self.session_key:
            self._session_key = None
            return None
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        sql, attnames, columns, converters = _statement(alias)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        data, *values = row
        if values[0] is not None:
            self.user = instance_from_row(get_user_model(), alias, values, attnames, columns, converters)
        return self.model(session_key=self.session_key, session_data=data)


def _user_id(value: Any) -> int | None:
    """The session data's user id as the column holds it (None when there is none, or not a valid one)."""
    try:
        return get_user_model()._meta.pk.to_python(value) if value is not None else None
    except Exception:  # noqa: BLE001 - a malformed id keeps the column empty; Django's get_user ignores it too
        return None


@functools.cache
def _statement(alias: str) -> tuple[str, list[str], list[Any], list[tuple[int, list[Any]]]]:
    """The session's data and its user's columns in one statement, written once per database."""
    from opscenter.core.models import Session

    q = connections[alias].ops.quote_name
    selected, attnames, columns, converters = model_columns(get_user_model(), alias, "u")
    sql = (f"SELECT s.{q('session_data')}, {selected} FROM {q(Session._meta.db_table)} s "
           f"LEFT JOIN {q(get_user_model()._meta.db_table)} u ON u.{q(get_user_model()._meta.pk.column)} = "
           f"s.{q(Session._meta.get_field('user').column)} "
           f"WHERE s.{q('session_key')} = %s AND s.{q('expire_date')} > %s")
    return sql, attnames, columns, converters


def model_columns(model: type[Model], alias: str, table: str
                  ) -> tuple[str, list[str], list[Any], list[tuple[int, list[Any]]]]:
    """Every column of `model`'s table (under the name `table` in a statement), for a hand-written statement
    that reads a record along with something else: the select list, the fields' attribute names, their columns,
    and the converters the ORM would apply to their values (SQLite returns date-times as text)."""
    connection = connections[alias]
    q = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    columns = [field.get_col(table) for field in fields]
    converters = []
    for index, column in enumerate(columns):
        found = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
        if found:
            converters.append((index, found))
    return ", ".join(f"{table}.{q(f.column)}" for f in fields), [f.attname for f in fields], columns, converters


def instance_from_row(model: type[Model], alias: str, values: list[Any], attnames: list[str], columns: list[Any],
                      converters: list[tuple[int, list[Any]]]) -> Any:
    """The record whose columns (as `model_columns` selects them) are `values`, converted as the ORM would."""
    connection = connections[alias]
    for index, field_converters in converters:
        for converter in field_converters:
            values[index] = converter(values[index], columns[index], connection)
    return model.from_db(alias, attnames, values)


def session_user(user_id: Any) -> Any:
    """The user the current request's session was loaded with, if it is the one asked for (else None)."""
    session = current_session.get()
    user = getattr(session, "user", None)
    if user is not None and str(user.pk) == str(user_id):
        return user
    return None


def get_user(request: Any) -> Any:
    """Django's `auth.get_user`, with the request's session at hand for the backend's `get_user`."""
    if not hasattr(request, "_cached_user"):
        token = current_session.set(request.session)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            current_session.reset(token)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with `request.user` worked out by `get_user` above."""

    def process_request(self, request: Any) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
