"""The security category goes to the security team: installations whose teams were created after the first
migration (which named a team only when it already existed) get it now, where none was set."""

from django.db import migrations


def security_team_takes_security(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    Category = apps.get_model("incidents", "Category")
    Team = apps.get_model("core", "Team")
    team = (Team.objects.filter(code="security", is_active=True).first()
            or Team.objects.filter(kind="security", is_active=True).order_by("pk").first())
    if team is not None:
        Category.objects.filter(is_security=True, default_team__isnull=True).update(default_team=team)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_fewer_indexes"), ("core", "0002_roles")]

    operations = [migrations.RunPython(security_team_takes_security, migrations.RunPython.noop)]
