"""The event log is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of
events, whoever connects (the application's own code never tries)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION occurrences_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'occurrence events are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER occurrences_event_append_only
    BEFORE UPDATE OR DELETE ON occurrences_event
    FOR EACH ROW EXECUTE FUNCTION occurrences_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS occurrences_event_append_only ON occurrences_event;
DROP FUNCTION IF EXISTS occurrences_event_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("occurrences", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
