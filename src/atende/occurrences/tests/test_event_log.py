"""The occurrence row always agrees with its events: random sequences of operations by
random people, then the events replayed and compared with the row."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atende.catalog.presets import REIMBURSEMENT
from atende.occurrences.history import occurrence_replay
from atende.occurrences.models import Event, Occurrence
from atende.occurrences.services import (
    Conflict,
    NotAllowed,
    actor_for_user,
    occurrence_add_note,
    occurrence_change_status,
    occurrence_close,
    occurrence_create_child,
    occurrence_customer_message,
    occurrence_fill_tab,
    occurrence_release,
    occurrence_reopen,
    occurrence_reply,
    occurrence_route,
    occurrence_start_attendance,
    sla_breaches_mark,
)
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory, UnitFactory
from atende.testing.occurrences import new_occurrence
from atende.testing.owner import database_owner

pytestmark = pytest.mark.django_db

RECEIPT = {"numero": "9", "data": "2024-06-01", "valor": "10", "tipo": "Exame"}
OPERATIONS = [
    "start",
    "assign",
    "status",
    "release",
    "route",
    "note",
    "reply",
    "message",
    "tab",
    "close",
    "reopen",
    "child",
    "stale",
    "breach",
]


class _Rollback(Exception):
    pass


@pytest.fixture
def world(catalog_a, operator_a, app_a, unit_a, attendant_a, supervisor_a):
    other = MembershipFactory(operator=operator_a, role=Role.ATTENDANT).user
    return {
        "type": catalog_a[REIMBURSEMENT],
        "app": app_a,
        "units": [unit_a, UnitFactory(operator=operator_a, name="Reembolso")],
        "actors": [
            actor_for_user(user=user, operator=operator_a)
            for user in (attendant_a, supervisor_a, other)
        ],
        "attendant": attendant_a,
    }


def _apply(world, occurrence, operation, who, pick):
    actor = world["actors"][who]
    kind = world["type"]
    version = occurrence.version
    statuses = list(kind.statuses.all())
    if operation == "start":
        occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=version)
    elif operation == "assign":
        target = world["actors"][pick % 3].user
        occurrence_start_attendance(
            actor=actor, occurrence=occurrence, expected_version=version, assignee=target
        )
    elif operation == "status":
        occurrence_change_status(
            actor=actor,
            occurrence=occurrence,
            status=statuses[pick % len(statuses)],
            expected_version=version,
        )
    elif operation == "release":
        occurrence_release(actor=actor, occurrence=occurrence, expected_version=version)
    elif operation == "route":
        unit = world["units"][pick % 2]
        occurrence_route(actor=actor, occurrence=occurrence, unit=unit, expected_version=version)
    elif operation == "note":
        occurrence_add_note(actor=actor, occurrence=occurrence, text=f"nota {pick}")
    elif operation == "reply":
        occurrence_reply(actor=actor, occurrence=occurrence, text=f"resposta {pick}")
    elif operation == "message":
        occurrence_customer_message(
            application=world["app"], occurrence=occurrence, author="Ana", text=f"msg {pick}"
        )
    elif operation == "tab":
        occurrence_fill_tab(actor=actor, occurrence=occurrence, tab=kind.tabs.get(), data=RECEIPT)
    elif operation == "close":
        closing = [s for s in statuses if s.is_closing]
        occurrence_close(
            actor=actor,
            occurrence=occurrence,
            status=closing[pick % len(closing)],
            outcome_text=f"desfecho {pick}",
            expected_version=version,
        )
    elif operation == "reopen":
        occurrence_reopen(actor=actor, occurrence=occurrence, expected_version=version)
    elif operation == "child":
        occurrence_create_child(actor=actor, parent=occurrence, occurrence_type=kind)
    elif operation == "stale":
        occurrence_release(actor=actor, occurrence=occurrence, expected_version=version - 1)
    elif operation == "breach":
        Occurrence.objects.filter(pk=occurrence.pk).update(sla_due_at=occurrence.registered_at)
        sla_breaches_mark()
    occurrence.refresh_from_db()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(OPERATIONS),
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=0, max_value=5),
        ),
        max_size=15,
    )
)
def test_replaying_the_events_gives_the_occurrences_fields(world, steps):
    try:
        with transaction.atomic():
            occurrence = new_occurrence(
                user=world["attendant"], application=world["app"], occurrence_type=world["type"]
            )
            for operation, who, pick in steps:
                try:
                    with transaction.atomic():
                        _apply(world, occurrence, operation, who, pick)
                except (ValidationError, NotAllowed, Conflict, Occurrence.DoesNotExist):
                    occurrence.refresh_from_db()
            for row in Occurrence.objects.filter(operator=occurrence.operator):
                replayed = occurrence_replay(row.events.order_by("seq"))
                assert replayed.status_id == row.status_id
                assert replayed.state == row.state
                assert replayed.attendant_id == row.attendant_id
                assert replayed.unit_id == row.unit_id
                assert replayed.closed_at == row.closed_at
                assert replayed.outcome_text == row.outcome_text
                assert replayed.resolved == row.resolved
                assert replayed.updated_at == row.updated_at
                assert replayed.version == row.version
                assert replayed.last_seq == row.last_seq
                assert replayed.sla_breached == (row.sla_breached_at is not None)
                assert replayed.awaiting_since == row.awaiting_since
                seqs = list(row.events.order_by("seq").values_list("seq", flat=True))
                assert seqs == list(range(1, len(seqs) + 1))
            raise _Rollback
    except _Rollback:
        pass


# The guards' own refusal, or (PostgreSQL's runtime role) the missing privilege.
REFUSED = r"append-only|permission denied"


def test_an_event_can_be_neither_updated_nor_deleted(attendant_a, app_a, catalog_a):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    event = occurrence.events.get()
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(outcome_text="reescrito")
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    # Django's own way of emptying a table: DELETE on SQLite, TRUNCATE on PostgreSQL.
    flush = connection.ops.sql_flush(no_style(), [Event._meta.db_table], allow_cascade=True)
    with pytest.raises(DatabaseError, match=REFUSED):
        _statement(*flush)
    event.refresh_from_db()
    assert event.outcome_text == ""


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="roles and TRUNCATE are PostgreSQL's"
)


def _statement(*sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for each in sql:
            cursor.execute(each)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_can_neither_truncate_nor_switch_off_the_guards(
    attendant_a, app_a, catalog_a
):
    new_occurrence(user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT])
    assert connection.settings_dict.get("OWNER"), "the suite runs as a runtime role"
    for sql in (
        "TRUNCATE occurrences_event CASCADE",
        "ALTER TABLE occurrences_event DISABLE TRIGGER ALL",
        "DROP TRIGGER occurrences_event_append_only ON occurrences_event",
        "UPDATE occurrences_event SET outcome_text = 'x'",
    ):
        with pytest.raises(DatabaseError, match=r"permission denied|must be owner"):
            _statement(sql)
    assert Event.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_even_the_owner_is_refused_a_truncate_by_the_trigger(attendant_a, app_a, catalog_a):
    new_occurrence(user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT])
    with database_owner():
        with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"):
            _statement("TRUNCATE occurrences_event CASCADE")
        with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
            _statement("UPDATE occurrences_event SET outcome_text = 'x'")
        assert Event.objects.count() == 1
