"""What is due next kept on the incident row (the SLA clocks' next target, written by the sla app; the nearest
deadline and whether the incident is finished, worked out by the database) and the index of the queues' default
order, most urgent first. On PostgreSQL the two generated columns rewrite the table once (about a second for
100,000 incidents); sla's migration 0009 fills the SLA target of the incidents whose clocks run."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0007_urgent_paging_in_waves"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="sla_due_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="next SLA target"),
        ),
        migrations.AddField(
            model_name="incident",
            name="sla_due_kind",
            field=models.CharField(blank=True, choices=[("response", "Response"), ("resolution", "Resolution")],
                                   editable=False, max_length=16, verbose_name="next SLA target kind"),
        ),
        migrations.AddField(
            model_name="incident",
            name="next_due_at",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(
                        models.Q(("assign_due_at__isnull", False), ("state__in", ["reported", "classified"]),
                                 models.Q(("sla_due_at__isnull", True), ("assign_due_at__lt", models.F("sla_due_at")),
                                          _connector="OR")),
                        then=models.F("assign_due_at")),
                    default=models.F("sla_due_at")),
                output_field=models.DateTimeField(), verbose_name="next due"),
        ),
        migrations.AddField(
            model_name="incident",
            name="finished",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Q(("state__in", ["resolved", "under_review", "closed", "cancelled"])),
                output_field=models.BooleanField(), verbose_name="finished"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["finished", "priority", "next_due_at", "id"], name="incident_urgent"),
        ),
    ]
