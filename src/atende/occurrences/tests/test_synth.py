import io

import pytest
from django.core.management import call_command
from django.db import connection

from atende.occurrences import synth_pg
from atende.occurrences.history import occurrence_replay
from atende.occurrences.models import Event, Occurrence
from atende.occurrences.synth import Synthesizer, synth_target

pytestmark = pytest.mark.django_db


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


def _indexes() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [synth_pg.TABLES],
        )
        return set(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk path")
def test_a_large_load_builds_the_indexes_once_and_leaves_them_as_they_were(monkeypatch):
    monkeypatch.setattr(synth_pg, "DEFER_INDEXES_FROM", 100)
    monkeypatch.setattr(synth_pg, "CHUNK", 150)  # several chunks in the one transaction
    before = _indexes()
    operator, application = synth_target(seed=3)
    synthesizer = Synthesizer(operator=operator, application=application, seed=3)
    assert synth_pg.indexes_worth_deferring(400)
    assert synthesizer.run(400, days=30) == 400
    assert _indexes() == before
    assert Occurrence.objects.count() == 400
    protocols = list(Occurrence.objects.values_list("protocol", flat=True))
    assert len(set(protocols)) == 400
    assert Event.objects.filter(seq=1, report_code="01").count() == 400
