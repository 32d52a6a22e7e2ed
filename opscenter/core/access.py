"""What a signed-in user may do: their roles (groups), their teams and their permissions, read together and
kept in Django's cache between requests until something that decides them changes.

Why: every API request and every page asks for these. Read from the database they cost four statements a
request (the user's groups, teams, own permissions and their groups' permissions: Django's `ModelBackend`
and the role and team lookups), about 3.5 ms of the 14 ms an incident detail took through the API on the
benchmark's database (2 cores; `bench/incidents.py`, December 2026). From the cache they cost one read.

How it stays right: the entry of a user is keyed by a *generation*, a value in the cache that any change
to group membership, group or user permissions, team membership or a team's kind replaces (the receivers
below: at once and again when the transaction commits, so that a request reading between the two cannot
keep what was true before). A new generation makes every entry unread; entries also expire after
`ACCESS_CACHE_SECONDS`. Superusers and inactive users are not cached (Django's own rules answer for them).
`ACCESS_CACHE_SECONDS = 0` turns the cache off (the test settings do, so that the pinned query counts
describe a first request; `opscenter/core/tests/test_access.py` checks the cached path against Django's).

A change made without Django's signals (a raw SQL statement, `bulk_create` on a through table, a
`QuerySet.update()` of teams) must call `forget_access()`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "access:generation"


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]
    teams: tuple[tuple[int, str], ...]  # (id, kind)
    permissions: frozenset[str]  # "app_label.codename", the user's own and their groups'


NOBODY = Access(frozenset(), (), frozenset())


class LazyAccess:
    """Each part read when it is first asked for, as before the cache (the cache off, superusers,
    inactive users): a request that needs only the roles reads only the roles."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.user.groups.values_list("name", flat=True))

    @cached_property
    def teams(self) -> tuple[tuple[int, str], ...]:
        return tuple(self.user.teams.order_by("pk").values_list("pk", "kind"))

    @cached_property
    def permissions(self) -> frozenset[str]:
        return frozenset(ModelBackend().get_all_permissions(self.user))


def _seconds() -> int:
    return int(getattr(settings, "ACCESS_CACHE_SECONDS", 600))


def _read(user: Any) -> Access:
    """The four statements the cache saves."""
    own = Permission.objects.filter(user=user).values_list("content_type__app_label", "codename")
    grouped = Permission.objects.filter(group__user=user).values_list("content_type__app_label", "codename")
    return Access(
        roles=frozenset(user.groups.values_list("name", flat=True)),
        teams=tuple(user.teams.order_by("pk").values_list("pk", "kind")),
        permissions=frozenset(f"{app}.{codename}" for app, codename in (*own, *grouped)),
    )


def _key(generation: str, user: Any) -> str:
    # date_joined tells apart two users that had the same id (a test database rolled back, a row restored).
    return f"access:{generation}:{user.pk}:{user.date_joined.timestamp() if user.date_joined else ''}"


def user_access(user: Any) -> Access | LazyAccess:
    """The user's roles, teams and permissions, kept on the user object for the request and in the cache."""
    if not getattr(user, "is_authenticated", False):
        return NOBODY
    memo = getattr(user, "access_memo", None)  # request.user is a lazy object: no __dict__ lookups
    if memo is not None:
        return memo
    seconds = _seconds()
    if seconds <= 0 or user.is_superuser or not user.is_active:
        access = LazyAccess(user)
    else:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            generation = uuid.uuid4().hex
            cache.add(GENERATION_KEY, generation, timeout=None)
            generation = cache.get(GENERATION_KEY, generation)
        key = _key(generation, user)
        access = cache.get(key)
        if access is None:
            access = _read(user)
            cache.set(key, access, timeout=seconds)
    user.access_memo = access
    return access


def forget_access(user: Any | None = None) -> None:
    """Make every cached entry unread (now and when the transaction commits); drop `user`'s request memo."""
    if user is not None and getattr(user, "access_memo", None) is not None:
        del user.access_memo

    def renew() -> None:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)

    renew()
    transaction.on_commit(renew)


class AccessBackend(ModelBackend):
    """Django's `ModelBackend` (sign-in, `has_perm`, `has_module_perms`), its permissions read through
    `user_access`. Superusers, inactive users and object permissions go to `ModelBackend` unchanged."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str] | frozenset[str]:
        if (obj is not None or not user_obj.is_active or user_obj.is_anonymous or user_obj.is_superuser
                or _seconds() <= 0):
            return super().get_all_permissions(user_obj, obj=obj)
        return user_access(user_obj).permissions


def _changed(sender: Any, instance: Any = None, **kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    forget_access(instance if getattr(instance, "_meta", None) and instance._meta.model_name == "user" else None)


def connect() -> None:
    """Wire the receivers that renew the generation (CoreConfig.ready)."""
    from opscenter.core.models import Team, User

    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through,
                    Team.members.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"access-{through._meta.label}")
    for model in (Group, Permission, Team):
        post_save.connect(_changed, sender=model, dispatch_uid=f"access-save-{model._meta.label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"access-delete-{model._meta.label}")
    post_delete.connect(_changed, sender=User, dispatch_uid="access-delete-user")
