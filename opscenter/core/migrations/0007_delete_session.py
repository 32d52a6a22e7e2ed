from django.db import migrations


class Migration(migrations.Migration):
    """Sessions move back to Django's own store (`django.contrib.sessions`, read through the cache): the table of
    sessions kept with their user is dropped. Sessions open at the upgrade are lost: everyone signs in again."""

    dependencies = [
        ("core", "0006_clear_django_sessions"),
    ]

    operations = [
        migrations.DeleteModel(name="Session"),
    ]
