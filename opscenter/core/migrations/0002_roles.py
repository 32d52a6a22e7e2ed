"""Create the roles of the IT center as groups with the kernel's permissions."""

from django.db import migrations

from opscenter.core.roles import ALL_ROLES, KERNEL_PERMISSIONS, grant_role_permissions


def create_roles(apps, schema_editor) -> None:
    grant_role_permissions(apps, {role: KERNEL_PERMISSIONS.get(role, []) for role in ALL_ROLES})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
