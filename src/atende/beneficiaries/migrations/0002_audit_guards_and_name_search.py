"""The audit tables protected on every database: the access log is append-only; a change
is never removed and only its fields may be rewritten (by the anonymisation of a person),
never its who, when or what. On PostgreSQL also a trigram index for searches by part of a
name (``pg_trgm``, a trusted extension: the database's owner may create it)."""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX beneficiary_name_trgm ON beneficiaries_beneficiary
    USING gin (name_key gin_trgm_ops);
CREATE FUNCTION beneficiaries_access_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'beneficiary accesses are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER beneficiaries_access_append_only
    BEFORE UPDATE OR DELETE ON beneficiaries_access
    FOR EACH ROW EXECUTE FUNCTION beneficiaries_access_append_only();
CREATE FUNCTION beneficiaries_change_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.id, NEW.operator_id, NEW.beneficiary_id, NEW.at, NEW.kind,
            NEW.user_id, NEW.job_id, NEW.token_id) IS NOT DISTINCT FROM (OLD.id,
            OLD.operator_id, OLD.beneficiary_id, OLD.at, OLD.kind, OLD.user_id, OLD.job_id,
            OLD.token_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'beneficiary changes are kept: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER beneficiaries_change_kept
    BEFORE UPDATE OR DELETE ON beneficiaries_change
    FOR EACH ROW EXECUTE FUNCTION beneficiaries_change_kept();
CREATE TRIGGER beneficiaries_access_no_truncate
    BEFORE TRUNCATE ON beneficiaries_access
    FOR EACH STATEMENT EXECUTE FUNCTION beneficiaries_access_append_only();
CREATE TRIGGER beneficiaries_change_no_truncate
    BEFORE TRUNCATE ON beneficiaries_change
    FOR EACH STATEMENT EXECUTE FUNCTION beneficiaries_change_kept();
"""

SQLITE_FORWARD = [
    """
CREATE TRIGGER beneficiaries_access_no_update BEFORE UPDATE ON beneficiaries_access
BEGIN SELECT RAISE(ABORT, 'beneficiary accesses are append-only: UPDATE refused'); END
""",
    """
CREATE TRIGGER beneficiaries_access_no_delete BEFORE DELETE ON beneficiaries_access
BEGIN SELECT RAISE(ABORT, 'beneficiary accesses are append-only: DELETE refused'); END
""",
    """
CREATE TRIGGER beneficiaries_change_no_delete BEFORE DELETE ON beneficiaries_change
BEGIN SELECT RAISE(ABORT, 'beneficiary changes are kept: DELETE refused'); END
""",
    """
CREATE TRIGGER beneficiaries_change_no_update
BEFORE UPDATE OF id, operator_id, beneficiary_id, at, kind, user_id, job_id, token_id
ON beneficiaries_change
BEGIN SELECT RAISE(ABORT, 'beneficiary changes are kept: UPDATE refused'); END
""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS beneficiaries_{name}"
    for name in ("access_no_update", "access_no_delete", "change_no_delete", "change_no_update")
]

BACKWARD = """
DROP TRIGGER IF EXISTS beneficiaries_change_no_truncate ON beneficiaries_change;
DROP TRIGGER IF EXISTS beneficiaries_access_no_truncate ON beneficiaries_access;
DROP TRIGGER IF EXISTS beneficiaries_change_kept ON beneficiaries_change;
DROP FUNCTION IF EXISTS beneficiaries_change_kept();
DROP TRIGGER IF EXISTS beneficiaries_access_append_only ON beneficiaries_access;
DROP FUNCTION IF EXISTS beneficiaries_access_append_only();
DROP INDEX IF EXISTS beneficiary_name_trgm;
"""


def _run(schema_editor, statements: dict) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": [FORWARD]})


def backward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": [BACKWARD]})


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
