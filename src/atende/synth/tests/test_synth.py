import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum

from atende.accounts.models import User
from atende.catalog.models import Closing, ProtocolSequence, Status
from atende.occurrences.history import occurrence_replay
from atende.occurrences.models import Event, Occurrence
from atende.occurrences.services import VISIBLE_KINDS
from atende.synth import occurrences_pg as synth_pg
from atende.synth.occurrences import Synthesizer, synth_target
from atende.testing.owner import database_owner

# synth rebuilds indexes, which only the tables' owner may: it runs as the owner, in tests
# of their own transactions (the owner cannot join the runtime role's).
pytestmark = pytest.mark.django_db(transaction=True)
pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk path")


@pytest.fixture(autouse=True)
def _as_owner():
    with database_owner():
        yield


# The indexes whose keys end with the id, stored without B-tree deduplication.
QUEUE_INDEXES = {"occ_queue", "occ_state", "occ_attendant"}


def test_synthetic_occurrences_agree_with_their_events_and_have_unique_protocols():
    operator, application = synth_target(seed=7)
    synthesizer = Synthesizer(operator=operator, application=application, seed=7)
    # On PostgreSQL the set-based generator runs; on SQLite the Python one.
    assert synth_pg.supported(synthesizer) == (connection.vendor == "postgresql")
    out = io.StringIO()
    call_command("synth", "--occurrences", "400", "--seed", "7", stdout=out)
    assert "400 occurrences" in out.getvalue()
    occurrences = list(Occurrence.objects.all())
    assert len(occurrences) == 400
    assert len({o.protocol for o in occurrences}) == 400
    assert {o.state for o in occurrences} == {1, 2, 3, 4}
    events = {}
    for event in Event.objects.order_by("occurrence_id", "seq"):
        events.setdefault(event.occurrence_id, []).append(event)
    for occurrence in occurrences:
        replayed = occurrence_replay(events[occurrence.pk])
        assert (replayed.state, replayed.status_id) == (occurrence.state, occurrence.status_id)
        assert replayed.attendant_id == occurrence.attendant_id
        assert replayed.closed_at == occurrence.closed_at
        assert replayed.updated_at == occurrence.updated_at
        assert replayed.last_seq == occurrence.last_seq == occurrence.version
        assert events[occurrence.pk][0].report_code == "01"
        assert [e.seq for e in events[occurrence.pk]] == list(range(1, occurrence.last_seq + 1))
        closing = [e for e in events[occurrence.pk] if e.report_code == "03"]
        if occurrence.state == 4:
            assert closing[-1].outcome_text == occurrence.outcome_text
            assert closing[-1].outcome_reason_id == occurrence.outcome_reason_id
            assert closing[-1].resolved == occurrence.resolved
    # What the events copy from the catalog and the people is what the services would write.
    statuses = {s.pk: s for s in Status.objects.filter(occurrence_type__operator=operator)}
    names = {u.pk: u.full_name or u.email for u in User.objects.all()}
    for event in (e for history in events.values() for e in history):
        after = statuses[event.status_after_id]
        assert event.status_after_description == after.internal_description
        assert event.status_before_description == (
            statuses[event.status_before_id].internal_description if event.seq > 1 else ""
        )
        assert event.visible_in_history == (
            after.visible_in_history and event.kind in VISIBLE_KINDS
        )
        assert event.actor_name == (names[event.actor_id] if event.actor_id else "")
        assert (event.actor_application_id is None) == (event.actor_id is not None)
        if event.report_code == "03":
            assert event.resolved == (after.closing == Closing.RESOLVED)
            assert event.outcome_reason_description == (
                event.outcome_reason.description if event.outcome_reason_id else ""
            )


def test_synthetic_protocols_continue_the_real_sequence(catalog_a, app_a, attendant_a):
    from atende.catalog.presets import REIMBURSEMENT
    from atende.testing.occurrences import new_occurrence

    call_command(
        "synth",
        "--occurrences",
        "50",
        "--days",
        "1",
        "--operator",
        str(app_a.operator_id),
        stdout=io.StringIO(),
    )
    issued = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    assert not Occurrence.objects.exclude(pk=issued.pk).filter(protocol=issued.protocol).exists()


def _schema() -> set[tuple[str, ...]]:
    """The indexes of occurrences and events, and every constraint on them or pointing at
    them, as PostgreSQL would write them again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [synth_pg.TABLES],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid),"
            " convalidated::text FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[])",
            [synth_pg.TABLES, synth_pg.TABLES],
        )
        return set(indexes) | set(cursor.fetchall())


def _without_deduplication() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE 'deduplicate_items=off' = ANY(reloptions)"
        )
        return {name for (name,) in cursor.fetchall()}


@pg_only
def test_the_queue_indexes_whose_keys_never_repeat_do_not_deduplicate():
    assert _without_deduplication() == QUEUE_INDEXES


def _stage_tables() -> set[str]:
    """The staging tables in the database. Those of earlier tests may be there: a test's
    rollback takes back the drops its loads made."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'synth\\_stage\\_%%'")
        return {name for (name,) in cursor.fetchall()}


def _several_chunks(monkeypatch) -> None:
    monkeypatch.setattr(synth_pg, "FIRST_CHUNK", 50)
    monkeypatch.setattr(synth_pg, "CHUNK", 150)


@pg_only
def test_a_large_load_builds_the_indexes_once_and_leaves_the_schema_as_it_was(monkeypatch):
    monkeypatch.setattr(synth_pg, "DEFER_INDEXES_FROM", 100)
    _several_chunks(monkeypatch)
    before, staged = _schema(), _stage_tables()
    operator, application = synth_target(seed=3)
    synthesizer = Synthesizer(operator=operator, application=application, seed=3)
    assert synth_pg.indexes_worth_deferring(400)
    assert synthesizer.run(400, days=30) == 400
    assert _schema() == before
    assert _stage_tables() <= staged
    # Rebuilt as they were, storage parameters included.
    assert _without_deduplication() == QUEUE_INDEXES
    assert Occurrence.objects.count() == 400
    protocols = list(Occurrence.objects.values_list("protocol", flat=True))
    assert len(set(protocols)) == 400
    assert Event.objects.filter(seq=1, report_code="01").count() == 400


@pg_only
def test_ids_and_protocol_numbers_follow_registration_time_across_chunks(monkeypatch):
    _several_chunks(monkeypatch)
    operator, application = synth_target(seed=5)
    Synthesizer(operator=operator, application=application, seed=5).run(400, days=3)
    rows = list(Occurrence.objects.order_by("pk").values_list("pk", "registered_at", "protocol"))
    assert [pk for pk, _at, _protocol in rows] == list(range(rows[0][0], rows[0][0] + 400))
    assert [at for _pk, at, _protocol in rows] == sorted(at for _pk, at, _protocol in rows)
    tz = ZoneInfo(operator.time_zone)
    days = {}
    for _pk, at, protocol in rows:
        # Padrão ANS: registration, the local day of the registration, a daily sequence.
        assert protocol[:6] == operator.ans_registration
        assert protocol[6:14] == at.astimezone(tz).strftime("%Y%m%d")
        days.setdefault(protocol[6:14], []).append(int(protocol[14:]))
    for numbers in days.values():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    events = list(Event.objects.order_by("pk").values_list("pk", "occurrence_id", "seq"))
    # Event ids follow the occurrence and its steps, with no gap between chunks.
    assert [(o, seq) for _pk, o, seq in events] == sorted((o, seq) for _pk, o, seq in events)
    assert [pk for pk, _o, _seq in events] == list(range(events[0][0], events[0][0] + len(events)))
    assert len(events) == Occurrence.objects.aggregate(n=Sum("last_seq"))["n"]


@pg_only
def test_events_written_after_a_load_take_the_ids_that_follow_it(monkeypatch):
    from atende.catalog.models import OccurrenceType
    from atende.testing.occurrences import new_occurrence

    _several_chunks(monkeypatch)
    operator, application = synth_target(seed=8)
    synthesizer = Synthesizer(operator=operator, application=application, seed=8)
    assert synth_pg.supported(synthesizer)
    synthesizer.run(400, days=3)
    last = Event.objects.order_by("-pk").values_list("pk", flat=True)[0]
    issued = new_occurrence(
        user=User.objects.get(email="atendente1@synth.atende"),
        application=application,
        occurrence_type=OccurrenceType.objects.filter(operator=operator).first(),
    )
    assert list(Event.objects.filter(occurrence=issued).values_list("pk", flat=True)) == [last + 1]


@pg_only
def test_a_failed_load_leaves_no_row_no_protocol_and_no_staging_table(monkeypatch):
    monkeypatch.setattr(synth_pg, "DEFER_INDEXES_FROM", 100)
    _several_chunks(monkeypatch)
    operator, application = synth_target(seed=9)
    synthesizer = Synthesizer(operator=operator, application=application, seed=9)
    before, staged = _schema(), _stage_tables()
    sequences = list(ProtocolSequence.objects.values_list("period", "last_value"))
    stage = synth_pg._stage

    def stage_until_the_third_chunk(cursor, plan, chunk, relay):
        if chunk == 2:
            raise RuntimeError("helper lost")
        stage(cursor, plan, chunk, relay)

    monkeypatch.setattr(synth_pg, "_stage", stage_until_the_third_chunk)
    with pytest.raises(RuntimeError, match="helper lost"):
        synthesizer.run(400, days=30)
    assert Occurrence.objects.count() == Event.objects.count() == 0
    assert list(ProtocolSequence.objects.values_list("period", "last_value")) == sequences
    assert _schema() == before
    assert _stage_tables() <= staged


@pg_only
@pytest.mark.parametrize("ahead", [1, 2])
def test_helpers_stay_at_most_ahead_chunks_in_front_of_the_load(monkeypatch, ahead):
    _several_chunks(monkeypatch)
    monkeypatch.setattr(synth_pg, "AHEAD", ahead)
    log = []
    stage, copy = synth_pg._stage, synth_pg._copy

    def logged_stage(cursor, plan, chunk, relay):
        log.append(("stage", chunk))
        stage(cursor, plan, chunk, relay)

    def logged_copy(cursor, plan, chunk):
        copy(cursor, plan, chunk)
        log.append(("copied", chunk))

    monkeypatch.setattr(synth_pg, "_stage", logged_stage)
    monkeypatch.setattr(synth_pg, "_copy", logged_copy)
    operator, application = synth_target(seed=4)
    Synthesizer(operator=operator, application=application, seed=4).run(800, days=3)
    copied = 0
    for what, chunk in log:
        if what == "copied":
            copied = chunk + 1
        else:
            assert chunk < copied + ahead, log
    assert copied == len(synth_pg._chunks(800)) == 6
    assert Occurrence.objects.count() == 800


@pg_only
def test_a_load_that_fails_stops_the_helpers_waiting_for_their_turn(monkeypatch):
    _several_chunks(monkeypatch)
    monkeypatch.setattr(synth_pg, "AHEAD", 1)
    copy = synth_pg._copy

    def copy_until_the_second_chunk(cursor, plan, chunk):
        if chunk == 1:
            raise RuntimeError("load lost")
        copy(cursor, plan, chunk)

    monkeypatch.setattr(synth_pg, "_copy", copy_until_the_second_chunk)
    staged = _stage_tables()
    operator, application = synth_target(seed=6)
    with pytest.raises(RuntimeError, match="load lost"):
        Synthesizer(operator=operator, application=application, seed=6).run(800, days=3)
    assert Occurrence.objects.count() == Event.objects.count() == 0
    assert _stage_tables() <= staged


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--occurrences", "0"], "--occurrences must be at least 1."),
        (["--occurrences", "10", "--days", "0"], "--days must be at least 1."),
    ],
)
def test_the_command_refuses_an_empty_load_or_period(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("synth", *arguments, stdout=io.StringIO())
    assert not Occurrence.objects.exists()


def test_a_synthetic_persons_first_name_agrees_with_their_sex_and_their_mother_is_a_woman():
    from atende.synth import beneficiaries

    women, men = beneficiaries.FIRST_NAMES["F"], beneficiaries.FIRST_NAMES["M"]
    assert not set(women) & set(men)
    rows = list(beneficiaries.rows(2_000, seed=3))
    assert {row["sexo"] for row in rows} == {"F", "M"}
    for row in rows:
        names = women if row["sexo"] == "F" else men
        # One or two first names before the holder's two surnames, all of the person's sex.
        assert all(first in names for first in row["nome"].split()[:-2]), row["nome"]
        assert row["nome_mae"].split()[0] in women, row["nome_mae"]
