"""The synthetic generator on PostgreSQL, set-based: the database draws the random stories
and writes occurrences and events with a few statements, so nothing goes row by row through
Python. It tells the same stories as ``Synthesizer._story`` (create; start attendance;
maybe a status change; stay, release, or close; rarely reopen and close again), reserves
protocols from the real sequences, and its rows replay exactly — the synth test checks it.

The work is split between connections so that both cores of a small machine are busy:

- *helpers* (``HELPERS`` connections of their own, in autocommit) draw the stories of one
  chunk of occurrences at a time and write its finished occurrence and event rows, ids and
  protocols included, into two unlogged staging tables with the real tables' columns — no
  WAL, no index, nothing shared;
- the *load* (Django's connection, one transaction for the whole run) reserves each chunk's
  protocols from the real sequences as soon as a helper has drawn it, and copies the staged
  rows into the real tables as they are: a copy that computes nothing forms no new row.

A chunk covers a slice of the period in time order; its occurrences take ids reserved for
the whole run up front, its events the ids that follow the previous chunk's, and its
protocols are reserved after the previous chunk's: ids and protocol numbers grow with
registration time, as in use. The load's transaction holds everything that counts: a failed
run leaves no occurrence, no event and no protocol reserved. The staging tables are dropped
by the load as it copies them, and whatever a failed run left is dropped after it.
"""

import itertools
import os
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from atende.catalog.models import Closing, SlaUnit
from atende.catalog.protocols import protocol_period_format, protocol_reserve
from atende.occurrences.models import Event, EventKind, Nature, Occurrence, ReportCode, State
from atende.occurrences.services import VISIBLE_KINDS

# Occurrences a helper draws and stages at a time (the first chunk is smaller).
CHUNK = 50_000
FIRST_CHUNK = 10_000
# Connections drawing chunks while the load copies the previous ones.
HELPERS = 2
# Chunks staged or being staged and not copied yet, at most. Two helpers and the load then
# share the cores while the helpers keep up, and a helper that gets ahead waits, leaving its
# core to the load. (Without a bound the helpers finished early and the load copied its last
# chunks alone on one core; the staging tables also took all the run's rows at once.)
AHEAD = 3
TABLES = ["occurrences_occurrence", "occurrences_event"]
# Parallel workers of each index build beside the load's own process: one on a two-core
# machine (with two, three processes took turns on two cores and the builds were slower),
# PostgreSQL's default of two on a larger one.
INDEX_WORKERS = min(2, max((os.cpu_count() or 2) - 1, 0))
# Below this many rows a rebuild of the indexes costs more than keeping them up row by row.
DEFER_INDEXES_FROM = 100_000
# The youngest synthetic occurrence was registered this long before the run.
NEWEST_AGE = timedelta(hours=1)

# Every column, by name: the helpers name them all, so a column added to a model and
# forgotten here fails the load instead of writing its default.
OCCURRENCE_COLUMNS = [f.column for f in Occurrence._meta.concrete_fields]
EVENT_COLUMNS = [f.column for f in Event._meta.concrete_fields if f.column != "id"]


def supported(synth: object) -> bool:
    """Business-hours deadlines depend on the time of day; those types use Python."""
    return connection.vendor == "postgresql" and all(
        kind.type.sla_policy is None or kind.type.sla_policy.unit != SlaUnit.BUSINESS_HOURS
        for kind in synth.kinds
    )


@dataclass(frozen=True)
class _Plan:
    """What every connection of one run needs to know, fixed before it starts."""

    token: str
    chunks: list[tuple[int, int]]  # the occurrences' ordinals of each chunk
    first_id: int
    first_event_id: int
    start: datetime
    step: float  # seconds of the period per occurrence
    seeds: Sequence[float]
    values: dict
    catalog: dict
    # Each real table's columns in its own order, with their types: the staging tables'.
    shapes: dict[str, list[str]]

    def stage(self, chunk: int, what: str) -> str:
        return f"synth_stage_{self.token}_{chunk}_{what}"


def _chunks(count: int) -> list[tuple[int, int]]:
    """The occurrences' ordinals of each chunk; a small first one, so that the load starts
    copying sooner."""
    bounds = [0, *range(min(FIRST_CHUNK, count), count, CHUNK), count]
    return list(itertools.pairwise(bounds))


def load(synth: object, count: int, days: int) -> None:
    """Write ``count`` occurrences with their events in one transaction."""
    token = secrets.token_hex(4)
    try:
        with transaction.atomic():
            synth._skip_checks()
            with connection.cursor() as cursor:
                # The planner's cost of these statements asks for JIT, whose compilation
                # took half a second of each 250,000 occurrences and won nothing back.
                cursor.execute("SET LOCAL jit = off")
                # Writers wait for the load (readers do not): the ids reserved below stay
                # ours, and a deferred index is missed by nobody.
                cursor.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
                # Every run holds that lock to its end, so what staging tables are left are
                # a stopped run's (or their drop went with a rolled back transaction).
                _drop_stages(cursor)
                # Read before any index is dropped: a helper reading the real tables'
                # catalog would then wait for the load's lock, and the load for it.
                plan = _plan(cursor, synth, token, count, days)
            deferred = indexes_deferred() if indexes_worth_deferring(count) else nullcontext()
            with deferred:
                _load(synth, plan)
    except BaseException:
        # The rollback released the load's locks on the staging tables it had copied.
        _drop_failed_stages(token)
        raise


def _plan(cursor: object, synth: object, token: str, count: int, days: int) -> _Plan:
    start = synth.now - timedelta(days=days)
    span = (synth.now - NEWEST_AGE - start).total_seconds()
    chunks = _chunks(count)
    return _Plan(
        token=token,
        chunks=chunks,
        first_id=_reserve_ids(cursor, TABLES[0], count),
        # The rest of the events' ids are taken once the run knows how many it wrote.
        first_event_id=_reserve_ids(cursor, TABLES[1], 1),
        start=start,
        step=span / count,
        seeds=[(synth.rng.random() * 2) - 1 for _ in chunks],
        values=_values(synth),
        catalog=_catalog(synth, days),
        shapes={table: _shape(cursor, table) for table in TABLES},
    )


def _shape(cursor: object, table: str) -> list[str]:
    """The columns of ``table`` as a table definition writes them, in the table's order:
    the staged values take the columns' types (a value too long fails there), and the
    real table checks the rest when the load copies them."""
    cursor.execute(
        "SELECT quote_ident(attname) || ' ' || format_type(atttypid, atttypmod)"
        " FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum",
        [table],
    )
    return [column for (column,) in cursor.fetchall()]


def _reserve_ids(cursor: object, table: str, count: int) -> int:
    """The first of ``count`` consecutive ids of ``table``'s sequence, taken at once. Only
    writers of the table take its ids, and the load's lock keeps them waiting."""
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
        " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
        [table, table, count],
    )
    return cursor.fetchone()[0] - count + 1


def _side_connection() -> object:
    """A connection of its own to the load's database, in autocommit."""
    return connection.Database.connect(**connection.get_connection_params(), autocommit=True)


def _load(synth: object, plan: _Plan) -> None:
    """Serve the helpers' chunks in order: reserve the protocols of each one drawn (the
    helpers wait for them), and copy each one staged."""
    chunks = plan.chunks
    relay = _Relay(plan.first_event_id)
    helpers = [
        threading.Thread(
            target=_helper,
            args=(plan, range(h, len(chunks), HELPERS), relay),
            name=f"synth-helper-{h}",
            daemon=True,
        )
        for h in range(min(HELPERS, len(chunks)))
    ]
    for helper in helpers:
        helper.start()
    try:
        types = {kind.type.protocol_type_id: kind.type.protocol_type for kind in synth.kinds}
        reserved = 0
        with connection.cursor() as cursor:
            for chunk in range(len(chunks)):
                while (groups := relay.next_for_load(reserved, chunk)) is not None:
                    relay.reserved(reserved, _reserve_protocols(groups, types))
                    reserved += 1
                _copy(cursor, plan, chunk)
                relay.copied(chunk)
            # The events' ids after the first, now that their count is known; they follow
            # the first unless a writer took one meanwhile, which the lock should forbid.
            rest = relay.first_event_id(len(chunks), load=True) - plan.first_event_id - 1
            if _reserve_ids(cursor, TABLES[1], rest) != plan.first_event_id + 1:
                raise RuntimeError("Another writer took ids of the events during the load.")
    finally:
        relay.stop()
        for helper in helpers:
            helper.join()


def _reserve_protocols(groups: list, types: dict) -> list[tuple]:
    """One block of protocols per (protocol type, period) of a chunk, in the load's
    transaction."""
    blocks = []
    for pt_id, period, first_at, n in groups:
        head, width, first = protocol_reserve(protocol_type=types[pt_id], at=first_at, count=n)
        blocks.append((pt_id, period, head, width, first))
    return blocks


def _copy(cursor: object, plan: _Plan, chunk: int) -> None:
    """Copy a chunk's staged rows, which are the real tables' rows, as they are."""
    occurrences, events = plan.stage(chunk, "occ"), plan.stage(chunk, "ev")
    cursor.execute(f"INSERT INTO {TABLES[0]} SELECT * FROM {occurrences}")  # noqa: S608
    cursor.execute(f"INSERT INTO {TABLES[1]} SELECT * FROM {events}")  # noqa: S608
    cursor.execute(f"DROP TABLE {occurrences}, {events}")


class _Stopped(Exception):
    """The load stopped: a helper leaves what it was doing."""


class _Relay:
    """What the helpers and the load hand each other, chunk by chunk: the first id of each
    chunk's events (from the previous chunk's count), the protocol groups of each chunk
    drawn and the blocks the load reserved for them, and which chunks are staged and
    copied. It keeps the helpers at most ``AHEAD`` chunks ahead of the load, and a helper's
    error reaches the load, and the load's stop every helper, wherever they wait."""

    def __init__(self, first_event_id: int) -> None:
        self._changed = threading.Condition()
        self._first_event_ids = {0: first_event_id}
        self._groups: dict[int, list] = {}
        self._blocks: dict[int, list] = {}
        self._staged: set[int] = set()
        self._copied = 0
        self._stopped = False
        self._error: BaseException | None = None

    def _wait(self, ready: object, *, load: bool = False) -> None:
        """Wait, holding the condition, until ``ready()``. If the run ends first, a helper
        stops, and the load raises the error that ended it."""
        self._changed.wait_for(lambda: self._stopped or self._error is not None or ready())
        if load and self._error is not None:
            raise self._error
        if self._stopped or self._error is not None:
            raise _Stopped

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the condition while the caller changes the state, then wake every waiter."""
        with self._changed:
            yield
            self._changed.notify_all()

    # The helpers' side.

    def turn(self, chunk: int) -> None:
        """Wait until ``chunk`` may be staged."""
        with self._changed:
            self._wait(lambda: chunk < self._copied + AHEAD)

    def first_event_id(self, chunk: int, count: int | None = None, *, load: bool = False) -> int:
        """The first id of ``chunk``'s events, once the previous chunk has its own; with
        ``count``, the chunk's events, the next chunk gets its first."""
        with self._changing():
            self._wait(lambda: chunk in self._first_event_ids, load=load)
            first = self._first_event_ids[chunk]
            if count is not None:
                self._first_event_ids[chunk + 1] = first + count
            return first

    def drawn(self, chunk: int, groups: list) -> None:
        """Hand the load the protocol groups of ``chunk``, to reserve them."""
        with self._changing():
            self._groups[chunk] = groups

    def blocks(self, chunk: int) -> list:
        """Wait for the protocol blocks the load reserved for ``chunk``."""
        with self._changed:
            self._wait(lambda: chunk in self._blocks)
            return self._blocks.pop(chunk)

    def staged(self, chunk: int) -> None:
        with self._changing():
            self._staged.add(chunk)

    def fail(self, error: BaseException) -> None:
        with self._changing():
            self._error = self._error or error

    # The load's side.

    def next_for_load(self, reserve: int, copy: int) -> list | None:
        """Wait until the chunk ``reserve`` has been drawn or ``copy`` staged: the former's
        protocol groups (helpers wait for them), or None when ``copy`` may be copied."""
        with self._changed:
            self._wait(lambda: reserve in self._groups or copy in self._staged, load=True)
            return self._groups.pop(reserve, None)

    def reserved(self, chunk: int, blocks: list) -> None:
        with self._changing():
            self._blocks[chunk] = blocks

    def copied(self, chunk: int) -> None:
        with self._changing():
            self._staged.discard(chunk)
            self._copied = chunk + 1

    def stop(self) -> None:
        with self._changing():
            self._stopped = True


def _helper(plan: _Plan, chunks: Sequence[int], relay: _Relay) -> None:
    """Stage the given chunks on a connection of its own; an error that stops the helper
    reaches the load through the relay."""
    try:
        with _side_connection() as helper, helper.cursor() as cursor:
            _helper_setup(cursor, plan)
            for chunk in chunks:
                relay.turn(chunk)
                _stage(cursor, plan, chunk, relay)
                relay.staged(chunk)
    except _Stopped:
        return
    except BaseException as error:  # the load waits on the relay: it must hear of it
        relay.fail(error)
        if not isinstance(error, Exception):
            raise


def _drop_stages(cursor: object, token: str = "") -> None:
    """Drop the staging tables of the run ``token`` (of any earlier run without one)."""
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind = 'r'",
        [f"synth\\_stage\\_{token}%"],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")


def _drop_failed_stages(token: str) -> None:
    """After a failed run's rollback (which took back the load's drops): its staging
    tables, from a connection of its own."""
    with _side_connection() as side, side.cursor() as cursor:
        _drop_stages(cursor, f"{token}\\_")


def indexes_worth_deferring(count: int) -> bool:
    """A load at least as large as what the tables hold: building the indexes once after
    it is cheaper than maintaining each of them on every inserted row."""
    if count < DEFER_INDEXES_FROM:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [TABLES[0]]
        )
        return count >= cursor.fetchone()[0]


@contextmanager
def indexes_deferred() -> Iterator[None]:
    """Inside the caller's transaction: drop every index of occurrences and events that no
    foreign key of theirs relies on — the secondary ones, the unique constraints (protocol,
    event sequence) and the events' primary key, with the foreign keys of other tables
    that point at it — and build them again at the end, then add those foreign keys back
    (PostgreSQL checks them then). The occurrences' primary key, which the events point
    at, stays. The tables are locked meanwhile — a benchmark tool's load, never
    production. A duplicate fails the rebuild as it would have failed the insert, and an
    error rolls the drops back with everything else."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid, c.relname, i.indrelid::regclass::text, k.conname,"
            " pg_get_indexdef(i.indexrelid), pg_get_constraintdef(k.oid)"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid"
            "  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')"
            " WHERE i.indrelid = ANY(%s::regclass[])"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'"
            "  AND f.conindid = i.indexrelid AND f.conrelid = ANY(%s::regclass[]))"
            " ORDER BY c.relname",
            [TABLES, TABLES],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conindid = ANY(%s) ORDER BY conname",
            [[index[0] for index in indexes]],
        )
        foreign_keys = cursor.fetchall()
        quote = connection.ops.quote_name
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for _oid, name, table, constraint, _index, _constraint in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(constraint)}")
            else:
                cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at the commit; PostgreSQL builds no index on a
        # table with checks still pending, so they run now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"SET LOCAL max_parallel_maintenance_workers = {INDEX_WORKERS}")
        for _oid, _name, table, constraint, index, definition in indexes:
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {quote(constraint)} {definition}"
                )
            else:
                cursor.execute(index)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")


# --- the helpers' side ---------------------------------------------------------------------


def _catalog(synth: object, days: int) -> dict:
    """The operator's catalog as rows of the helpers' small temporary tables."""
    kinds, statuses, dues = [], {}, []
    tz = ZoneInfo(synth.operator.time_zone)
    today = synth.now.astimezone(tz).date()
    for k, kind in enumerate(synth.kinds):
        t = kind.type
        policy = t.sla_policy
        sla_kind, interval = "none", None
        if policy is not None and policy.unit == SlaUnit.CALENDAR_HOURS:
            sla_kind, interval = "interval", timedelta(hours=policy.amount)
        elif policy is not None and policy.unit == SlaUnit.CALENDAR_DAYS:
            sla_kind, interval = "interval", timedelta(days=policy.amount)
        elif policy is not None:
            # A business-day deadline depends only on the local day of the contact.
            sla_kind = "table"
            for offset in range(days + 2):
                day = today - timedelta(days=offset)
                noon = datetime.combine(day, datetime.min.time().replace(hour=12), tz)
                dues.append((k, day, kind.due(noon)))
        for status in [kind.default, kind.start, *kind.middle, *kind.closing]:
            if status is not None:
                statuses[status.pk] = (
                    status.pk,
                    status.internal_description,
                    status.visible_in_history,
                    status.closing == Closing.RESOLVED,
                )
        kinds.append(
            (
                k, t.pk, t.protocol_type_id, protocol_period_format(t.protocol_type),
                kind.default.pk, kind.start.pk if kind.start else None,
                [s.pk for s in kind.middle], [s.pk for s in kind.closing], kind.subjects,
                t.functionality_id, t.functionality_description, t.request_template_id,
                t.request_template_description, sla_kind, interval,
            )
        )  # fmt: skip
    return {
        "kind": kinds,
        "status": list(statuses.values()),
        "due": dues,
        "person": [(i, pk, name) for i, (pk, name) in enumerate(synth.people)],
        "cpf": list(enumerate(synth.cpfs, start=1)),
    }


def _helper_setup(cursor: object, plan: _Plan) -> None:
    # Chunks are sorted and held in memory, not in temporary files.
    cursor.execute("SET jit = off")
    cursor.execute("SET work_mem = '64MB'")
    cursor.execute("SET temp_buffers = '256MB'")
    cursor.execute(
        "CREATE TEMP TABLE synth_kind (k int PRIMARY KEY, type_id int, pt_id int,"
        " period_fmt text, default_id int, start_id int, middle int[], closing int[],"
        " subjects int[], func_id text, func_desc text, tmpl_id text, tmpl_desc text,"
        " sla_kind text, sla_interval interval);"
        "CREATE TEMP TABLE synth_status (id int PRIMARY KEY, descr text, vis bool,"
        " resolved bool);"
        "CREATE TEMP TABLE synth_due (k int, day date, due timestamptz, PRIMARY KEY (k, day));"
        "CREATE TEMP TABLE synth_person (i int PRIMARY KEY, id int, name text);"
        "CREATE TEMP TABLE synth_cpf (i int PRIMARY KEY, cpf text);"
        # Numbers a chunk's events as they are staged (a window over them would keep them
        # all in memory first).
        "CREATE TEMP SEQUENCE synth_event_n CACHE 10000"
    )
    catalog = plan.catalog
    cursor.executemany(
        "INSERT INTO synth_kind VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s)",
        catalog["kind"],
    )
    cursor.executemany("INSERT INTO synth_status VALUES (%s, %s, %s, %s)", catalog["status"])
    cursor.executemany("INSERT INTO synth_due VALUES (%s, %s, %s)", catalog["due"])
    cursor.executemany("INSERT INTO synth_person VALUES (%s, %s, %s)", catalog["person"])
    cursor.executemany("INSERT INTO synth_cpf VALUES (%s, %s)", catalog["cpf"])
    cursor.execute("ANALYZE synth_kind, synth_status, synth_due, synth_person, synth_cpf")


def _stage(cursor: object, plan: _Plan, chunk: int, relay: _Relay) -> None:
    """Draw one chunk's stories and stage its finished rows: its events with the ids that
    follow the previous chunk's, its occurrences with the protocols the load reserves for
    them meanwhile."""
    low, high = plan.chunks[chunk]
    cursor.execute("SELECT setseed(%s)", [plan.seeds[chunk]])
    _draw(cursor, plan, low, high)
    cursor.execute(
        "SELECT pt_id, period, min(reg), count(*), sum(events) FROM synth_story"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    )
    groups = cursor.fetchall()
    count = sum(group[4] for group in groups)
    first_event_id = relay.first_event_id(chunk, count)
    relay.drawn(chunk, [group[:4] for group in groups])
    cursor.execute("SELECT setval('synth_event_n', 1, false)")
    staged = _stage_events(cursor, plan, plan.stage(chunk, "ev"), first_event_id)
    if staged != count:
        raise RuntimeError(f"Chunk {chunk} staged {staged} events for {count} steps.")
    _stage_occurrences(cursor, plan, plan.stage(chunk, "occ"), relay.blocks(chunk))
    cursor.execute("DROP TABLE synth_story")


def _create_stage(cursor: object, plan: _Plan, table: str, real: str) -> None:
    """A staging table with the columns of the real table ``real``, in its order."""
    cursor.execute(
        f"CREATE UNLOGGED TABLE {table} ({', '.join(plan.shapes[real])})"
        " WITH (autovacuum_enabled = off)"
    )


def _draw(cursor: object, plan: _Plan, low: int, high: int) -> None:
    """One row per occurrence with every random choice its story needs and what follows
    from them: its path and times, who works it and where, its protocol period and its
    rank there. Occurrence ``n`` of the run is registered in the ``n``-th equal slice of the
    period, so registration times grow with ids without a sort."""
    steps = ", ".join(
        f"(1 + floor(random() * 4320))::int * interval '1 minute' AS s{n}" for n in range(1, 6)
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE synth_story AS
        SELECT q.started, q.has_mid, q.released, q.closed, q.reopened, q.reclosed, q.id,
               q.seq_end, q.reg, q.t1, q.t2, q.t_end, q.t_reopen, q.t_reclose, q.by_person,
               q.creator, q.person, q.boss, q.worker, q.unit, q.default_id, q.start_status,
               q.mid_status, q.status_before_end, q.close1, q.close2, q.reopen_status,
               q.reason_id, q.reason_description,
               -- the events read only what comes before this line
               q.k, q.pick, q.cpf, q.first_name, q.last_name, q.channel, q.type_id, q.pt_id,
               q.subjects, q.func_id, q.func_desc, q.tmpl_id, q.tmpl_desc, q.sla_kind,
               q.sla_interval, q.period, q.events,
               row_number() OVER (PARTITION BY q.pt_id, q.period ORDER BY q.id) AS rank
        FROM (
            SELECT p.*,
                   CASE WHEN p.has_mid THEN p.mid_status ELSE p.start_status END
                       AS status_before_end,
                   CASE WHEN p.has_mid THEN p.t3 ELSE p.t2 END AS t_end,
                   CASE WHEN p.has_mid THEN p.t4 ELSE p.t3 END AS t_reopen,
                   CASE WHEN p.has_mid THEN p.t5 ELSE p.t4 END AS t_reclose,
                   CASE WHEN p.has_mid THEN 4 ELSE 3 END AS seq_end,
                   1 + p.started::int + p.has_mid::int + (p.released OR p.closed)::int
                     + p.reopened::int + p.reclosed::int AS events,
                   to_char(p.reg AT TIME ZONE %(tz)s, p.period_fmt) AS period
            FROM (
                SELECT o.*, kk.type_id, kk.pt_id, kk.period_fmt, kk.default_id, kk.start_id,
                       kk.subjects, kk.func_id, kk.func_desc, kk.tmpl_id, kk.tmpl_desc,
                       kk.sla_kind, kk.sla_interval, w.id AS worker,
                       (%(units)s::int[])[1 + o.pick %% %(unit_count)s] AS unit,
                       (%(reasons)s::int[])[1 + o.pick %% %(reason_count)s] AS reason_id,
                       COALESCE((%(reason_descriptions)s::text[])
                                [1 + o.pick %% %(reason_count)s], '') AS reason_description,
                       o.fate >= 0.15 AS started,
                       o.fate >= 0.15 AND cardinality(kk.middle) > 0 AND o.r_mid < 0.5
                           AS has_mid,
                       o.fate >= 0.35 AND o.fate < 0.5 AS released,
                       o.fate >= 0.5 AS closed,
                       o.fate >= 0.5 AND o.r_reo < 0.05 AS reopened,
                       o.fate >= 0.5 AND o.r_reo < 0.05 AND o.r_rec < 0.5 AS reclosed,
                       COALESCE(kk.start_id, kk.default_id) AS start_status,
                       kk.middle[1 + o.pick %% greatest(cardinality(kk.middle), 1)]
                           AS mid_status,
                       kk.closing[1 + o.pick %% cardinality(kk.closing)] AS close1,
                       kk.closing[1 + (o.pick / 7) %% cardinality(kk.closing)] AS close2,
                       COALESCE(kk.start_id, kk.default_id) AS reopen_status,
                       least(o.reg + o.s1, %(now)s) AS t1,
                       least(o.reg + o.s1 + o.s2, %(now)s) AS t2,
                       least(o.reg + o.s1 + o.s2 + o.s3, %(now)s) AS t3,
                       least(o.reg + o.s1 + o.s2 + o.s3 + o.s4, %(now)s) AS t4,
                       least(o.reg + o.s1 + o.s2 + o.s3 + o.s4 + o.s5, %(now)s) AS t5,
                       o.r_cre < 0.6 AS by_person
                FROM (
                    SELECT %(first_id)s::bigint + g AS id,
                           %(start)s::timestamptz
                             + (g + random()) * %(step)s * interval '1 second' AS reg,
                           floor(random() * %(kinds)s)::int AS k,
                           random() AS fate, random() AS r_mid, random() AS r_reo,
                           random() AS r_rec, random() AS r_cre,
                           floor(random() * 1000000)::int AS pick,
                           floor(random() * %(people)s)::int AS person,
                           floor(random() * %(people)s)::int AS boss,
                           floor(random() * %(people)s)::int AS creator,
                           floor(random() * %(cpfs)s)::int + 1 AS cpf,
                           floor(random() * %(first)s)::int + 1 AS first_name,
                           floor(random() * %(last)s)::int + 1 AS last_name,
                           floor(random() * %(channels)s)::int + 1 AS channel,
                           {steps}
                    FROM generate_series(%(low)s, %(high)s - 1) g
                ) o
                JOIN synth_kind kk USING (k)
                JOIN synth_person w ON w.i = o.person
            ) p
        ) q
        """,  # noqa: S608 - the f-string adds only fixed column expressions
        {
            **plan.values,
            "first_id": plan.first_id,
            "start": plan.start,
            "step": plan.step,
            "kinds": len(plan.catalog["kind"]),
            "people": len(plan.catalog["person"]),
            "cpfs": len(plan.catalog["cpf"]),
            "first": len(plan.values["first"]),
            "last": len(plan.values["last"]),
            "channels": len(plan.values["channels"]),
            "low": low,
            "high": high,
        },
    )


_BLOCK_FIELDS = ("pt_ids", "periods", "heads", "widths", "firsts")


def _stage_occurrences(cursor: object, plan: _Plan, table: str, blocks: list) -> None:
    """The occurrence rows as the real table takes them. Each protocol is its block's head
    and the number its rank in the (protocol type, period) reaches from the block's first."""
    _create_stage(cursor, plan, table, TABLES[0])
    columns = ", ".join(OCCURRENCE_COLUMNS)
    cursor.execute(
        f"""
        INSERT INTO {table} ({columns}) SELECT {columns} FROM (
        SELECT s.id, %(operator)s AS operator_id, %(application)s AS application_id,
               b.head || lpad((b.first + s.rank - 1)::text, b.width, '0') AS protocol,
               s.pt_id AS protocol_type_id, NULL::int AS parent_id,
               s.type_id AS occurrence_type_id,
               s.subjects[1 + s.pick %% greatest(cardinality(s.subjects), 1)] AS subject_id,
               f.status AS status_id, f.state, 2 AS mode,
               (%(channels)s::text[])[s.channel] AS channel,
               CASE WHEN s.by_person THEN %(attendance)s ELSE %(self_service)s END AS nature,
               c.cpf AS requester_identifier, n.name AS requester_name,
               c.cpf AS beneficiary_identifier, n.name AS beneficiary_name,
               lpad((1 + s.pick %% 99999)::text, 7, '0') AS contract_number,
               '' AS contact_email, '' AS contact_phone, '' AS description,
               s.func_id AS functionality_id, s.func_desc AS functionality_description,
               s.tmpl_id AS request_template_id,
               s.tmpl_desc AS request_template_description,
               CASE WHEN s.by_person THEN creator.id END AS created_by_id,
               f.attendant AS attendant_id, s.unit AS unit_id, s.started AS attended,
               s.reg AS registered_at, f.updated_at,
               CASE s.sla_kind WHEN 'interval' THEN s.reg + s.sla_interval
                               WHEN 'table' THEN due.due END AS sla_due_at,
               NULL::timestamptz AS sla_breached_at, f.closed_at, f.outcome_text,
               '' AS outcome_attachment_url, f.reason AS outcome_reason_id, f.resolved,
               NULL::bigint AS duplicate_of_id,
               NULL::int AS classification_id, NULL::int AS procedure_group_id,
               NULL::int AS urgency_id, NULL::int AS sentiment_id, NULL::int AS priority_id,
               '' AS observation, '[]'::jsonb AS guides,
               NULL::timestamptz AS awaiting_since,
               s.events AS version, s.events AS last_seq
        FROM synth_story s
        -- Every story has its block (or the protocol is null, which the staging table
        -- refuses). An inner join on two columns is estimated to keep a few rows of
        -- thousands, and the planner then nests loops over the stories.
        LEFT JOIN unnest(%(pt_ids)s::int[], %(periods)s::text[], %(heads)s::text[],
                         %(widths)s::int[], %(firsts)s::bigint[])
                  b(pt_id, period, head, width, first)
          ON b.pt_id = s.pt_id AND b.period = s.period
        JOIN synth_person creator ON creator.i = s.creator
        JOIN synth_cpf c ON c.i = s.cpf
        LEFT JOIN synth_due due ON due.k = s.k AND due.day = (s.reg AT TIME ZONE %(tz)s)::date
        LEFT JOIN synth_status c1 ON c1.id = s.close1
        LEFT JOIN synth_status c2 ON c2.id = s.close2
        CROSS JOIN LATERAL (SELECT
            (%(first)s::text[])[s.first_name] || ' ' || (%(last)s::text[])[s.last_name]
              AS name) n
        CROSS JOIN LATERAL (SELECT
            CASE WHEN s.reclosed THEN s.close2 WHEN s.reopened THEN s.reopen_status
                 WHEN s.closed THEN s.close1 WHEN s.started THEN s.status_before_end
                 ELSE s.default_id END AS status,
            CASE WHEN s.reclosed OR (s.closed AND NOT s.reopened) THEN %(closed)s
                 WHEN s.reopened OR s.released THEN %(open)s
                 WHEN s.started THEN %(in_attendance)s ELSE %(new)s END AS state,
            CASE WHEN s.reopened OR s.released OR NOT s.started THEN NULL
                 ELSE s.worker END AS attendant,
            CASE WHEN s.reclosed THEN s.t_reclose WHEN s.reopened THEN s.t_reopen
                 WHEN s.closed OR s.released THEN s.t_end
                 WHEN s.has_mid THEN s.t2 WHEN s.started THEN s.t1 ELSE s.reg END AS updated_at,
            CASE WHEN s.reclosed THEN s.t_reclose WHEN s.reopened THEN NULL
                 WHEN s.closed THEN s.t_end END AS closed_at,
            CASE WHEN s.reclosed THEN (CASE WHEN c2.resolved THEN %(yes)s ELSE %(no)s END)
                 WHEN s.reopened THEN ''
                 WHEN s.closed THEN (CASE WHEN c1.resolved THEN %(yes)s ELSE %(no)s END)
                 ELSE '' END AS outcome_text,
            CASE WHEN s.reclosed OR (s.closed AND NOT s.reopened) THEN s.reason_id END
              AS reason,
            CASE WHEN s.reclosed THEN c2.resolved WHEN s.reopened THEN NULL
                 WHEN s.closed THEN c1.resolved END AS resolved
        ) f
        ) x
        """,  # noqa: S608 - the f-string names only the run's staging table and columns
        {
            **plan.values,
            # One array per field of the blocks (pt_id, period, head, width, first).
            **dict(zip(_BLOCK_FIELDS, map(list, zip(*blocks, strict=True)), strict=True)),
        },
    )


def _stage_events(cursor: object, plan: _Plan, table: str, first_id: int) -> int:
    """Every step of every story, in order of occurrence and step and numbered so: the
    load gives them ids in that order, and the primary key and the (occurrence, seq) index
    are built from rows already in order. The steps are sorted narrow, before their
    descriptions are joined. (A filtered pass over the stories per step costs less than
    one pass making every possible step.)"""
    # Which steps the beneficiary's history shows, by the services' rule.
    shown = {
        f"shown_{name}": kind in VISIBLE_KINDS
        for name, kind in [
            ("created", EventKind.CREATED),
            ("started", EventKind.ATTENDANCE_STARTED),
            ("status", EventKind.STATUS_CHANGED),
            ("released", EventKind.RELEASED),
            ("closed", EventKind.CLOSED),
            ("reopened", EventKind.REOPENED),
        ]
    }
    _create_stage(cursor, plan, table, TABLES[1])
    columns = ", ".join(["id", *EVENT_COLUMNS])
    cursor.execute(
        f"""
        INSERT INTO {table} ({columns}) SELECT {columns} FROM (
        SELECT %(first_id)s - 1 + nextval('synth_event_n') AS id, %(operator)s AS operator_id,
               e.id AS occurrence_id, e.seq, e.kind, e.code AS report_code, e.at,
               actor.id AS actor_id, COALESCE(actor.name, '') AS actor_name,
               CASE WHEN actor.id IS NULL THEN %(application)s END AS actor_application_id,
               e.sb AS status_before_id, COALESCE(sb.descr, '') AS status_before_description,
               e.sa AS status_after_id, sa.descr AS status_after_description,
               e.stb AS state_before, e.sta AS state_after, e.ab AS attendant_before_id,
               e.aa AS attendant_after_id, e.unit AS unit_before_id, e.unit AS unit_after_id,
               true AS shows_occurrence, sa.vis AND e.shown AS visible_in_history,
               CASE WHEN e.code = %(closing)s
                    THEN (CASE WHEN sa.resolved THEN %(yes)s ELSE %(no)s END) ELSE ''
               END AS outcome_text,
               '' AS outcome_attachment_url,
               CASE WHEN e.code = %(closing)s THEN e.reason_id END AS outcome_reason_id,
               CASE WHEN e.code = %(closing)s THEN e.reason_description ELSE '' END
                   AS outcome_reason_description,
               CASE WHEN e.code = %(closing)s THEN sa.resolved END AS resolved,
               '{{}}'::jsonb AS payload
        FROM (
            SELECT s.id, 1 AS seq, %(k_created)s AS kind, %(created)s AS code, s.reg AS at,
                   CASE WHEN s.by_person THEN s.creator END AS who,
                   NULL::int AS sb, s.default_id AS sa, NULL::int AS stb, %(new)s AS sta,
                   NULL::int AS ab, NULL::int AS aa, s.unit, s.reason_id,
                   s.reason_description, %(shown_created)s AS shown
            FROM synth_story s
            UNION ALL
            SELECT s.id, 2, %(k_started)s, %(changed)s, s.t1, s.person, s.default_id,
                   s.start_status, %(new)s, %(in_attendance)s, NULL, s.worker, s.unit,
                   s.reason_id, s.reason_description, %(shown_started)s
            FROM synth_story s WHERE s.started
            UNION ALL
            SELECT s.id, 3, %(k_status)s, %(changed)s, s.t2, s.person, s.start_status,
                   s.mid_status, %(in_attendance)s, %(in_attendance)s, s.worker, s.worker,
                   s.unit, s.reason_id, s.reason_description, %(shown_status)s
            FROM synth_story s WHERE s.has_mid
            UNION ALL
            SELECT s.id, s.seq_end, %(k_released)s, %(changed)s, s.t_end, s.person,
                   s.status_before_end, s.status_before_end, %(in_attendance)s, %(open)s,
                   s.worker, NULL, s.unit, s.reason_id, s.reason_description,
                   %(shown_released)s
            FROM synth_story s WHERE s.released
            UNION ALL
            SELECT s.id, s.seq_end, %(k_closed)s, %(closing)s, s.t_end, s.person,
                   s.status_before_end, s.close1, %(in_attendance)s, %(closed)s, s.worker,
                   s.worker, s.unit, s.reason_id, s.reason_description, %(shown_closed)s
            FROM synth_story s WHERE s.closed
            UNION ALL
            SELECT s.id, s.seq_end + 1, %(k_reopened)s, %(changed)s, s.t_reopen, s.boss,
                   s.close1, s.reopen_status, %(closed)s, %(open)s, s.worker, NULL, s.unit,
                   s.reason_id, s.reason_description, %(shown_reopened)s
            FROM synth_story s WHERE s.reopened
            UNION ALL
            SELECT s.id, s.seq_end + 2, %(k_closed)s, %(closing)s, s.t_reclose, s.boss,
                   s.reopen_status, s.close2, %(open)s, %(closed)s, NULL, NULL, s.unit,
                   s.reason_id, s.reason_description, %(shown_closed)s
            FROM synth_story s WHERE s.reclosed
            ORDER BY 1, 2
        ) e
        -- Joined after the sort: each join keeps the order of the sorted steps it probes.
        JOIN synth_status sa ON sa.id = e.sa
        LEFT JOIN synth_status sb ON sb.id = e.sb
        LEFT JOIN synth_person actor ON actor.i = e.who
        ) x
        """,  # noqa: S608 - the f-string names only the run's staging table and columns
        {**plan.values, **shown, "first_id": first_id},
    )
    return cursor.rowcount


def _values(synth: object) -> dict:
    return {
        "operator": synth.operator.pk,
        "application": synth.application.pk,
        "now": synth.now,
        "tz": synth.operator.time_zone,
        "first": synth.first_names,
        "last": synth.last_names,
        "channels": synth.channels,
        "units": synth.units or [None],
        "unit_count": max(len(synth.units), 1),
        "reasons": [pk for pk, _description in synth.reasons] or [None],
        "reason_descriptions": [description for _pk, description in synth.reasons] or [None],
        "reason_count": max(len(synth.reasons), 1),
        "attendance": Nature.ATTENDANCE,
        "self_service": Nature.SELF_SERVICE,
        "new": State.NEW,
        "open": State.OPEN,
        "in_attendance": State.IN_ATTENDANCE,
        "closed": State.CLOSED,
        "created": ReportCode.CREATED,
        "changed": ReportCode.CHANGED,
        "closing": ReportCode.CLOSED,
        "k_created": EventKind.CREATED,
        "k_started": EventKind.ATTENDANCE_STARTED,
        "k_status": EventKind.STATUS_CHANGED,
        "k_released": EventKind.RELEASED,
        "k_closed": EventKind.CLOSED,
        "k_reopened": EventKind.REOPENED,
        "yes": "Solicitação atendida.",
        "no": "Não procede.",
    }
