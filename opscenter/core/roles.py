"""The roles of the IT center (DESIGN §3), held as Django groups created by a data migration."""

import functools

from django.utils.translation import gettext_lazy as _

SUPERVISOR = "supervisor"
SYSTEM_ENGINEER = "system_engineer"
NETWORK_ENGINEER = "network_engineer"
DESKTOP_ENGINEER = "desktop_engineer"
DUTY_OFFICER = "duty_officer"
PROBLEM_MANAGER = "problem_manager"
CHANGE_APPROVER = "change_approver"
CAB_MEMBER = "cab_member"
RELEASE_MANAGER = "release_manager"
DEPARTMENT_USER = "department_user"
AUDITOR = "auditor"

ROLE_LABELS = {
    SUPERVISOR: _("Supervisor"),
    SYSTEM_ENGINEER: _("System engineer"),
    NETWORK_ENGINEER: _("Network engineer"),
    DESKTOP_ENGINEER: _("Desktop engineer"),
    DUTY_OFFICER: _("Duty officer"),
    PROBLEM_MANAGER: _("Problem manager"),
    CHANGE_APPROVER: _("Change approver"),
    CAB_MEMBER: _("CAB member"),
    RELEASE_MANAGER: _("Release manager"),
    DEPARTMENT_USER: _("Department user"),
    AUDITOR: _("Auditor"),
}
ALL_ROLES = tuple(ROLE_LABELS)
ENGINEERS = (SYSTEM_ENGINEER, NETWORK_ENGINEER, DESKTOP_ENGINEER)
IT_STAFF = (SUPERVISOR, *ENGINEERS, DUTY_OFFICER, PROBLEM_MANAGER, CHANGE_APPROVER, CAB_MEMBER, RELEASE_MANAGER)

# Kernel permissions per role, as "app_label.codename". Process apps grant their own in their
# migrations through opscenter.core.migrations_support.grant.
KERNEL_PERMISSIONS = {
    SUPERVISOR: [
        f"core.{verb}_{model}"
        for model in ("department", "team", "user", "service", "configurationitem", "webhookendpoint")
        for verb in ("add", "change", "view", "delete")
    ]
    + ["auth.view_group", "auth.change_group", "core.view_transitionlog", "core.view_notification"],
    AUDITOR: [
        f"core.view_{model}"
        for model in ("department", "team", "user", "service", "configurationitem", "transitionlog")
    ],
    **{
        role: ["core.view_department", "core.view_team", "core.view_service", "core.view_configurationitem"]
        for role in (*ENGINEERS, DUTY_OFFICER, PROBLEM_MANAGER, CHANGE_APPROVER, CAB_MEMBER, RELEASE_MANAGER)
    },
    DEPARTMENT_USER: ["core.view_service"],
}


def user_roles(user) -> set[str]:
    """The role names a user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if getattr(user, "_role_cache", None) is None:
        _load_memberships(user)
    return user._role_cache


def has_role(user, *roles: str) -> bool:
    """True when the user holds any of the given roles (superusers hold all)."""
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return True
    return bool(user_roles(user) & set(roles))


def grant_role_permissions(apps, permissions_by_role: dict[str, list[str]]) -> None:
    """For data migrations: create the role groups and give them the named permissions.

    Permissions are normally created after all migrations; they are created here first so a
    fresh database gets its roles in one `migrate`.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in permissions_by_role.items():
        group, _created = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".", 1)
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def _teams(user) -> list[tuple[int, str]]:  # noqa: ANN001
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, "_team_cache", None) is None:
        _load_memberships(user)
    return user._team_cache


def load_permissions_with_memberships(user) -> set[str]:  # noqa: ANN001
    """The user's permissions ("app_label.codename", their own and their groups'), read with their roles and
    teams in one statement (which are then cached as `user_roles` and `user_team_ids` read them)."""
    return _load_memberships(user, permissions=True)


def _load_memberships(user, *, permissions: bool = False) -> set[str]:  # noqa: ANN001
    """The user's roles and teams, read together (a page or an API request asks for both): cached on the
    user object for the request, with (unless `permissions`) the count of their unread notifications, which
    the page's layout shows beside the navigation the roles draw (`outbox.unread_count`).
    With `permissions`, the same statement also reads the permissions the user
    holds directly and through their groups, and returns them ("app_label.codename"): an API request checks
    one before it reads the roles (opscenter.core.backends)."""
    from django.db import connection

    from opscenter.core.outbox import UNREAD_PARAMS

    user._role_cache, user._team_cache = set(), []
    held: set[str] = set()
    params = [user.pk] * 4 if permissions else [user.pk, user.pk, user.pk, *UNREAD_PARAMS]
    with connection.cursor() as cursor:
        cursor.execute(_memberships_sql(connection.vendor, permissions), params)
        for text, team_id, more in cursor.fetchall():
            if team_id is not None:
                user._team_cache.append((team_id, more))
            elif more is None:
                user._role_cache.add(text)
            elif text is None:
                user._unread_count = int(more)
            else:
                held.add(f"{text}.{more}")
    return held


@functools.cache
def _memberships_sql(vendor: str, permissions: bool = False) -> str:
    """One statement for a user's group names (their roles) and their teams' ids and kinds, written out once
    from the models' tables: it runs on every request, and building it with the ORM (a UNION of two joins)
    cost more than running it. With `permissions`, also the (app label, codename) of their own and their
    groups' permissions, as rows (app label, NULL, codename)."""
    from django.contrib.auth.models import Group
    from django.db import connection

    from opscenter.core.backends import permissions_sql
    from opscenter.core.models import Team, User
    from opscenter.core.outbox import unread_from

    q = connection.ops.quote_name
    groups = User._meta.get_field("groups")
    members = Team._meta.get_field("members")
    sql = (
        f"SELECT g.{q('name')}, CAST(NULL AS INTEGER), NULL FROM {q(Group._meta.db_table)} g "
        f"INNER JOIN {q(groups.m2m_db_table())} ug ON ug.{q(groups.m2m_reverse_name())} = g.{q('id')} "
        f"WHERE ug.{q(groups.m2m_column_name())} = %s "
        f"UNION ALL "
        f"SELECT NULL, t.{q('id')}, t.{q('kind')} FROM {q(Team._meta.db_table)} t "
        f"INNER JOIN {q(members.m2m_db_table())} tm ON tm.{q(members.m2m_column_name())} = t.{q('id')} "
        f"WHERE tm.{q(members.m2m_reverse_name())} = %s"
    )
    if permissions:
        return f"{sql} UNION ALL {permissions_sql(vendor, team_column=True)}"
    # A page shows the unread count beside the navigation its roles draw: it comes along (NULL, NULL, count).
    return f"{sql} UNION ALL SELECT NULL, CAST(NULL AS INTEGER), CAST(COUNT(*) AS VARCHAR(20)) {unread_from(vendor)}"


def user_team_ids(user) -> set[int]:  # noqa: ANN001
    """Primary keys of the teams a user belongs to, cached on the user object for the request."""
    return {pk for pk, _kind in _teams(user)}


def user_team_kinds(user) -> set[str]:  # noqa: ANN001
    """Kinds of the teams a user belongs to (system, network, desktop, security …), cached likewise."""
    return {kind for _pk, kind in _teams(user)}
