"""Failed sign-ins in the admin (proxies of django-axes' tables) and the supervisors' permission to read and unlock
them; the plain-text API tokens of before (rest_framework.authtoken) deleted with their table: the keys they held
stop working, and clients ask for a new, hashed and expiring token (docs/security.md)."""

from django.db import migrations

from opscenter.core.roles import SIGN_IN_PERMISSIONS, grant_role_permissions


def grant(apps, schema_editor) -> None:
    grant_role_permissions(apps, SIGN_IN_PERMISSIONS)


class Migration(migrations.Migration):

    dependencies = [
        ('axes', '0010_accessattemptexpiration'),
        ('knox', '0009_extend_authtoken_field'),
        ('core', '0010_notifications_by_kind_and_user_language'),
    ]

    operations = [
        migrations.CreateModel(
            name='SignInAttempt',
            fields=[
            ],
            options={
                'verbose_name': 'failed sign-in',
                'verbose_name_plural': 'failed sign-ins',
                'ordering': ['-attempt_time'],
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('axes.accessattempt',),
        ),
        migrations.CreateModel(
            name='SignInFailure',
            fields=[
            ],
            options={
                'verbose_name': 'sign-in failure',
                'verbose_name_plural': 'sign-in failures',
                'ordering': ['-attempt_time'],
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('axes.accessfailurelog',),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
        # The keys of the old tokens were stored as they are sent; a database that had them loses them here.
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
