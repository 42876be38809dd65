"""The occurrence report file (``shared/report-layout.md``, seed 000).

The database composes every line: one query selects the occurrences and their report
events up to the period end, sorts them once into the file's order, windows over each
occurrence's events (next change, last update, state then) and returns the lines already
formatted. Python only copies the bytes to the file, so the writer's memory is one block
whatever the report's size, and its speed is close to what the database alone takes to
produce the rows (``bench/report.py`` prints both).

Most of a line does not depend on the window: that text is made before the sort, where
PostgreSQL's parallel workers share it, and only the dates the window brings (the next
change, the last update) are joined in after it.

Only the date formatting and the quoting differ between PostgreSQL and SQLite; both
dialects are below, side by side, and the same tests run on both databases.
"""

import io
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from django.db import connection as default_connection
from django.db import transaction
from django.db.models import Min

from atende.occurrences.models import Occurrence, ReportCode, State
from atende.occurrences.services import VISIBLE_KINDS
from atende.reports.params import AttendantMovement, ModeFilter, Movement, ReportParams
from atende.tenancy.models import Application

FILE_TYPE = "Relatório ocorrência"
HEADER, FOOTER = "00", "99"
FETCH = 5000
COPY_BLOCK = 1 << 20


def report_write(
    params: ReportParams,
    out: BinaryIO | TextIO,
    *,
    connection: object = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 50_000,
) -> int:
    """Write the whole file to ``out`` (binary, or text with ``newline=""``); returns its
    line count."""
    connection = connection or default_connection
    application = Application.objects.select_related("operator").get(
        pk=params.application_id, operator_id=params.operator_id
    )
    frame = _frame(params, application)
    write = _bytes_writer(out)
    write(frame(HEADER).encode())
    written, reported = 1, 0
    for chunk, lines in report_lines(params, application=application, connection=connection):
        write(chunk)
        written += lines
        if progress is not None and written - reported >= progress_every:
            progress(written)
            reported = written
    write(frame(FOOTER).encode())
    written += 1
    if progress is not None:
        progress(written)
    return written


def _bytes_writer(out: BinaryIO | TextIO) -> Callable[[bytes], object]:
    # The lines come from the database as UTF-8 and go to a file as they are; a text
    # stream (the tests' StringIO) gets them decoded.
    if isinstance(out, io.TextIOBase):
        return lambda data: out.write(data.decode())
    return out.write


def report_lines(
    params: ReportParams, *, application: Application, connection: object = None
) -> Iterator[tuple[bytes, int]]:
    """The 01/02/03 lines in file order, UTF-8: chunks of whole lines and how many lines
    each."""
    connection = connection or default_connection
    outermost = not connection.in_atomic_block
    # One transaction, one snapshot: the first registration read here is that of the data
    # the lines are made of.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        sql, values = report_statement(params, application=application, connection=connection)
        if connection.vendor == "postgresql":
            yield from _copied_lines(cursor, sql, values)
            return
        connection.connection.create_function(
            "atende_report_dt", 2, _sqlite_local_time, deterministic=True
        )
        # SQLite steps through the result as it is read.
        cursor.execute(sql, values)
        while rows := cursor.fetchmany(FETCH):
            yield "".join(f"{row[0]}\n" for row in rows).encode(), len(rows)


def report_statement(
    params: ReportParams, *, application: Application, connection: object
) -> tuple[str, dict]:
    """``report_query`` for the data as ``connection`` sees it now."""
    first_registered = (
        Occurrence.objects.using(connection.alias)
        .filter(operator_id=params.operator_id, application_id=params.application_id)
        .aggregate(first=Min("registered_at"))["first"]
    )
    return report_query(
        params,
        application=application,
        vendor=connection.vendor,
        first_registered=first_registered,
    )


# COPY's binary format: a signature, flags and an empty extension area before the first
# row; each row a field count (1) and the line's length before its bytes; -1 at the end.
# Nothing in a line is escaped, so the bytes are the file's.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_TRAILER = b"\xff\xff"
_ROW_PREFIX = 6


@contextmanager
def report_copy(cursor: object, sql: str, values: dict) -> Iterator[object]:
    """The binary COPY of the report's query as the writer runs it, in a transaction."""
    # Compiling the report's expressions in every parallel worker took about a second and
    # won nothing back.
    cursor.execute("SET LOCAL jit = off")
    with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", values) as copy:
        yield copy


def _copied_lines(cursor: object, sql: str, values: dict) -> Iterator[tuple[bytes, int]]:
    """PostgreSQL streams the result with COPY: no cursor round trips, and the planner
    may use parallel workers (a cursor forbids them)."""
    pending, size = [], 0
    with report_copy(cursor, sql, values) as copy:
        # libpq hands COPY over a row at a time, each row one line: gather them, hand them
        # on in big blocks. A memoryview is tracked by the garbage collector: thousands held
        # at once made it sweep the whole heap again and again (0.8 s a million lines);
        # bytes are not.
        rows = iter(copy)
        first = bytes(next(rows, b""))
        if not first.startswith(_BINARY_HEADER):
            raise ValueError("COPY did not begin with its binary header")
        # The header may come alone or with the first row (or the trailer) after it.
        for row in itertools.chain([first[len(_BINARY_HEADER) :]], rows):
            if len(row) <= len(_BINARY_TRAILER):
                continue  # nothing, or the trailer; the rows are read to the end regardless
            pending.append(bytes(row[_ROW_PREFIX:]))
            size += len(row)
            if size >= COPY_BLOCK:
                yield b"\n".join(pending) + b"\n", len(pending)
                pending, size = [], 0
        if pending:
            yield b"\n".join(pending) + b"\n", len(pending)


def _frame(params: ReportParams, application: Application) -> Callable[[str], str]:
    fields = [
        FILE_TYPE,
        params.start.strftime("%d/%m/%Y 00:00:00"),
        params.end.strftime("%d/%m/%Y 23:59:59"),
        quote(application.bundle),
        str(application.instance),
        str(application.pk),
        str(application.operator_id),
    ]
    return lambda code: ";".join([code, *fields]) + "\n"


def quote(value: str) -> str:
    """RFC 4180 quoting, only where the layout asks for it."""
    if any(c in value for c in ';"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _sqlite_local_time(value: str | None, zone: str) -> str | None:
    # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]"; seconds are cut, never rounded,
    # as PostgreSQL's to_char does.
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(_zone(zone))
    return moment.strftime("%d/%m/%Y %H:%M:%S")


class _Dialect:
    def __init__(self, vendor: str) -> None:
        self.vendor = vendor

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def opt_text(self, expr: str) -> str:
        return f"COALESCE(CAST({expr} AS TEXT), '')"

    def concat(self, exprs: list[str]) -> str:
        # PostgreSQL builds one string in one call; a chain of || copies it at each step.
        if self.vendor == "postgresql":
            return f"concat({', '.join(exprs)})"
        return " || ".join(exprs)

    def join(self, fields: list[str]) -> str:
        # concat_ws would skip a NULL: every field here is COALESCEd or NOT NULL.
        if self.vendor == "postgresql":
            return f"concat_ws(';', {', '.join(fields)})"
        return " || ';' || ".join(fields)

    def needs_quoting(self, expr: str) -> str:
        if self.vendor == "postgresql":
            return f"({expr}) ~ '[;\"\\r\\n]'"
        return (
            f"(instr({expr}, ';') OR instr({expr}, '\"')"
            f" OR instr({expr}, char(10)) OR instr({expr}, char(13)))"
        )

    def quote(self, expr: str) -> str:
        quoted = f"'\"' || replace({expr}, '\"', '\"\"') || '\"'"
        return f"CASE WHEN {self.needs_quoting(expr)} THEN {quoted} ELSE {expr} END"

    def time(self, expr: str) -> str:
        if self.vendor == "postgresql":
            return f"to_char({expr} AT TIME ZONE %(tz)s, 'DD/MM/YYYY HH24:MI:SS')"
        return f"atende_report_dt({expr}, %(tz)s)"

    def second(self, expr: str) -> str:
        """A moment cut to its second (offsets of time zones are whole seconds, so this is
        also the local time's second)."""
        if self.vendor == "postgresql":
            return f"date_trunc('second', {expr})"
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC.
        return f"substr({expr}, 1, 19)"

    def opt_time(self, expr: str) -> str:
        return f"COALESCE({self.time(expr)}, '')"

    @staticmethod
    def flag(expr: str) -> str:
        return f"CASE WHEN {expr} THEN '1' ELSE '0' END"

    @staticmethod
    def opt_flag(expr: str) -> str:
        return f"CASE WHEN {expr} IS NULL THEN '' WHEN {expr} THEN '1' ELSE '0' END"


@dataclass(frozen=True)
class _Text:
    """A free-text field (never NULL): quoted when it holds ; " CR or LF."""

    expr: str


@dataclass(frozen=True)
class _Late:
    """A field known only after the window over the occurrence's events (its next or last
    change): a date, never quoted, read from the windowed row ``x``."""

    expr: str


def _fields(d: _Dialect, fields: list[str | _Text]) -> str:
    # One test over the fields' texts; the quoting expressions run only for the rare
    # line that needs them.
    texts = [f.expr for f in fields if isinstance(f, _Text)]
    plain = d.join([f.expr if isinstance(f, _Text) else f for f in fields])
    if not texts:
        return plain
    quoted = d.join([d.quote(f.expr) if isinstance(f, _Text) else f for f in fields])
    return f"CASE WHEN {d.needs_quoting(d.concat(texts))} THEN {quoted} ELSE {plain} END"


def _pieces(d: _Dialect, *fields: str | _Text | _Late) -> tuple[list[str], list[str]]:
    """A line split at its late fields: the SQL of the text before, between and after them
    (separators included), and of the late fields themselves, so that
    ``pieces[0] + late[0] + pieces[1] + ...`` is the ``;``-joined line."""
    groups: list[list[str | _Text]] = [[]]
    late: list[str] = []
    for each in fields:
        if isinstance(each, _Late):
            late.append(each.expr)
            groups.append([])
        else:
            groups[-1].append(each)
    pieces = []
    for k, group in enumerate(groups):
        parts = [_fields(d, group)] if group else []
        if k > 0:
            parts.insert(0, "';'")
        if k < len(late) and group:
            parts.append("';'")
        pieces.append(d.concat(parts) if len(parts) > 1 else parts[0] if parts else "''")
    return pieces, late


def report_query(
    params: ReportParams,
    *,
    application: Application,
    vendor: str,
    first_registered: datetime | None = None,
) -> tuple[str, dict]:
    """The SQL producing the 01/02/03 lines in order, and its parameters.
    ``first_registered``: the application's first registration, when known."""
    d = _Dialect(vendor)
    first, after = params.bounds(application.operator.time_zone)
    values = {
        "operator": params.operator_id,
        "application": params.application_id,
        "first": _db_time(first, vendor),
        "after": _db_time(after, vendor),
        "tz": application.operator.time_zone,
        "bundle": quote(application.bundle),
        "instance": str(application.instance),
        "attendant": params.attendant_id,
    }
    closed = int(State.CLOSED)
    # "Vem do status atribuído" (seed 000): the flag of the status the occurrence holds
    # after the change. A change of status stored it on its event; a release, a routing or a
    # reassignment keeps the status, whose flag is read from the catalog.
    kinds = ", ".join(f"'{kind}'" for kind in sorted(VISIBLE_KINDS))
    status_visible = (
        f"CASE WHEN e.kind IN ({kinds}) THEN e.visible_in_history ELSE sa.visible_in_history END"
    )
    change_head = [
        "e.report_code",
        _Text("o.protocol"),
        d.opt_text("e.actor_id"),
        _Text("e.actor_name"),
        d.opt_text("e.status_before_id"),
        _Text("e.status_before_description"),
        d.text("e.status_after_id"),
        _Text("e.status_after_description"),
        d.opt_text("e.state_before"),
        d.text("e.state_after"),
    ]
    lines = {
        ReportCode.CREATED: _pieces(
            d,
            "e.report_code",
            _Text("o.protocol"),
            _Text("pt.name"),
            _Text("COALESCE(parent.protocol, '')"),
            d.text("o.occurrence_type_id"),
            _Text("ot.name"),
            d.opt_text("e.actor_id"),
            _Text("e.actor_name"),
            d.opt_text("o.subject_id"),
            _Text("COALESCE(su.name, '')"),
            d.text("e.status_after_id"),
            _Text("e.status_after_description"),
            _Text("o.requester_identifier"),
            _Text("o.requester_name"),
            _Text("o.beneficiary_identifier"),
            _Text("o.beneficiary_name"),
            _Text("o.contract_number"),
            _Text("o.functionality_id"),
            _Text("o.functionality_description"),
            d.time("o.registered_at"),
            _Late("x.last_at_text"),
            d.opt_time("o.sla_due_at"),
            _Late(f"CASE WHEN x.last_state = {closed} THEN x.last_at_text ELSE '' END"),
            _Text("o.request_template_id"),
            _Text("o.request_template_description"),
            "%(bundle)s",
            "%(instance)s",
            d.text("o.mode"),
            d.text("e.state_after"),
            "o.channel",
            d.text("o.nature"),
        ),
        ReportCode.CHANGED: _pieces(
            d,
            *change_head,
            _Late("x.at_text"),
            _Late("COALESCE(x.next_at_text, '')"),
            d.flag("e.shows_occurrence"),
            d.flag(status_visible),
        ),
        ReportCode.CLOSED: _pieces(
            d,
            *change_head,
            _Late("x.at_text"),
            _Late("x.at_text"),
            _Text("e.outcome_text"),
            _Text("e.outcome_attachment_url"),
            d.opt_text("e.outcome_reason_id"),
            _Text("e.outcome_reason_description"),
            d.opt_flag("e.resolved"),
            d.flag("e.shows_occurrence"),
            d.flag(status_visible),
        ),
    }
    # Every windowed row carries as many text pieces as the line with most late fields.
    pieces = [
        _by_code("e.report_code", {c: t[k] for c, (t, _) in lines.items() if k < len(t)})
        for k in range(max(len(t) for t, _ in lines.values()))
    ]
    line = _by_code(
        "x.report_code",
        {
            code: d.concat([p for k in range(len(texts)) for p in [f"x.p{k}", *late[k : k + 1]]])
            for code, (texts, late) in lines.items()
        },
    )
    selection = _selection(
        params, from_first=first_registered is not None and first <= first_registered
    )
    where = "".join(f"\n      AND {clause}" for clause in selection.where)
    aggregates = "".join(
        f",\n        {expr} OVER w AS {name}" for name, expr in selection.window.items()
    )
    after_window = " AND ".join(selection.after)
    # The file's order is dataRegistro as written (to the second), then the protocol.
    registered_second = d.second("o.registered_at")
    # Each event's time is formatted once: for its own line, its predecessor's next change
    # and the 01 line's last update.
    at_text = d.time("e.at")
    # One sort puts the rows in the file's order and the window runs over it. The text
    # pieces are the window's last sort keys, never compared ((at, seq) is unique within an
    # occurrence), so that PostgreSQL formats them below the sort, in its parallel workers;
    # only the late fields are formatted after the window.
    # Assembled from constants, choices and checked integers; every value is a parameter.
    sql = f"""
SELECT {line}
FROM (
    SELECT o.registered_at, {registered_second} AS registered_second, o.protocol, o.id,
        e.at, e.seq, e.report_code,
        {", ".join(f"{piece} AS p{k}" for k, piece in enumerate(pieces))},
        {at_text} AS at_text,
        LEAD({at_text}) OVER w AS next_at_text,
        LAST_VALUE({at_text}) OVER w AS last_at_text,
        LAST_VALUE(e.state_after) OVER w AS last_state{aggregates}
    FROM occurrences_event e
    JOIN occurrences_occurrence o ON o.id = e.occurrence_id
    JOIN catalog_protocoltype pt ON pt.id = o.protocol_type_id
    JOIN catalog_occurrencetype ot ON ot.id = o.occurrence_type_id
    LEFT JOIN catalog_subject su ON su.id = o.subject_id
    JOIN catalog_status sa ON sa.id = e.status_after_id
    LEFT JOIN (
        -- Only the operator's parents: few, found by the parent index, not a hash of
        -- every occurrence.
        SELECT p.id, p.protocol FROM occurrences_occurrence p
        WHERE p.id IN (
            SELECT c.parent_id FROM occurrences_occurrence c
            WHERE c.parent_id IS NOT NULL AND c.operator_id = %(operator)s
        )
    ) parent ON parent.id = o.parent_id
    WHERE o.operator_id = %(operator)s AND o.application_id = %(application)s
      AND o.registered_at < %(after)s {where}
      AND e.report_code <> '' AND e.at < %(after)s
    WINDOW w AS (
            PARTITION BY {registered_second}, o.protocol, o.id
            ORDER BY e.at, e.seq, {", ".join(f"({key})" for key in [*pieces, at_text])}
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        )
) x
{f"WHERE {after_window}" if after_window else ""}
ORDER BY x.registered_second, x.protocol, x.id, x.at, x.seq
"""  # noqa: S608
    return sql, values


def _by_code(column: str, exprs: dict[str, str]) -> str:
    whens = "".join(f" WHEN '{code}' THEN {expr}" for code, expr in exprs.items())
    return f"CASE {column}{whens} END"


@dataclass
class _Selection:
    """The layout's filters: conditions on the occurrence ``o`` before the window, window
    aggregates over its report events, and conditions on the windowed row ``x``."""

    where: list[str] = field(default_factory=list)
    window: dict[str, str] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)


def _selection(params: ReportParams, *, from_first: bool = False) -> _Selection:
    """The filters, ANDed. ``from_first``: the period starts at or before the
    application's first registration."""
    selection = _Selection()
    closed = int(State.CLOSED)

    def events(condition: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM occurrences_event x WHERE x.occurrence_id = o.id"  # noqa: S608
            f" AND x.at >= %(first)s AND x.at < %(after)s AND {condition})"
        )

    def moved(event: str) -> str:
        """The movement type's event, of alias ``event``."""
        return {
            Movement.ALL: f"{event}.report_code <> ''",
            Movement.MOVEMENT: f"{event}.report_code = '{ReportCode.CHANGED}'"
            f" AND {event}.state_after IN ({State.OPEN}, {State.IN_ATTENDANCE})",
            Movement.CLOSED: f"{event}.report_code = '{ReportCode.CLOSED}'",
        }[params.movement]

    if params.include_open_before:
        # Both sides of the OR from the occurrence's own report events in the window, so
        # the plan stays parallel. Closed at the period start: the closings before it
        # outnumber the reopenings (each event starts in the state the one before left, and
        # a closed occurrence changes only by reopening). One now closed since before the
        # start is neither, and is left out before the window.
        selection.where.append(
            "(o.registered_at >= %(first)s OR o.closed_at IS NULL OR o.closed_at >= %(first)s)"
        )
        selection.window["closed_at_start"] = (
            f"sum(CASE WHEN e.at >= %(first)s THEN 0 WHEN e.state_after = {closed} THEN 1"
            " ELSE 0 END"
            f" - CASE WHEN e.at >= %(first)s THEN 0 WHEN e.state_before = {closed} THEN 1"
            " ELSE 0 END)"
        )
        if params.movement == Movement.CREATION:
            period = "x.registered_at >= %(first)s"
        else:
            selection.window["moved"] = (
                f"max(CASE WHEN e.at >= %(first)s AND {moved('e')} THEN 1 ELSE 0 END)"
            )
            period = "x.moved = 1"
        selection.after.append(
            f"({period} OR (x.registered_at < %(first)s AND x.closed_at_start = 0))"
        )
    elif params.movement == Movement.CREATION or (params.movement == Movement.ALL and from_first):
        # An occurrence's creation is a report event at its registration: one registered in
        # the period moved in it, and from the first registration on, that is all of them.
        selection.where.append("o.registered_at >= %(first)s")
    else:
        selection.where.append(events(moved("x")))
    if params.attendant_id is not None:
        selection.where.append(
            {
                AttendantMovement.ALL: events("x.actor_id = %(attendant)s"),
                AttendantMovement.CREATION: events(
                    f"x.report_code = '{ReportCode.CREATED}' AND x.actor_id = %(attendant)s"
                ),
                AttendantMovement.CLOSED: events(
                    f"x.report_code = '{ReportCode.CLOSED}' AND x.actor_id = %(attendant)s"
                ),
            }[params.attendant_movement]
        )
    if params.states:
        # Read per occurrence before the window: it leaves out most rows before they are
        # formatted (faster than filtering on the window's last state, measured).
        selection.where.append(
            "(SELECT x.state_after FROM occurrences_event x WHERE x.occurrence_id = o.id"  # noqa: S608
            f" AND x.at < %(after)s ORDER BY x.at DESC, x.seq DESC LIMIT 1)"
            f" IN ({_int_list(params.states)})"
        )
    if params.type_ids:
        selection.where.append(f"o.occurrence_type_id IN ({_int_list(params.type_ids)})")
    if params.subject_ids:
        selection.where.append(f"o.subject_id IN ({_int_list(params.subject_ids)})")
    modes = ModeFilter(params.mode).modes
    if modes:
        selection.where.append(f"o.mode IN ({_int_list(modes)})")
    return selection


def _int_list(values: tuple[int, ...]) -> str:
    # Checked integers only (ReportParams comes from report_params_clean), never text.
    return ", ".join(str(int(v)) for v in values)


def _db_time(moment: datetime, vendor: str) -> object:
    if vendor == "sqlite":
        # As Django stores them: naive UTC text, compared as text.
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return moment
