import re

from django.db import migrations, models


def create_sequences(apps, schema_editor):
    """On PostgreSQL, make the current and the next year's ticket-number sequence of every ticket prefix in use
    (each ticket model's NUMBER_PREFIX), where missing, started after the highest number handed out for the year:
    reports no longer make them (a daily task makes the following years'). Elsewhere there is nothing to make."""
    from django.apps import apps as installed
    from django.db.models.functions import Cast, Substr
    from django.utils import timezone

    from opscenter.core.models import Ticket

    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    TicketSequence = apps.get_model("core", "TicketSequence")
    tables = set(connection.introspection.table_names())
    prefixes: dict[str, list] = {}
    for model in installed.get_models():  # NUMBER_PREFIX is a class attribute: the live models carry it
        if issubclass(model, Ticket):
            prefixes.setdefault(model.NUMBER_PREFIX, [])
            if model._meta.db_table in tables:  # a fresh database: the app's tables come later, empty
                try:
                    prefixes[model.NUMBER_PREFIX].append(apps.get_model(model._meta.label))
                except LookupError:  # an app without migrations: its table is made empty
                    pass
    year = timezone.localdate().year
    for prefix, tickets in sorted(prefixes.items()):
        for this_year in (year, year + 1):
            name = f"ticket_number_{prefix.lower()}_{this_year}"
            TicketSequence.objects.get_or_create(prefix=prefix, year=this_year)
            last = (TicketSequence.objects.select_for_update().filter(prefix=prefix, year=this_year)
                    .values_list("last", flat=True).get())
            stem = f"{prefix}-{this_year}-"
            for model in tickets:
                highest = (model._base_manager.filter(number__regex=rf"^{re.escape(stem)}[0-9]+$")
                           .annotate(serial=Cast(Substr("number", len(stem) + 1), models.BigIntegerField()))
                           .aggregate(top=models.Max("serial"))["top"])
                last = max(last, highest or 0)
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {connection.ops.quote_name(name)} AS bigint "
                               f"START WITH {int(last) + 1}")


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0007_delete_session"),
    ]

    operations = [
        migrations.RunPython(create_sequences, migrations.RunPython.noop),
    ]
