"""The queue indexes end with the occurrence's id, so no two of their keys are ever equal:
PostgreSQL's B-tree deduplication can only cost them time (on every page split, and over
every key when the index is built), and is turned off for them. SQLite has no such thing."""

from django.db import migrations

INDEXES = ["occ_queue", "occ_state", "occ_attendant"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} SET (deduplicate_items = off)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} RESET (deduplicate_items)")


class Migration(migrations.Migration):
    dependencies = [("occurrences", "0004_occurrence_indexes_by_use")]

    operations = [migrations.RunPython(forward, backward)]
