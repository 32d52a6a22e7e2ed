"""Pieces of the transition-matrix tests every record with a lifecycle gets: a world of rows built once per test
class inside a transaction rolled back after it (each case runs in a savepoint inside it), and the footprint a
refusal must leave as it was."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models, transaction

from opscenter.core.models import TransitionLog


@contextmanager
def class_transaction(django_db_blocker: Any) -> Iterator[None]:
    """Hold a transaction open around a class-scoped fixture's rows and roll it back after the class:
    `with class_transaction(django_db_blocker): (build under django_db_blocker.unblock()); yield world`."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def footprint(model: type[models.Model], pk: int) -> tuple:
    """The row as the database holds it and the number of transition log rows: what a refusal must leave as it
    was."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s", [pk])
        row = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*) FROM {TransitionLog._meta.db_table}")
        return row, cursor.fetchone()[0]
