from django.db import migrations


def clear_copied_sessions(apps, schema_editor):
    """0004 copied Django's sessions into core_session; nothing reads Django's table since, so the copies it
    still held (session data of people signed in then) are removed."""
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0005_session_user_without_constraint"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(clear_copied_sessions, migrations.RunPython.noop),
    ]
