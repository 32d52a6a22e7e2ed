"""Trigram indexes on the known errors' titles and symptoms (PostgreSQL's pg_trgm), through which the suggestions
for an incident find similar words, Chinese ones included: a GiST index on the title (the nearest titles first, read
in distance order and stopped at the fifth) and a GIN index on the symptom (the stretches alike). Nothing on other
databases."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {"known_error_title_trgm": ("title", "gist", "gist_trgm_ops"),
           "known_error_symptom_trgm": ("symptom", "gin", "gin_trgm_ops")}


def create_indexes(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (column, method, opclass) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON problems_knownerror "
                              f"USING {method} ({column} {opclass})")


def drop_indexes(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("problems", "0003_problem_source_reference")]

    operations = [TrigramExtension(), migrations.RunPython(create_indexes, drop_indexes)]
