"""Incident categories, the default priority matrix, the leadership group and role permissions."""

from django.db import migrations

from opscenter.core import roles
from opscenter.core.roles import grant_role_permissions

CATEGORIES = [
    ("hardware", "Hardware", "硬件", False, "system", 1),
    ("software", "Software", "軟件", False, "system", 2),
    ("network", "Network", "網絡", False, "network", 3),
    ("desktop", "Desktop", "桌面", False, "desktop", 4),
    ("security", "Security", "安全事件", True, "security", 5),
    ("other", "Other", "其他", False, None, 6),
]
# impact × urgency → priority (1 = high, 3 = low)
MATRIX = {(1, 1): "P1", (1, 2): "P2", (1, 3): "P3", (2, 1): "P2", (2, 2): "P3", (2, 3): "P4",
          (3, 1): "P3", (3, 2): "P4", (3, 3): "P4"}

VIEW = "incidents.view_incident"
ADD = "incidents.add_incident"
PERMISSIONS = {
    roles.SUPERVISOR: [VIEW, ADD, "incidents.change_incident", "incidents.view_all_incidents",
                       "incidents.view_category", "incidents.add_category", "incidents.change_category",
                       "incidents.view_priorityrule", "incidents.change_priorityrule",
                       "incidents.view_majorincidentreview", "incidents.add_majorincidentreview"],
    roles.AUDITOR: [VIEW, "incidents.view_category", "incidents.view_priorityrule",
                    "incidents.view_majorincidentreview"],
    roles.DEPARTMENT_USER: [VIEW, ADD],
    **{role: [VIEW, ADD, "incidents.view_category"] for role in
       (*roles.ENGINEERS, roles.DUTY_OFFICER, roles.PROBLEM_MANAGER, roles.CHANGE_APPROVER, roles.CAB_MEMBER,
        roles.RELEASE_MANAGER)},
}


def create_defaults(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    Category = apps.get_model("incidents", "Category")
    PriorityRule = apps.get_model("incidents", "PriorityRule")
    Team = apps.get_model("core", "Team")
    Group = apps.get_model("auth", "Group")
    for code, name, name_zh, security, team_code, order in CATEGORIES:
        Category.objects.get_or_create(code=code, defaults={
            "name": name, "name_zh_hant": name_zh, "is_security": security, "ordering": order,
            "default_team": Team.objects.filter(code=team_code).first() if team_code else None})
    for (impact, urgency), priority in MATRIX.items():
        PriorityRule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})
    Group.objects.get_or_create(name="leadership")
    grant_role_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial"), ("core", "0002_roles")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
