"""What was consulted and done during a contact is written once: the database refuses
changing or removing it, on both databases."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION callcenter_contactentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'contact entries are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER callcenter_contactentry_append_only
    BEFORE UPDATE OR DELETE ON callcenter_contactentry
    FOR EACH ROW EXECUTE FUNCTION callcenter_contactentry_append_only();
CREATE TRIGGER callcenter_contactentry_no_truncate
    BEFORE TRUNCATE ON callcenter_contactentry
    FOR EACH STATEMENT EXECUTE FUNCTION callcenter_contactentry_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS callcenter_contactentry_no_truncate ON callcenter_contactentry;
DROP TRIGGER IF EXISTS callcenter_contactentry_append_only ON callcenter_contactentry;
DROP FUNCTION IF EXISTS callcenter_contactentry_append_only();
"""
SQLITE_FORWARD = [
    f"""
CREATE TRIGGER callcenter_contactentry_no_{op.lower()} BEFORE {op} ON callcenter_contactentry
BEGIN SELECT RAISE(ABORT, 'contact entries are append-only: {op} refused'); END
"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS callcenter_contactentry_no_{op}" for op in ("update", "delete")
]


def _run(schema_editor, statements: dict) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": [FORWARD]})


def backward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": [BACKWARD]})


class Migration(migrations.Migration):
    dependencies = [("callcenter", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
