
from django.db import migrations, models
from django.db.models.fields.json import KT
from django.db.models.functions import Substr


def ticket_of_older_rows(apps, schema_editor):
    """Rows written as text keep their text; they join the inbox's ticket groups by the number they carry."""
    Notification = apps.get_model("core", "Notification")
    for key in ("incident", "change"):
        Notification.objects.filter(ticket="", payload__has_key=key).update(
            ticket=Substr(KT(f"payload__{key}"), 1, 24))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_supervisor_periodic_tasks'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='ticket',
            field=models.CharField(blank=True, max_length=24, verbose_name='ticket'),
        ),
        migrations.AddField(
            model_name='user',
            name='language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('zh-hant', 'Traditional Chinese')], help_text="The language of the pages and of the notifications you receive; blank: the site's.", max_length=16, verbose_name='language'),
        ),
        migrations.AddField(
            model_name='webhookendpoint',
            name='language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('zh-hant', 'Traditional Chinese')], help_text="The language of the subject and body it receives; blank: the site's.", max_length=16, verbose_name='language'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='subject',
            field=models.CharField(blank=True, max_length=200, verbose_name='subject'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['recipient', 'ticket'], name='notification_ticket'),
        ),
        migrations.RunPython(ticket_of_older_rows, migrations.RunPython.noop),
    ]
