"""Answers kept in Django's cache until the rows they were read from change.

A *generation* is a value in the cache that a model's `post_save` and `post_delete` renew (`watch`); a key that
names the generations of the models an answer was read from is never read again once one of them changes, and
the stale entry expires on its own. The renewal happens at once and again when the transaction commits, so
another request cannot keep what was true before.

What may be kept this way: an answer that depends only on the watched models' rows and on what its key names.
Every model an answer is read from is watched from its app's `ready()` (`watch`), so that every process renews
its generation, the worker's and a web process that never read the answer included; `cached_by` refuses a model
that is not. Writes that send no signal (`bulk_create`, `QuerySet.update`) must call `renew(model)` themselves."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")


def _generation_key(model: type[models.Model]) -> str:
    return f"generation:{model._meta.label_lower}"


def generation(model: type[models.Model]) -> str:
    """A value that changes whenever a row of `model` is saved or deleted (once `watch(model)` was called)."""
    key = _generation_key(model)
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        value = cache.get(key, "")
    return value


def renew(model: type[models.Model]) -> None:
    """Make every answer read from `model` unread: now, and again when the current transaction commits."""
    def new_generation() -> None:
        cache.set(_generation_key(model), uuid.uuid4().hex, timeout=None)

    new_generation()
    transaction.on_commit(new_generation)


def _renew_sender(sender: type[models.Model], **kwargs: Any) -> None:
    renew(sender)


_watched: set[type[models.Model]] = set()


def watch(*watched: type[models.Model]) -> None:
    """Renew each model's generation when one of its rows is saved or deleted (called from the app's `ready()`)."""
    for model in watched:
        if model in _watched:
            continue
        _watched.add(model)
        uid = f"cache-generation-{model._meta.label_lower}"
        post_save.connect(_renew_sender, sender=model, dispatch_uid=uid)
        post_delete.connect(_renew_sender, sender=model, dispatch_uid=uid)


def cached_by(key: str, watched: tuple[type[models.Model], ...], read: Callable[[], T], *,
              timeout: int = 3600) -> T:
    """`read()`'s answer, kept under `key` and the generations of the `watched` models (see the module's note)."""
    unwatched = [model._meta.label for model in watched if model not in _watched]
    if unwatched:
        raise ImproperlyConfigured(f"cached_by reads {', '.join(unwatched)}: watch them in the app's ready()")
    full_key = ":".join((key, *(generation(model) for model in watched)))
    found = cache.get(full_key)
    if found is None:
        found = read()
        cache.set(full_key, found, timeout=timeout)
    return found
