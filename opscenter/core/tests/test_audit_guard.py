"""The audit trail is append-only in the database too (PostgreSQL triggers): raw UPDATE, DELETE and TRUNCATE
through the application's own connection, and `_raw_delete`, are refused on every append-only table; only
sanctioned maintenance by a superuser (`audit_maintenance`, the test runner's flush) empties them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from opscenter.core import roles
from opscenter.core.models import Attachment, Comment, FieldChange, TransitionLog
from opscenter.core.models.workflow import AppendOnlyModel, audit_maintenance
from opscenter.core.tests.real_services import require_postgres
from opscenter.core.tests.workflow_app.models import WorkOrder

pytestmark = pytest.mark.postgres

TABLES = [TransitionLog, FieldChange, Comment, Attachment]


@pytest.fixture
def trail(make_user) -> dict[type, int]:  # noqa: ANN001
    """One row in each of the kernel's append-only tables, on one work order."""
    require_postgres()
    owner = make_user(roles.DEPARTMENT_USER, username="owner")
    order = WorkOrder.objects.create(title="Replace toner", created_by=owner)
    where = {"content_type": ContentType.objects.get_for_model(WorkOrder), "object_id": order.pk}
    rows = [TransitionLog.objects.create(**where, transition="submit", source_state="draft",
                                         target_state="submitted", actor=owner),
            FieldChange.objects.create(**where, field="title", old_value="a", new_value="b", actor=owner),
            Comment.objects.create(**where, author=owner, body="said once"),
            Attachment.objects.create(**where, file="attachments/x", original_name="x.txt", size=1,
                                      mime_type="text/plain", uploaded_by=owner)]
    return {type(row): row.pk for row in rows}


def refused(sql: str, params: list | None = None) -> str:
    """Run the statement through the application's connection; it must fail (and change nothing)."""
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        # The rows the test wrote have their foreign keys checked at commit (Django's deferred constraints);
        # checked now, as a committed row would be, so that TRUNCATE meets the guard rather than them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)
    return str(exc.value)


def table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def test_every_append_only_model_declares_the_database_guard() -> None:
    from django.apps import apps

    append_only = [model for model in apps.get_models() if issubclass(model, AppendOnlyModel)]
    assert {m.__name__ for m in append_only} >= {"TransitionLog", "FieldChange", "Comment", "Attachment",
                                                  "ChangeVote"}
    for model in append_only:
        assert {t.name for t in model._meta.triggers} == {"append_only", "append_only_truncate"}, model


@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_raw_update_through_the_application_connection_fails(trail, model) -> None:  # noqa: ANN001
    message = refused(f"UPDATE {table(model)} SET created_at = now() WHERE id = %s", [trail[model]])
    assert "Cannot update or delete rows" in message
    assert model.objects.filter(pk=trail[model]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_raw_delete_and_truncate_fail(trail, model) -> None:  # noqa: ANN001
    assert "Cannot update or delete rows" in refused(f"DELETE FROM {table(model)}")
    assert "Cannot truncate rows" in refused(f"TRUNCATE {table(model)} CASCADE")
    assert model.objects.filter(pk=trail[model]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_the_orm_private_raw_delete_fails(trail, model) -> None:  # noqa: ANN001
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.filter(pk=trail[model])._raw_delete(connection.alias)
    assert model.objects.filter(pk=trail[model]).exists()


@pytest.mark.django_db
def test_sanctioned_maintenance_removes_rows_and_the_guard_returns(trail) -> None:  # noqa: ANN001
    with transaction.atomic(), audit_maintenance(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table(Comment)} WHERE id = %s", [trail[Comment]])
    assert not Comment.objects.filter(pk=trail[Comment]).exists()
    assert "Cannot update or delete rows" in refused(f"DELETE FROM {table(FieldChange)}")


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_tables_and_leaves_the_guard_on(trail) -> None:  # noqa: ANN001
    """What every transactional and browser test's teardown does on PostgreSQL."""
    call_command("flush", interactive=False, verbosity=0)
    assert not any(model.objects.exists() for model in TABLES)
    assert "Cannot truncate rows" in refused(f"TRUNCATE {table(TransitionLog)}")
