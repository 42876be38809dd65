"""Database helpers the apps share: one new row written without compiling its INSERT on
every call, a lock that serializes the transactions naming the same keys, and the
privileges of the application's runtime role on PostgreSQL.

The ORM compiles an INSERT each time a model is saved; for the rows every contact writes
(the occurrence and its events) that cost more Python time than the rest of the
statement. ``row_insert`` writes the same values the ORM would (each field's ``pre_save``
and database preparation) with a statement made once per model."""

import functools

from django.conf import settings
from django.db import connection, connections, models

# Of the event log the application reads and adds; it never changes nor removes a row.
APPEND_ONLY_TABLES = ["occurrences_event"]


def transaction_lock(*names: str) -> None:
    """Hold, until the current transaction ends, a lock on each of ``names``: transactions
    that name the same key run one after the other. On PostgreSQL an advisory lock per key
    (taken in a fixed order, so two callers never wait for each other); on SQLite the
    transaction already holds the database's write lock (``transaction_mode`` IMMEDIATE)."""
    if not connection.in_atomic_block:
        raise RuntimeError("transaction_lock needs a transaction")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])


def row_insert(instance: models.Model) -> None:
    """INSERT ``instance`` as a new row and set its primary key. Sends no model signals
    (Atende connects none to these models). A value the database computes (an expression,
    a database default) goes through the ORM instead."""
    model = type(instance)
    values = []
    for field in _fields(model):
        value = field.pre_save(instance, add=True)
        if hasattr(value, "resolve_expression"):
            instance.save(force_insert=True)
            return
        values.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        returning = connection.features.can_return_columns_from_insert
        cursor.execute(_insert_sql(model, connection.vendor, returning), values)
        pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    setattr(instance, model._meta.pk.attname, pk)
    instance._state.adding = False
    instance._state.db = connection.alias


@functools.cache
def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(model: type[models.Model], vendor: str, returning: bool) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql


def runtime_role_grant(*, using: str = "default", **kwargs: object) -> None:
    """After migrations (run by the tables' owner), give ``DATABASE_RUNTIME_ROLE`` what the
    application needs and nothing more: it cannot alter, truncate or drop a table, nor
    switch off the event log's triggers, and of the event log it only reads and adds."""
    role = settings.DATABASE_RUNTIME_ROLE
    database = connections[using]
    if not role or database.vendor != "postgresql":
        return
    quote = database.ops.quote_name
    with database.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
        grantee = quote(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {grantee}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {grantee}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {quote(table)} FROM {grantee}")
