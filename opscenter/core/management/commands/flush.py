"""Django's flush, audit records included: the tests empty the database after each transactional test."""

from django.core.management.commands import flush

from opscenter.core.models.workflow import audit_maintenance


class Command(flush.Command):
    """Empties every table as Django's flush does; the append-only tables' database guard is suspended for it
    (`audit_maintenance`), which on PostgreSQL only a superuser may do: the application's own role cannot empty
    the audit trail this way either."""

    def handle(self, **options) -> None:  # noqa: ANN003
        with audit_maintenance(using=options["database"]):
            super().handle(**options)
