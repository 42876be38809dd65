"""``row_insert`` writes exactly what the ORM writes."""

import copy

import pytest
from django.db.models.functions import Now

from atende.catalog.presets import REIMBURSEMENT
from atende.core.db import row_insert
from atende.occurrences.models import Event, Occurrence
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db


def _stored(model, pk: int) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


def test_a_row_inserted_reads_back_as_the_orm_would_have_written_it(app_a, catalog_a, attendant_a):
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_name="Maria da Silva",
        contact_email="maria@exemplo.com.br",
    )
    event = occurrence.events.get()
    twin = copy.copy(event)
    twin.pk, twin.seq, twin._state = None, 2, type(event._state)()
    twin.payload = {"nota": "ação", "n": [1, 2]}
    twin.save(force_insert=True)
    mine = copy.copy(twin)
    mine.pk, mine.seq, mine._state = None, 3, type(twin._state)()
    row_insert(mine)

    assert mine.pk is not None and not mine._state.adding
    ours, theirs = _stored(Event, mine.pk), _stored(Event, twin.pk)
    assert ours.pop("seq") == 3 and theirs.pop("seq") == 2
    assert ours == theirs
    assert ours["at"] == event.at and ours["payload"] == {"nota": "ação", "n": [1, 2]}
    assert _stored(Occurrence, occurrence.pk)["contact_email"] == "maria@exemplo.com.br"


def test_a_value_the_database_computes_goes_through_the_orm(app_a, catalog_a, attendant_a):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    event = copy.copy(occurrence.events.get())
    event.pk, event.seq, event._state = None, 2, type(event._state)()
    event.at = Now()
    row_insert(event)
    assert Event.objects.get(pk=event.pk).at is not None
