import io

import pytest
from django.core.management import call_command

from atende.occurrences.history import occurrence_replay
from atende.occurrences.models import Event, Occurrence

pytestmark = pytest.mark.django_db


def test_synthetic_occurrences_agree_with_their_events_and_have_unique_protocols():
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
