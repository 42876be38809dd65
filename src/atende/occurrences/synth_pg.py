"""The synthetic generator on PostgreSQL, set-based: the database draws the random stories
and writes occurrences and events with a few INSERT … SELECT statements, so nothing goes
row by row through Python. It tells the same stories as ``Synthesizer._story`` (create;
start attendance; maybe a status change; stay, release, or close; rarely reopen and close
again), reserves protocols from the real sequences, and its rows replay exactly — the
synth test checks it on PostgreSQL.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from atende.catalog.models import SlaUnit
from atende.catalog.protocols import protocol_period_format, protocol_reserve
from atende.occurrences.models import EventKind, Nature, ReportCode, State

# Occurrences per transaction: bounds the temporary tables and the transaction's size.
CHUNK = 250_000


def supported(synth: object) -> bool:
    """Business-hours deadlines depend on the time of day; those types use Python."""
    return connection.vendor == "postgresql" and all(
        kind.type.sla_policy is None or kind.type.sla_policy.unit != SlaUnit.BUSINESS_HOURS
        for kind in synth.kinds
    )


TEMP_TABLES = (
    "synth_kind, synth_status, synth_due, synth_person, synth_reason, synth_occ,"
    " synth_block, synth_protocol, synth_story"
)
TABLES = ["occurrences_occurrence", "occurrences_event"]
# Below this many rows a rebuild of the indexes costs more than keeping them up row by row.
DEFER_INDEXES_FROM = 100_000


def generate(synth: object, count: int, days: int) -> None:
    with connection.cursor() as cursor:
        # The planner's cost of these statements asks for JIT, whose compilation took half
        # a second of each 250,000 occurrences and won nothing back.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT setseed(%s)", [(synth.rng.random() * 2) - 1])
        _catalog(cursor, synth, days)
        _draw(cursor, synth, count, days)
        _protocols(cursor, synth)
        _story(cursor, synth)
        _insert_occurrences(cursor, synth)
        _insert_events(cursor, synth)
        # Several chunks may share one transaction (see indexes_deferred).
        cursor.execute(f"DROP TABLE {TEMP_TABLES}")


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
    """Inside the caller's transaction: drop the secondary indexes of occurrences and events
    (not those of primary keys and unique constraints), and build them again at the end.
    The tables are locked meanwhile — a benchmark tool's load, never production. An error
    rolls the drops back with everything else."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = ANY(%s::regclass[])"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY c.relname",
            [TABLES],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at the commit; PostgreSQL builds no index on a
        # table with checks still pending, so they run now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def _catalog(cursor: object, synth: object, days: int) -> None:
    cursor.execute(
        "CREATE TEMP TABLE synth_kind (k int, type_id int, pt_id int, period_fmt text,"
        " default_id int, start_id int, middle int[], closing int[], subjects int[],"
        " func_id text, func_desc text, tmpl_id text, tmpl_desc text,"
        " sla_kind text, sla_interval interval) ON COMMIT DROP;"
        "CREATE TEMP TABLE synth_status (id int PRIMARY KEY, descr text, vis bool,"
        " resolved bool) ON COMMIT DROP;"
        "CREATE TEMP TABLE synth_due (k int, day date, due timestamptz,"
        " PRIMARY KEY (k, day)) ON COMMIT DROP;"
        "CREATE TEMP TABLE synth_person (i int PRIMARY KEY, id int, name text) ON COMMIT DROP;"
        "CREATE TEMP TABLE synth_reason (i int PRIMARY KEY, id int, description text)"
        " ON COMMIT DROP"
    )
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
                    status.closing == "resolved",
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
    cursor.executemany(
        "INSERT INTO synth_kind VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s)",
        kinds,
    )
    cursor.executemany("INSERT INTO synth_status VALUES (%s, %s, %s, %s)", statuses.values())
    if dues:
        cursor.executemany("INSERT INTO synth_due VALUES (%s, %s, %s)", dues)
    cursor.executemany(
        "INSERT INTO synth_person VALUES (%s, %s, %s)",
        [(i, pk, name) for i, (pk, name) in enumerate(synth.people)],
    )
    if synth.reasons:
        cursor.executemany(
            "INSERT INTO synth_reason VALUES (%s, %s, %s)",
            [(i, pk, description) for i, (pk, description) in enumerate(synth.reasons)],
        )


def _draw(cursor: object, synth: object, count: int, days: int) -> None:
    """One row per occurrence with every random choice its story needs, in time order (so
    ids grow with registration time, as in use)."""
    steps = ", ".join(
        f"(1 + floor(random() * 4320))::int * interval '1 minute' AS s{n}" for n in range(1, 6)
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE synth_occ ON COMMIT DROP AS
        SELECT nextval(pg_get_serial_sequence('occurrences_occurrence', 'id')) AS id, d.*
        FROM (
            SELECT %(now)s::timestamptz
                     - (3600 + random() * (%(span)s - 3600)) * interval '1 second' AS reg,
                   floor(random() * %(kinds)s)::int AS k,
                   random() AS fate, random() AS r_mid, random() AS r_reo, random() AS r_rec,
                   random() AS r_cre, floor(random() * 1000000)::int AS pick,
                   floor(random() * %(people)s)::int AS person,
                   floor(random() * %(people)s)::int AS boss,
                   floor(random() * %(people)s)::int AS creator,
                   floor(random() * %(cpfs)s)::int + 1 AS cpf,
                   floor(random() * %(first)s)::int + 1 AS first_name,
                   floor(random() * %(last)s)::int + 1 AS last_name,
                   floor(random() * %(channels)s)::int + 1 AS channel,
                   {steps}
            FROM generate_series(1, %(count)s)
            ORDER BY 1
        ) d
        """,  # noqa: S608 - the f-string adds only fixed column expressions
        {
            "now": synth.now,
            "span": int(timedelta(days=days).total_seconds()),
            "kinds": len(synth.kinds),
            "people": len(synth.people),
            "cpfs": len(synth.cpfs),
            "first": len(synth.first_names),
            "last": len(synth.last_names),
            "channels": len(synth.channels),
            "count": count,
        },
    )


def _protocols(cursor: object, synth: object) -> None:
    """Reserve one block per (protocol type, period) from the real sequences."""
    tz = synth.operator.time_zone
    cursor.execute(
        "SELECT kk.pt_id, kk.period_fmt, to_char(o.reg AT TIME ZONE %s, kk.period_fmt),"
        " min(o.reg), count(*) FROM synth_occ o JOIN synth_kind kk USING (k)"
        " GROUP BY 1, 2, 3 ORDER BY 1, 3",
        [tz],
    )
    groups = cursor.fetchall()
    types = {kind.type.protocol_type_id: kind.type.protocol_type for kind in synth.kinds}
    blocks = []
    for pt_id, _fmt, period, first_at, n in groups:
        head, width, first = protocol_reserve(protocol_type=types[pt_id], at=first_at, count=n)
        blocks.append((pt_id, period, head, width, first))
    cursor.execute(
        "CREATE TEMP TABLE synth_block (pt_id int, period text, head text, width int,"
        " first bigint, PRIMARY KEY (pt_id, period)) ON COMMIT DROP"
    )
    cursor.executemany("INSERT INTO synth_block VALUES (%s, %s, %s, %s, %s)", blocks)
    cursor.execute(
        """
        CREATE TEMP TABLE synth_protocol ON COMMIT DROP AS
        SELECT o.id, b.head || lpad((b.first - 1 + row_number() OVER (
                   PARTITION BY b.pt_id, b.period ORDER BY o.reg, o.id))::text, b.width, '0')
               AS protocol
        FROM synth_occ o
        JOIN synth_kind kk USING (k)
        JOIN synth_block b
          ON b.pt_id = kk.pt_id AND b.period = to_char(o.reg AT TIME ZONE %s, kk.period_fmt)
        """,
        [tz],
    )


def _story(cursor: object, synth: object) -> None:
    """Each occurrence's path and times, as ``Synthesizer._story`` draws them, with who
    works it and where: one table the inserts read without joining anything else."""
    cursor.execute(
        """
        CREATE TEMP TABLE synth_story ON COMMIT DROP AS
        SELECT p.*,
               CASE WHEN p.has_mid THEN p.mid_status ELSE p.start_status END
                   AS status_before_end,
               CASE WHEN p.has_mid THEN p.t3 ELSE p.t2 END AS t_end,
               CASE WHEN p.has_mid THEN p.t4 ELSE p.t3 END AS t_reopen,
               CASE WHEN p.has_mid THEN p.t5 ELSE p.t4 END AS t_reclose,
               CASE WHEN p.has_mid THEN 4 ELSE 3 END AS seq_end
        FROM (
            SELECT o.*, kk.type_id, kk.pt_id, kk.default_id, kk.start_id, kk.middle,
                   kk.closing, kk.subjects, kk.func_id, kk.func_desc, kk.tmpl_id,
                   kk.tmpl_desc, kk.sla_kind, kk.sla_interval,
                   w.id AS worker, (%(units)s::int[])[1 + o.pick %% %(unit_count)s] AS unit,
                   o.fate >= 0.15 AS started,
                   o.fate >= 0.15 AND cardinality(kk.middle) > 0 AND o.r_mid < 0.5 AS has_mid,
                   o.fate >= 0.35 AND o.fate < 0.5 AS released,
                   o.fate >= 0.5 AS closed,
                   o.fate >= 0.5 AND o.r_reo < 0.05 AS reopened,
                   o.fate >= 0.5 AND o.r_reo < 0.05 AND o.r_rec < 0.5 AS reclosed,
                   COALESCE(kk.start_id, kk.default_id) AS start_status,
                   kk.middle[1 + o.pick %% greatest(cardinality(kk.middle), 1)] AS mid_status,
                   kk.closing[1 + o.pick %% cardinality(kk.closing)] AS close1,
                   kk.closing[1 + (o.pick / 7) %% cardinality(kk.closing)] AS close2,
                   COALESCE(kk.start_id, kk.default_id) AS reopen_status,
                   least(o.reg + o.s1, %(now)s) AS t1,
                   least(o.reg + o.s1 + o.s2, %(now)s) AS t2,
                   least(o.reg + o.s1 + o.s2 + o.s3, %(now)s) AS t3,
                   least(o.reg + o.s1 + o.s2 + o.s3 + o.s4, %(now)s) AS t4,
                   least(o.reg + o.s1 + o.s2 + o.s3 + o.s4 + o.s5, %(now)s) AS t5,
                   o.r_cre < 0.6 AS by_person
            FROM synth_occ o
            JOIN synth_kind kk USING (k)
            JOIN synth_person w ON w.i = o.person
        ) p
        """,
        {"now": synth.now, **_values(synth)},
    )


def _insert_occurrences(cursor: object, synth: object) -> None:
    cursor.execute(
        """
        INSERT INTO occurrences_occurrence (
            id, operator_id, application_id, protocol, protocol_type_id, parent_id,
            occurrence_type_id, subject_id, status_id, state, mode, channel, nature,
            requester_identifier, requester_name, beneficiary_identifier, beneficiary_name,
            contract_number, description, functionality_id, functionality_description,
            request_template_id, request_template_description, created_by_id, attendant_id,
            unit_id, attended, registered_at, updated_at, sla_due_at, sla_breached_at,
            closed_at, outcome_text, outcome_attachment_url, outcome_reason_id, resolved,
            version, last_seq)
        SELECT s.id, %(operator)s, %(application)s, p.protocol, s.pt_id, NULL, s.type_id,
               s.subjects[1 + s.pick %% greatest(cardinality(s.subjects), 1)],
               f.status, f.state, 2, (%(channels)s::text[])[s.channel],
               CASE WHEN s.by_person THEN %(attendance)s ELSE %(self_service)s END,
               (%(cpfs)s::text[])[s.cpf],
               (%(first)s::text[])[s.first_name] || ' ' || (%(last)s::text[])[s.last_name],
               (%(cpfs)s::text[])[s.cpf],
               (%(first)s::text[])[s.first_name] || ' ' || (%(last)s::text[])[s.last_name],
               lpad((1 + s.pick %% 99999)::text, 7, '0'), '', s.func_id, s.func_desc,
               s.tmpl_id, s.tmpl_desc, CASE WHEN s.by_person THEN creator.id END,
               f.attendant, s.unit, s.started,
               s.reg, f.updated_at,
               CASE s.sla_kind WHEN 'interval' THEN s.reg + s.sla_interval
                               WHEN 'table' THEN due.due END,
               NULL, f.closed_at, f.outcome_text, '', f.reason, f.resolved, f.events, f.events
        FROM synth_story s
        JOIN synth_protocol p USING (id)
        JOIN synth_person creator ON creator.i = s.creator
        LEFT JOIN synth_due due ON due.k = s.k AND due.day = (s.reg AT TIME ZONE %(tz)s)::date
        LEFT JOIN synth_status c1 ON c1.id = s.close1
        LEFT JOIN synth_status c2 ON c2.id = s.close2
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
            CASE WHEN s.reclosed OR (s.closed AND NOT s.reopened)
                 THEN (%(reasons)s::int[])[1 + s.pick %% %(reason_count)s] END AS reason,
            CASE WHEN s.reclosed THEN c2.resolved WHEN s.reopened THEN NULL
                 WHEN s.closed THEN c1.resolved END AS resolved,
            1 + s.started::int + s.has_mid::int + (s.released OR s.closed)::int
              + s.reopened::int + s.reclosed::int AS events
        ) f
        """,
        _values(synth),
    )


def _insert_events(cursor: object, synth: object) -> None:
    """Every step of every story, in one statement; descriptions joined from the catalog."""
    visible = list(
        str(k)
        for k in (
            EventKind.CREATED,
            EventKind.ATTENDANCE_STARTED,
            EventKind.STATUS_CHANGED,
            EventKind.CLOSED,
            EventKind.REOPENED,
        )
    )
    cursor.execute(
        """
        INSERT INTO occurrences_event (
            operator_id, occurrence_id, seq, kind, report_code, at, actor_id, actor_name,
            actor_application_id, status_before_id, status_before_description,
            status_after_id, status_after_description, state_before, state_after,
            attendant_before_id, attendant_after_id, unit_before_id, unit_after_id,
            shows_occurrence, visible_in_history, outcome_text, outcome_attachment_url,
            outcome_reason_id, outcome_reason_description, resolved, payload)
        SELECT %(operator)s, e.id, e.seq, e.kind, e.code, e.at, actor.id,
               COALESCE(actor.name, ''), CASE WHEN actor.id IS NULL THEN %(application)s END,
               e.sb, COALESCE(sb.descr, ''), e.sa, sa.descr, e.stb, e.sta, e.ab, e.aa,
               e.unit, e.unit, true, sa.vis AND e.kind = ANY(%(visible)s),
               CASE WHEN e.code = %(closing)s
                    THEN (CASE WHEN sa.resolved THEN %(yes)s ELSE %(no)s END) ELSE '' END,
               '', CASE WHEN e.code = %(closing)s THEN r.id END,
               CASE WHEN e.code = %(closing)s THEN r.description ELSE '' END,
               CASE WHEN e.code = %(closing)s THEN sa.resolved END, '{}'::jsonb
        FROM (
            SELECT s.id, 1 AS seq, %(k_created)s AS kind, %(created)s AS code, s.reg AS at,
                   CASE WHEN s.by_person THEN s.creator END AS who,
                   NULL::int AS sb, s.default_id AS sa, NULL::int AS stb, %(new)s AS sta,
                   NULL::int AS ab, NULL::int AS aa, s.pick, s.unit
            FROM synth_story s
            UNION ALL
            SELECT s.id, 2, %(k_started)s, %(changed)s, s.t1, s.person, s.default_id,
                   s.start_status, %(new)s, %(in_attendance)s, NULL, s.worker, s.pick, s.unit
            FROM synth_story s WHERE s.started
            UNION ALL
            SELECT s.id, 3, %(k_status)s, %(changed)s, s.t2, s.person, s.start_status,
                   s.mid_status, %(in_attendance)s, %(in_attendance)s, s.worker, s.worker,
                   s.pick, s.unit
            FROM synth_story s WHERE s.has_mid
            UNION ALL
            SELECT s.id, s.seq_end, %(k_released)s, %(changed)s, s.t_end, s.person,
                   s.status_before_end, s.status_before_end, %(in_attendance)s, %(open)s,
                   s.worker, NULL, s.pick, s.unit
            FROM synth_story s WHERE s.released
            UNION ALL
            SELECT s.id, s.seq_end, %(k_closed)s, %(closing)s, s.t_end, s.person,
                   s.status_before_end, s.close1, %(in_attendance)s, %(closed)s, s.worker,
                   s.worker, s.pick, s.unit
            FROM synth_story s WHERE s.closed
            UNION ALL
            SELECT s.id, s.seq_end + 1, %(k_reopened)s, %(changed)s, s.t_reopen, s.boss,
                   s.close1, s.reopen_status, %(closed)s, %(open)s, s.worker, NULL, s.pick,
                   s.unit
            FROM synth_story s WHERE s.reopened
            UNION ALL
            SELECT s.id, s.seq_end + 2, %(k_closed)s, %(closing)s, s.t_reclose, s.boss,
                   s.reopen_status, s.close2, %(open)s, %(closed)s, NULL, NULL,
                   s.pick, s.unit
            FROM synth_story s WHERE s.reclosed
        ) e
        JOIN synth_status sa ON sa.id = e.sa
        LEFT JOIN synth_status sb ON sb.id = e.sb
        LEFT JOIN synth_person actor ON actor.i = e.who
        LEFT JOIN synth_reason r ON r.i = e.pick %% %(reason_count)s
        """,
        {**_values(synth), "visible": visible},
    )


def _values(synth: object) -> dict:
    return {
        "operator": synth.operator.pk,
        "application": synth.application.pk,
        "tz": synth.operator.time_zone,
        "cpfs": synth.cpfs,
        "first": synth.first_names,
        "last": synth.last_names,
        "channels": synth.channels,
        "units": synth.units or [None],
        "unit_count": max(len(synth.units), 1),
        "reasons": [pk for pk, _d in synth.reasons] or [None],
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
