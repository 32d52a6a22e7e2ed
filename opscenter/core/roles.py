"""The roles of the IT center (DESIGN §3), held as Django groups created by a data migration."""

from django.utils.translation import gettext_lazy as _

from opscenter.core.access import user_access

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

# Supervisors keep the schedules of the background sweeps in the admin (Periodic tasks): they read every schedule
# and switch a task on or off or move it; adding or deleting tasks stays with the superuser. Granted by migration
# 0009 (the beat tables come after the roles).
PERIODIC_TASK_PERMISSIONS = {
    SUPERVISOR: ["django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask"]
    + [f"django_celery_beat.view_{model}" for model in
       ("crontabschedule", "intervalschedule", "clockedschedule", "solarschedule")],
}

# Supervisors read the failed sign-ins and unlock a username and address locked out (docs/security.md). Granted by
# migration 0011 (the proxies of django-axes' tables).
SIGN_IN_PERMISSIONS = {
    SUPERVISOR: ["core.view_signinattempt", "core.delete_signinattempt", "core.view_signinfailure"],
}


def user_roles(user) -> frozenset[str]:
    """The role names (group names) a user holds (`opscenter.core.access`: kept for the request and cached)."""
    return user_access(user).roles


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


def _teams(user) -> tuple[tuple[int, str], ...]:  # noqa: ANN001
    """The (id, kind) of the teams a user belongs to (`opscenter.core.access`)."""
    return user_access(user).teams


def user_team_ids(user) -> set[int]:  # noqa: ANN001
    """Primary keys of the teams a user belongs to, cached on the user object for the request."""
    return {pk for pk, _kind in _teams(user)}


def user_team_kinds(user) -> set[str]:  # noqa: ANN001
    """Kinds of the teams a user belongs to (system, network, desktop, security …), cached likewise."""
    return {kind for _pk, kind in _teams(user)}
