"""Pieces of the transition-matrix tests every record with a lifecycle gets: a world of rows built once per test
class inside a transaction rolled back after it (each case runs in a savepoint inside it), the footprint a refusal
must leave as it was, and one attempt of a person compared with what the policy says."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import TransitionLog
from opscenter.core.workflow import allowed_transition_names, available_transitions, state_field_name


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


def attempt(obj: models.Model, name: str, user: Any, expected: tuple[int, str], act: Callable[[], Any], *,
            reason: str = "", offered_check: bool = True) -> str | None:
    """A person takes transition `name` on `obj` through `act()` (the service every page, API and admin uses): what
    differs from `expected` — (200, the state reached) or (status, error code) — or None. What they are offered
    must agree (allowed when 200; offered, with `reason`, when a condition of the policy blocks it; leave
    `offered_check` off where the service refuses before the model's rules, as for read-only users); a refusal
    changes nothing; a move writes one log row of the record naming who, from and to."""
    status, outcome = expected
    model = type(obj)
    source = getattr(obj, state_field_name(model))
    if offered_check:
        offered = {t.name: t for t in available_transitions(obj, user)}
        if (name in allowed_transition_names(obj, user)) != (status == 200):
            return f"allowed_transition_names disagrees with {status} {outcome}"
        if (name in offered) != (status == 200 or outcome == "condition_failed"):
            return f"offered {sorted(offered)}, expected {status} {outcome}"
        if outcome == "condition_failed" and reason and offered[name].reason != reason:
            return f"offered with the reason {offered[name].reason!r}"
    before = footprint(model, obj.pk)
    before_own = TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                              object_id=obj.pk).count()
    try:
        act()
    except OpsCenterError as refused:
        if (refused.status_code, refused.code) != (status, outcome):
            return f"expected {status} {outcome}, got {refused.status_code} {refused.code} {refused.detail}"
        if outcome == "condition_failed" and reason and str(refused.detail) != reason:
            return f"refused for {refused.detail!r}"
        return None if footprint(model, obj.pk) == before else "the refusal changed something"
    if status != 200:
        return f"expected {status} {outcome}, but it moved"
    # The record's own log: a move that makes another record (a candidate accepted identifies a problem) logs
    # that one's first step too.
    own = TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=obj.pk)
    log = own.order_by("pk").last()
    got = (getattr(model._default_manager.get(pk=obj.pk), state_field_name(model)),
           own.count() - before_own,
           (log.transition, log.source_state, log.target_state, log.actor_id, log.object_id))
    want = (outcome, 1, (name, source, outcome, getattr(user, "pk", None), obj.pk))
    return None if got == want else f"expected {want}, got {got}"
