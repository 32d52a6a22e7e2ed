"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query."""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from opscenter.core import roles


class OneQueryPermissionsBackend(ModelBackend):
    """The permissions a user holds directly and through their groups (their roles), read together: every API
    request checks one (reading needs `view_…`, writing `add_…`), and Django's backend reads the two halves
    with a query each. A page's signed-in user is the one its session was read with (opscenter.core.sessions)."""

    def get_user(self, user_id: Any) -> Any:
        from opscenter.core.sessions import session_user

        user = session_user(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            elif getattr(user_obj, "_role_cache", None) is None:
                # The roles and teams are read next (every API request asks for them): one statement for all.
                user_obj._perm_cache = roles.load_permissions_with_memberships(user_obj)
                return user_obj._perm_cache
            else:
                with connection.cursor() as cursor:
                    cursor.execute(permissions_sql(connection.vendor), [user_obj.pk, user_obj.pk])
                    rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


@functools.cache
def permissions_sql(vendor: str, *, team_column: bool = False) -> str:
    """The (app label, codename) of a user's own permissions and of their groups', as one statement written out
    once from the models' tables (built with the ORM on every request, the UNION cost more than it ran).
    `team_column` puts an empty integer column between the two, to follow the roles' rows (opscenter.core.roles).
    """
    q = connection.ops.quote_name
    middle = "CAST(NULL AS INTEGER), " if team_column else ""
    user_permissions = get_user_model()._meta.get_field("user_permissions")
    groups = get_user_model()._meta.get_field("groups")
    group_permissions = Group._meta.get_field("permissions")
    select = (f"SELECT ct.{q('app_label')}, {middle}p.{q('codename')} FROM {q(Permission._meta.db_table)} p "
              f"INNER JOIN {q(ContentType._meta.db_table)} ct ON ct.{q('id')} = p.{q('content_type_id')} ")
    return (
        select
        + f"INNER JOIN {q(user_permissions.m2m_db_table())} up "
          f"ON up.{q(user_permissions.m2m_reverse_name())} = p.{q('id')} "
          f"WHERE up.{q(user_permissions.m2m_column_name())} = %s "
        + "UNION "
        + select
        + f"INNER JOIN {q(group_permissions.m2m_db_table())} gp "
          f"ON gp.{q(group_permissions.m2m_reverse_name())} = p.{q('id')} "
          f"INNER JOIN {q(groups.m2m_db_table())} ug "
          f"ON ug.{q(groups.m2m_reverse_name())} = gp.{q(group_permissions.m2m_column_name())} "
          f"WHERE ug.{q(groups.m2m_column_name())} = %s"
    )
