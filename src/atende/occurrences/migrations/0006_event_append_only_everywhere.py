"""The event log is append-only on every database: SQLite refuses UPDATE and DELETE of an
event with triggers of its own, and PostgreSQL, whose row trigger does not fire for
TRUNCATE, refuses that too with a statement trigger. (Against a role that owns the table
and could drop the triggers, the application connects as a role that does not: README,
"PostgreSQL roles".)"""

from django.db import migrations

SQLITE_FORWARD = [
    f"""
CREATE TRIGGER occurrences_event_no_{operation.lower()}
BEFORE {operation} ON occurrences_event
BEGIN
    SELECT RAISE(ABORT, 'occurrence events are append-only: {operation} refused');
END
"""
    for operation in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS occurrences_event_no_update",
    "DROP TRIGGER IF EXISTS occurrences_event_no_delete",
]

# The function of migration 0002 raises for whatever operation fired it.
POSTGRESQL_FORWARD = [
    """
CREATE TRIGGER occurrences_event_no_truncate
    BEFORE TRUNCATE ON occurrences_event
    FOR EACH STATEMENT EXECUTE FUNCTION occurrences_event_append_only()
"""
]
POSTGRESQL_BACKWARD = ["DROP TRIGGER IF EXISTS occurrences_event_no_truncate ON occurrences_event"]


def _run(schema_editor, statements: dict) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("occurrences", "0005_queue_indexes_without_deduplication")]

    operations = [migrations.RunPython(forward, backward)]
