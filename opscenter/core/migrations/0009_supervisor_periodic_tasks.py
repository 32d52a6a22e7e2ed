"""Supervisors may read the background schedules in the admin and change a periodic task (README: Periodic tasks)."""

from django.db import migrations

from opscenter.core.roles import PERIODIC_TASK_PERMISSIONS, grant_role_permissions


def grant(apps, schema_editor) -> None:
    grant_role_permissions(apps, PERIODIC_TASK_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_ticket_sequences"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
