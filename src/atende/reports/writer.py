"""The occurrence report file (``shared/report-layout.md``, seed 000).

The database composes every line: one query selects the occurrences, windows over their
report events up to the period end (next change, last update, state then) and returns the
lines already formatted, in the file's order. Python only streams them to the file, so the
writer's memory is one fetch batch whatever the report's size, and its speed is close to
what the database alone takes to produce the rows (``bench/report.py`` prints both).

Only the date formatting and the quoting differ between PostgreSQL and SQLite; both
dialects are below, side by side, and the same tests run on both databases.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TextIO
from zoneinfo import ZoneInfo

from django.db import connection as default_connection

from atende.occurrences.models import ReportCode, State
from atende.reports.params import AttendantMovement, ModeFilter, Movement, ReportParams
from atende.tenancy.models import Application

FILE_TYPE = "Relatório ocorrência"
HEADER, FOOTER = "00", "99"
FETCH = 5000
COPY_BLOCK = 1 << 20


def report_write(
    params: ReportParams,
    out: TextIO,
    *,
    connection: object = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 50_000,
) -> int:
    """Write the whole file to ``out`` (opened with ``newline=""``); returns its line count."""
    connection = connection or default_connection
    application = Application.objects.select_related("operator").get(
        pk=params.application_id, operator_id=params.operator_id
    )
    frame = _frame(params, application)
    out.write(frame(HEADER))
    written, reported = 1, 0
    for chunk, lines in report_lines(params, application=application, connection=connection):
        out.write(chunk)
        written += lines
        if progress is not None and written - reported >= progress_every:
            progress(written)
            reported = written
    out.write(frame(FOOTER))
    written += 1
    if progress is not None:
        progress(written)
    return written


def report_lines(
    params: ReportParams, *, application: Application, connection: object = None
) -> Iterator[tuple[str, int]]:
    """The 01/02/03 lines in file order: chunks of whole lines and how many lines each."""
    connection = connection or default_connection
    sql, values = report_query(params, application=application, vendor=connection.vendor)
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        yield from _copied_lines(connection, sql, values)
        return
    connection.connection.create_function(
        "atende_report_dt", 2, _sqlite_local_time, deterministic=True
    )
    # SQLite steps through the result as it is read; one statement, one snapshot.
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        while rows := cursor.fetchmany(FETCH):
            yield "".join(f"{row[0]}\n" for row in rows), len(rows)


# COPY's text format escapes these in a value; the lines are the values, so undoing the
# escapes gives the lines back byte for byte.
_COPY_ESCAPES = {
    b"\\": b"\\",
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"v": b"\v",
}
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _copy_unescape(data: bytes) -> bytes:
    if b"\\" not in data:
        return data
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), data)


def _whole_lines(rest: bytes, blocks: list) -> tuple[bytes, tuple[str, int] | None]:
    data = rest + b"".join(blocks)
    end = data.rfind(b"\n") + 1
    if not end:
        return data, None
    whole = data[:end]
    return data[end:], (_copy_unescape(whole).decode(), whole.count(b"\n"))


def _copied_lines(connection: object, sql: str, values: dict) -> Iterator[tuple[str, int]]:
    """PostgreSQL streams the result with COPY: no cursor round trips, and the planner
    may use parallel workers (a cursor forbids them). One statement, one snapshot."""
    rest, pending, size = b"", [], 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", values) as copy,
    ):
        # libpq hands COPY over a row at a time: gather rows, handle them in big blocks.
        for block in copy:
            pending.append(block)
            size += len(block)
            if size >= COPY_BLOCK:
                rest, lines = _whole_lines(rest, pending)
                pending, size = [], 0
                if lines:
                    yield lines
        rest, lines = _whole_lines(rest, pending)
        if lines:
            yield lines
    if rest:
        raise ValueError("COPY ended inside a line")


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


def _line(d: _Dialect, *fields: str | _Text) -> str:
    # One test over all the line's texts; the quoting expressions run only for the rare
    # line that needs them.
    texts = d.concat([f.expr for f in fields if isinstance(f, _Text)])
    plain = d.join([f.expr if isinstance(f, _Text) else f for f in fields])
    quoted = d.join([d.quote(f.expr) if isinstance(f, _Text) else f for f in fields])
    return f"CASE WHEN {d.needs_quoting(texts)} THEN {quoted} ELSE {plain} END"


def report_query(
    params: ReportParams, *, application: Application, vendor: str
) -> tuple[str, dict]:
    """The SQL producing the 01/02/03 lines in order, and its parameters."""
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
    created = _line(
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
        d.time("e.last_at"),
        d.opt_time("o.sla_due_at"),
        f"CASE WHEN e.last_state = {closed} THEN {d.time('e.last_at')} ELSE '' END",
        _Text("o.request_template_id"),
        _Text("o.request_template_description"),
        "%(bundle)s",
        "%(instance)s",
        d.text("o.mode"),
        d.text("e.state_after"),
        "o.channel",
        d.text("o.nature"),
    )
    changed = _line(
        d,
        *change_head,
        d.time("e.at"),
        d.opt_time("e.next_at"),
        d.flag("e.shows_occurrence"),
        d.flag("e.visible_in_history"),
    )
    closing = _line(
        d,
        *change_head,
        d.time("e.at"),
        d.time("e.at"),
        _Text("e.outcome_text"),
        _Text("e.outcome_attachment_url"),
        d.opt_text("e.outcome_reason_id"),
        _Text("e.outcome_reason_description"),
        d.opt_flag("e.resolved"),
        d.flag("e.shows_occurrence"),
        d.flag("e.visible_in_history"),
    )
    where, more = _selection(params)
    values.update(more)
    # Assembled from constants, choices and checked integers; every value is a parameter.
    sql = f"""
WITH sel AS (
    SELECT o.id FROM occurrences_occurrence o
    WHERE o.operator_id = %(operator)s AND o.application_id = %(application)s
      AND o.registered_at < %(after)s {where}
),
ev AS (
    SELECT e.*,
        LEAD(e.at) OVER w AS next_at,
        LAST_VALUE(e.at) OVER whole AS last_at,
        LAST_VALUE(e.state_after) OVER whole AS last_state
    FROM occurrences_event e JOIN sel ON sel.id = e.occurrence_id
    WHERE e.report_code <> '' AND e.at < %(after)s
    WINDOW w AS (PARTITION BY e.occurrence_id ORDER BY e.at, e.seq),
        whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
SELECT CASE e.report_code
        WHEN '{ReportCode.CREATED}' THEN {created}
        WHEN '{ReportCode.CHANGED}' THEN {changed}
        ELSE {closing}
    END
FROM ev e
JOIN occurrences_occurrence o ON o.id = e.occurrence_id
JOIN catalog_protocoltype pt ON pt.id = o.protocol_type_id
JOIN catalog_occurrencetype ot ON ot.id = o.occurrence_type_id
LEFT JOIN catalog_subject su ON su.id = o.subject_id
LEFT JOIN occurrences_occurrence parent ON parent.id = o.parent_id
ORDER BY o.registered_at, o.protocol, o.id, e.at, e.seq
"""  # noqa: S608
    return sql, values


def _selection(params: ReportParams) -> tuple[str, dict]:
    """The layout's filters, ANDed, as conditions on the occurrence ``o``."""
    values: dict = {}
    clauses: list[str] = []

    def events(condition: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM occurrences_event x WHERE x.occurrence_id = o.id"  # noqa: S608
            f" AND x.at >= %(first)s AND x.at < %(after)s AND {condition})"
        )

    def state_before(bound: str) -> str:
        return (
            "(SELECT x.state_after FROM occurrences_event x WHERE x.occurrence_id = o.id"  # noqa: S608
            f" AND x.at < {bound} ORDER BY x.at DESC, x.seq DESC LIMIT 1)"
        )

    period = {
        Movement.ALL: events("x.report_code <> ''"),
        Movement.CREATION: "o.registered_at >= %(first)s",
        Movement.MOVEMENT: events(
            f"x.report_code = '{ReportCode.CHANGED}'"
            f" AND x.state_after IN ({State.OPEN}, {State.IN_ATTENDANCE})"
        ),
        Movement.CLOSED: events(f"x.report_code = '{ReportCode.CLOSED}'"),
    }[params.movement]
    if params.include_open_before:
        period = (
            f"({period} OR (o.registered_at < %(first)s"
            f" AND {state_before('%(first)s')} <> {State.CLOSED}))"
        )
    clauses.append(period)
    if params.attendant_id is not None:
        clauses.append(
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
        clauses.append(f"{state_before('%(after)s')} IN ({_int_list(params.states)})")
    if params.type_ids:
        clauses.append(f"o.occurrence_type_id IN ({_int_list(params.type_ids)})")
    if params.subject_ids:
        clauses.append(f"o.subject_id IN ({_int_list(params.subject_ids)})")
    modes = ModeFilter(params.mode).modes
    if modes:
        clauses.append(f"o.mode IN ({_int_list(modes)})")
    return "".join(f"\n      AND {clause}" for clause in clauses), values


def _int_list(values: tuple[int, ...]) -> str:
    # Checked integers only (ReportParams comes from report_params_clean), never text.
    return ", ".join(str(int(v)) for v in values)


def _db_time(moment: datetime, vendor: str) -> object:
    if vendor == "sqlite":
        # As Django stores them: naive UTC text, compared as text.
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return moment
