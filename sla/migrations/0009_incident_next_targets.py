"""Each incident whose response or resolution clock runs towards a target gets that target (the nearest, and which
clock it is) on its row, where the queues sort and show it: one UPDATE over the incidents with such a clock, each
read from its clocks inside the statement (sla.clocks.store_next_targets does the same). From here on the clock
services keep it."""

from django.db import migrations
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def fill(apps, schema_editor) -> None:  # noqa: ANN001
    Clock = apps.get_model("sla", "Clock")
    Incident = apps.get_model("incidents", "Incident")
    running = Clock.objects.filter(kind__in=("response", "resolution"), state="running", due_at__isnull=False)
    nearest = running.filter(incident=OuterRef("pk")).order_by("due_at", "pk")
    Incident.objects.filter(pk__in=running.values("incident_id")).update(
        sla_due_at=Subquery(nearest.values("due_at")[:1]),
        sla_due_kind=Coalesce(Subquery(nearest.values("kind")[:1]), Value("")))


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0008_next_due_and_urgent_order"),
        ("sla", "0008_agreement_default"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
