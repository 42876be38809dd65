"""``row_insert``, ``row_locked``, ``row_update`` and ``PreparedRead`` write and read
exactly what the ORM writes and reads."""

import contextlib
import copy
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from atende.beneficiaries.models import ImportProblem
from atende.catalog.presets import REIMBURSEMENT
from atende.core.db import (
    PreparedRead,
    plans_cached,
    plans_per_call,
    references_checked_per_statement,
    row_insert,
    row_locked,
    row_update,
    rows_update,
)
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


def test_a_constant_database_default_is_written_as_save_would(app_a, catalog_a, attendant_a):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    stored = Occurrence.objects.get(pk=occurrence.pk)
    twins = []
    for write in (lambda o: o.save(force_insert=True), row_insert):
        twin = copy.copy(stored)
        twin.pk, twin._state = None, type(stored._state)()
        twin.protocol = f"{stored.protocol}-{len(twins)}"
        # As on a new instance whose caller set neither: the database's default.
        twin.observation, twin.contact_phone = Occurrence().observation, Occurrence().contact_phone
        write(twin)
        twins.append(twin)
    saved, ours = twins
    assert ours.observation == saved.observation == ""  # the instance holds the value
    assert ours.contact_phone == saved.contact_phone == ""
    theirs, mine = _stored(Occurrence, saved.pk), _stored(Occurrence, ours.pk)
    assert mine.pop("protocol") != theirs.pop("protocol")
    assert mine == theirs


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_locked_row_is_the_orms_row_and_an_update_writes_it_back(app_a, catalog_a, attendant_a):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    with transaction.atomic():
        locked = row_locked(Occurrence, occurrence.pk)
        assert _fields(locked) == _fields(Occurrence.objects.get(pk=occurrence.pk))
        assert locked.registered_at.tzinfo is not None  # converted as the ORM converts
        locked.description = "Descrição com acentuação"
        locked.version += 1
        row_update(locked)
        assert row_locked(Occurrence, 0) is None
    assert _fields(Occurrence.objects.get(pk=occurrence.pk)) == _fields(locked)


def _assigned(statement: str) -> set[str]:
    assignments = statement.split(" SET ", 1)[1].rsplit(" WHERE ", 1)[0]
    return set(re.findall(r'"(\w+)" = ', assignments))


def test_a_locked_row_is_written_back_only_where_it_changed(app_a, catalog_a, attendant_a):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    with transaction.atomic():
        locked = row_locked(Occurrence, occurrence.pk)
        locked.version += 1
        locked.guides.append({"number": "123", "kind": "sp_sadt"})  # changed in place
        with CaptureQueriesContext(connection) as first:
            row_update(locked)
        locked.description = "Segunda mudança"
        with CaptureQueriesContext(connection) as second:
            row_update(locked)
        with CaptureQueriesContext(connection) as unchanged:
            row_update(Occurrence.objects.get(pk=occurrence.pk))  # not locked: every column
    (update,) = [q["sql"] for q in first.captured_queries if q["sql"].startswith("UPDATE")]
    assert _assigned(update) == {"version", "guides"}
    (update,) = [q["sql"] for q in second.captured_queries if q["sql"].startswith("UPDATE")]
    assert _assigned(update) == {"description", "guides"}
    (update,) = [q["sql"] for q in unchanged.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(_assigned(update)) == len(Occurrence._meta.concrete_fields) - 1
    stored = Occurrence.objects.get(pk=occurrence.pk)
    assert _fields(stored) == _fields(locked)
    assert stored.guides == [{"number": "123", "kind": "sp_sadt"}]
    assert stored.version == occurrence.version + 1


def test_rows_are_updated_in_the_named_columns_only(app_a, catalog_a, attendant_a, supervisor_a):
    first, second = (
        new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
        )
        for _ in range(2)
    )
    for n, occurrence in enumerate((first, second)):
        occurrence.description = f"Descrição {n} — ação"
        occurrence.guides = [{"number": str(n), "kind": "sp_sadt"}]
        occurrence.attendant_id = supervisor_a.pk
        occurrence.version += 10  # not named: stays as stored
    rows_update([first, second], ["description", "guides", "attendant_id"])

    for n, occurrence in enumerate((first, second)):
        stored = Occurrence.objects.get(pk=occurrence.pk)
        assert stored.description == f"Descrição {n} — ação"
        assert stored.guides == [{"number": str(n), "kind": "sp_sadt"}]
        assert stored.attendant_id == supervisor_a.pk
        assert stored.version == occurrence.version - 10
    with pytest.raises(ValueError, match="no column"):
        rows_update([first], ["description", "nonexistent"])


def test_a_prepared_read_gives_what_the_queryset_gives_for_each_value(
    app_a, app_b, catalog_a, catalog_b, attendant_a, attendant_b
):
    mine = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    theirs = new_occurrence(
        user=attendant_b, application=app_b, occurrence_type=catalog_b["Segunda via de conta"]
    )

    def build(operator_id, protocol):
        return (
            Occurrence.objects.filter(operator_id=operator_id, protocol=protocol)
            .select_related("application__operator", "attendant")
            .annotate(changes=Count("events"))
        )

    read = PreparedRead(build, -1, "\x00protocol")
    for occurrence in (mine, theirs):
        (found,) = read(occurrence.operator_id, occurrence.protocol)
        expected = build(occurrence.operator_id, occurrence.protocol).get()
        assert _fields(found) == _fields(expected)
        assert _fields(found.application) == _fields(expected.application)
        assert found.application.operator.name == expected.application.operator.name
        assert found.changes == expected.changes == 1
    assert read(mine.operator_id, theirs.protocol) == []


def test_a_prepared_read_refuses_examples_it_cannot_place(app_a):
    read = PreparedRead(lambda pk: Occurrence.objects.filter(pk=pk), "not an id")
    with pytest.raises((ValueError, TypeError)):
        read(1)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's foreign keys have no such switch"
)
@pytest.mark.django_db(transaction=True)  # a real commit: where deferred checks happen
@pytest.mark.parametrize("per_statement", [False, True])
def test_references_can_be_checked_when_each_statement_ends(per_statement):
    checking = references_checked_per_statement if per_statement else contextlib.nullcontext
    written = []
    with pytest.raises(IntegrityError), transaction.atomic(), checking():
        ImportProblem.objects.create(job_id=-1, line=1, column="cpf", reason="—")
        written.append("the row with an unknown import")
    # Deferred, the bad reference is found at the commit; per statement, at the INSERT.
    assert written == ([] if per_statement else ["the row with an unknown import"])
    assert not ImportProblem.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's foreign keys have no such switch"
)
@pytest.mark.django_db(transaction=True)
def test_after_the_block_references_are_deferred_again():
    written = []
    with pytest.raises(IntegrityError), transaction.atomic():
        with references_checked_per_statement():
            pass
        ImportProblem.objects.create(job_id=-1, line=1, column="cpf", reason="—")
        written.append("the row with an unknown import")  # its check waits for the commit
    assert written == ["the row with an unknown import"]


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite prepares no plans")
def test_plans_are_cached_within_the_block_and_per_call_again_after_it():
    with transaction.atomic():
        plans_per_call()
        with plans_cached():
            within = _plan_cache_mode()
        after = _plan_cache_mode()
    assert (within, after) == ("auto", "force_custom_plan")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite prepares no plans")
@pytest.mark.django_db(transaction=True)  # no transaction around the test
def test_plans_cached_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="needs a transaction"), plans_cached():
        pass
