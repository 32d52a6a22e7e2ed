"""The problem policy's row and the roles' permissions on problems (department users have none)."""

from django.db import migrations

from opscenter.core import roles
from opscenter.core.roles import grant_role_permissions

MODELS = ["problem", "problemincident", "actionitem", "candidate", "knownerror", "problempolicy"]
READ = [f"problems.view_{model}" for model in MODELS]
WORK = ["problems.add_problem", "problems.change_problem", "problems.add_problemincident",
        "problems.delete_problemincident", "problems.add_actionitem", "problems.change_actionitem",
        "problems.add_knownerror", "problems.change_knownerror"]

PERMISSIONS = {
    roles.PROBLEM_MANAGER: READ + WORK + ["problems.change_candidate", "problems.change_problempolicy"],
    roles.SUPERVISOR: READ + WORK + ["problems.change_candidate", "problems.change_problempolicy"],
    roles.AUDITOR: READ,
    **{role: READ + WORK for role in roles.ENGINEERS},
    **{role: [f"problems.view_{model}" for model in ("problem", "problemincident", "actionitem", "knownerror")]
       for role in (roles.DUTY_OFFICER, roles.CHANGE_APPROVER, roles.CAB_MEMBER, roles.RELEASE_MANAGER)},
}


def create_defaults(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    ProblemPolicy = apps.get_model("problems", "ProblemPolicy")
    if not ProblemPolicy.objects.exists():
        ProblemPolicy.objects.create()
    grant_role_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial"), ("core", "0010_notifications_by_kind_and_user_language")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
