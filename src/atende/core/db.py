"""Database helpers the apps share: one row written or locked and read without compiling
its statement on every call, a lock that serializes the transactions naming the same keys,
and the privileges of the application's runtime role on PostgreSQL.

The ORM compiles a statement each time a model is saved or read; for the rows every
contact and every change writes (the occurrence and its events) that cost more Python time
than the rest of the statement. ``row_insert``, ``row_locked`` and ``row_update`` write and
read the same values the ORM would (each field's ``pre_save``, database preparation and
converters) with statements made once per model and database; ``PreparedRead`` does the
same for a read with joins."""

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, connections, models
from django.db.models import QuerySet, Value
from django.db.models.expressions import DatabaseDefault
from django.db.models.fetch_modes import FETCH_ONE
from django.db.models.query import get_related_populators

# Of the event log and the access log of beneficiaries the application reads and adds;
# it never changes nor removes a row.
APPEND_ONLY_TABLES = ["occurrences_event", "beneficiaries_access", "callcenter_contactentry"]


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


def plans_per_call() -> None:
    """Until the transaction ends, plan each statement for the values it is run with. A
    bulk load makes a table grow from nothing within minutes, faster than autovacuum
    refreshes its statistics: a prepared statement's generic plan, made while the table was
    empty, would keep scanning it whole. PostgreSQL only (SQLite prepares nothing)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")


@contextlib.contextmanager
def plans_cached() -> Iterator[None]:
    """Within the block, PostgreSQL keeps its own plan caching (the server's setting), even
    after ``plans_per_call``; the caller's mode is back after the block. For bulk writes:
    a COPY has no plan, but each row's foreign keys are checked by a lookup by primary key
    that PostgreSQL prepares once per connection, and whose plan never depends on the
    table's size. Planned again for every row, those checks were most of PostgreSQL's work
    in a registry import (324 µs of CPU a new card, 122 µs with cached plans)."""
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        # Outside a transaction SET LOCAL changes nothing: the block would do nothing.
        raise RuntimeError("plans_cached needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        (mode,) = cursor.fetchone()
        cursor.execute("SET LOCAL plan_cache_mode TO DEFAULT")
    yield
    # Not on an error: the transaction is then aborted, and its rollback undoes the SET.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('plan_cache_mode', %s, true)", [mode])


@contextlib.contextmanager
def references_checked_per_statement() -> Iterator[None]:
    """Within the block, check each row's foreign keys when the statement that wrote it
    ends, not all of them at the commit (PostgreSQL; Django makes its foreign keys
    deferrable, deferred, and the block puts them back so). The same checks, done sooner:
    for a bulk load PostgreSQL does them for less than when it replays thousands of rows'
    checks at the commit (a registry import of new cards: 300 + 284 µs a line deferred,
    465 + 5 µs checked per statement). The block must write the rows referred to before
    the rows referring to them."""
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("references_checked_per_statement needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def statistics_refresh(*tables: str) -> None:
    """After a bulk load on SQLite, refresh the planner's statistics of ``tables``: without
    them it walks the wrong index of a freshly filled table. PostgreSQL's autovacuum does
    this by itself (and the runtime role, owning no table, could not)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def ids_reserve(table: str, count: int) -> list[int]:
    """``count`` primary keys for rows of ``table`` that ``rows_write`` will insert. On
    SQLite the writing transaction holds the database: the next ids are its own."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + count))


def rows_write(table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """Insert many rows of plain values (no model, no signals): COPY on PostgreSQL, one
    prepared INSERT run for every row elsewhere. JSON columns take JSON text."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            lines = "".join("\t".join(map(_pg_text, row)) + "\n" for row in rows)
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(lines)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            [tuple(map(_sqlite_value, row)) for row in rows],
        )


def _pg_text(value: object) -> str:
    """A value in COPY's text format."""
    kind = type(value)
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime:
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_insert(instance: models.Model) -> None:
    """INSERT ``instance`` as a new row and set its primary key. Sends no model signals
    (Atende connects none to these models). A constant database default is written as
    its value (the row and the instance end as ``save()`` leaves them); a value the
    database computes (an expression, a computed default) goes through the ORM instead."""
    model = type(instance)
    values = []
    for field in _fields(model):
        value = field.pre_save(instance, add=True)
        if isinstance(value, DatabaseDefault) and isinstance(value.expression, Value):
            value = value.expression.value
            setattr(instance, field.attname, value)
        elif hasattr(value, "resolve_expression"):
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


def row_locked(model: type[models.Model], pk: int) -> models.Model | None:
    """The row ``pk`` of ``model``, locked until the current transaction ends (on SQLite
    the transaction already holds the write lock), or None. Only the row itself is read:
    PostgreSQL rechecks a locked row that a concurrent transaction changed, and a join in
    the same statement would be rechecked against the old related rows."""
    if not connection.in_atomic_block:
        raise RuntimeError("row_locked needs a transaction")
    found = _locked_read(model)(pk)
    if not found:
        return None
    instance = found[0]
    # What the row holds, for ``row_update`` to write only the columns that change.
    instance._row_read = [getattr(instance, f.attname) for f in _fields(model)]
    return instance


@functools.cache
def _locked_read(model: type[models.Model]) -> "PreparedRead":
    return PreparedRead(lambda pk: model._base_manager.select_for_update().filter(pk=pk), -1)


def row_update(instance: models.Model) -> None:
    """UPDATE ``instance``'s row with its values, as ``save()`` would, with a statement
    made once per set of columns. Sends no model signals. For an instance of
    ``row_locked`` (its row locked since it was read, so no one else changed it) only the
    columns whose values changed are written, and JSON columns always (their values can
    change in place); for any other instance, every column."""
    model = type(instance)
    fields = _fields(model)
    read = instance.__dict__.get("_row_read")
    changed = tuple(
        index
        for index, field in enumerate(fields)
        if read is None
        or isinstance(field, models.JSONField)
        or getattr(instance, field.attname) != read[index]
    )
    if changed:
        values = [
            fields[index].get_db_prep_save(fields[index].pre_save(instance, False), connection)
            for index in changed
        ]
        values.append(instance.pk)
        with connection.cursor() as cursor:
            cursor.execute(_update_sql(model, connection.vendor, changed), values)
            if cursor.rowcount != 1:
                raise model.DoesNotExist
    if read is not None:
        instance._row_read = [getattr(instance, f.attname) for f in fields]


def rows_update(instances: Sequence[models.Model], field_names: Iterable[str]) -> None:
    """UPDATE each instance's row with its values of ``field_names``, as ``bulk_update``
    writes them, by one statement run for every row. ``bulk_update`` builds one CASE of
    every row for each column: for a thousand changed cards of 25 columns that cost the
    registry import 4.3 ms of CPU a card, where its whole work on a card is now 0.6 ms."""
    if not instances:
        return
    model = type(instances[0])
    names = set(field_names)
    fields = _fields(model)
    changed = tuple(i for i, f in enumerate(fields) if f.name in names or f.attname in names)
    if len(changed) != len(names):
        raise ValueError(f"{model.__name__} has no column for some of {sorted(names)}")
    with connection.cursor() as cursor:
        cursor.executemany(
            _update_sql(model, connection.vendor, changed),
            [
                [
                    *(
                        fields[i].get_db_prep_save(getattr(instance, fields[i].attname), connection)
                        for i in changed
                    ),
                    instance.pk,
                ]
                for instance in instances
            ],
        )


@functools.lru_cache(maxsize=256)
def _update_sql(model: type[models.Model], vendor: str, changed: tuple[int, ...]) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model)
    assignments = ", ".join(f"{quote(fields[index].column)} = %s" for index in changed)
    return (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )


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


class PreparedRead:
    """A read that every request makes (the API token, an occurrence by protocol), compiled
    into SQL once per database vendor and run with new values: the ORM would compile the
    same statement, joins and all, on each call. ``build`` makes the queryset from its
    values; it is called once with ``examples``, values of the right types that appear
    nowhere else in the statement, to find where each value goes. The rows become model
    instances as the queryset would make them (converters, ``select_related`` objects,
    annotations)."""

    def __init__(self, build: Callable[..., QuerySet], *examples: object) -> None:
        self.build = build
        self.examples = examples
        self._plans: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def __call__(self, *values: object) -> list[models.Model]:
        plan = self._plans.get(connection.vendor) or self._plan()
        sql, slots, fixed, converters, model, init_list, width, populators, annotations = plan
        params = [
            values[slot] if slot is not None else value
            for slot, value in zip(slots, fixed, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            row = list(row)
            for index, (functions, expression) in converters:
                for function in functions:
                    row[index] = function(row[index], expression, connection)
            instance = model.from_db(connection.alias, init_list, row[:width], fetch_mode=FETCH_ONE)
            for populator in populators:
                populator.populate(row, instance)
            for name, index in annotations:
                setattr(instance, name, row[index])
            found.append(instance)
        return found

    def _plan(self) -> tuple:
        with self._lock:
            if connection.vendor in self._plans:
                return self._plans[connection.vendor]
            queryset = self.build(*self.examples)
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            slots = []
            for value in params:
                matches = [
                    i
                    for i, example in enumerate(self.examples)
                    if type(example) is type(value) and example == value
                ]
                slots.append(matches[0] if matches else None)
            if sorted(s for s in slots if s is not None) != list(range(len(self.examples))):
                raise ValueError("each example value must appear once in the statement")
            select, klass_info = compiler.select, compiler.klass_info
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            if start != 0 or queryset._fetch_mode != FETCH_ONE:
                raise ValueError("a prepared read starts with the model's own columns")
            columns = [s[0] for s in select[: compiler.col_count]]
            plan = (
                sql,
                slots,
                list(params),
                list(compiler.get_converters(columns).items()),
                klass_info["model"],
                [f[0].target.attname for f in select[start:end]],
                end,
                get_related_populators(klass_info, select, connection.alias, FETCH_ONE),
                list((compiler.annotation_col_map or {}).items()),
            )
            self._plans[connection.vendor] = plan
            return plan


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
