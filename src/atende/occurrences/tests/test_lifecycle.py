from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.services import occurrence_type_update, status_update
from atende.occurrences.models import EventKind, Occurrence, ReportCode, State
from atende.occurrences.services import (
    Conflict,
    NotAllowed,
    actor_for_user,
    occurrence_change_status,
    occurrence_close,
    occurrence_fill_tab,
    occurrence_release,
    occurrence_reopen,
    occurrence_route,
    occurrence_start_attendance,
)
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory, UnitFactory
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db

RECEIPT = {"numero": "123", "data": "2024-06-01", "valor": "150,00", "tipo": "Consulta"}


@pytest.fixture
def reimbursement(catalog_a):
    return catalog_a[REIMBURSEMENT]


@pytest.fixture
def occurrence(attendant_a, app_a, reimbursement):
    return new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)


@pytest.fixture
def me(attendant_a, operator_a):
    return actor_for_user(user=attendant_a, operator=operator_a)


@pytest.fixture
def boss(supervisor_a, operator_a):
    return actor_for_user(user=supervisor_a, operator=operator_a)


def test_a_new_occurrence_has_an_ans_protocol_its_default_status_and_state_new(
    occurrence, reimbursement, attendant_a
):
    assert occurrence.protocol.startswith("417505")
    assert len(occurrence.protocol) == 20
    assert occurrence.protocol.endswith("000001")
    assert occurrence.status == status_named(reimbursement, "Protocolado")
    assert occurrence.state == State.NEW
    [event] = occurrence.events.all()
    assert (event.kind, event.report_code, event.seq) == (EventKind.CREATED, "01", 1)
    assert event.actor == attendant_a
    assert event.state_after == State.NEW
    assert occurrence.sla_due_at > occurrence.registered_at


def test_starting_attendance_assigns_me_and_moves_to_the_start_status(
    occurrence, me, reimbursement, attendant_a
):
    event = occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    occurrence.refresh_from_db()
    assert occurrence.attendant == attendant_a
    assert occurrence.state == State.IN_ATTENDANCE
    assert occurrence.status == status_named(reimbursement, "Em análise")
    assert (event.report_code, event.state_before, event.state_after) == ("02", 1, 3)
    assert event.status_before_description == "Protocolado"
    assert event.status_after_description == "Em análise"


def test_a_change_from_a_stale_read_is_a_conflict_and_changes_nothing(occurrence, me, boss):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    with pytest.raises(Conflict, match=r"outra pessoa|someone else"):
        occurrence_release(actor=boss, occurrence=occurrence, expected_version=1)
    occurrence.refresh_from_db()
    assert occurrence.state == State.IN_ATTENDANCE
    assert occurrence.events.count() == 2


def test_an_attendant_cannot_take_an_occurrence_someone_else_attends(
    occurrence, me, operator_a, unit_a
):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    other = MembershipFactory(operator=operator_a, role=Role.ATTENDANT).user
    other_actor = actor_for_user(user=other, operator=operator_a)
    with pytest.raises(NotAllowed):
        occurrence_start_attendance(actor=other_actor, occurrence=occurrence, expected_version=2)
    with pytest.raises(NotAllowed):
        occurrence_change_status(
            actor=other_actor,
            occurrence=occurrence,
            status=status_named(occurrence.occurrence_type, "Aguardando documentos"),
            expected_version=2,
        )


def test_a_supervisor_assigns_to_someone_else(occurrence, boss, attendant_a):
    event = occurrence_start_attendance(
        actor=boss, occurrence=occurrence, expected_version=1, assignee=attendant_a
    )
    assert event.attendant_after == attendant_a
    assert event.actor_name == boss.name


def test_changing_status_needs_attendance_first_and_an_active_status_of_the_type(
    occurrence, me, reimbursement, catalog_a
):
    waiting = status_named(reimbursement, "Aguardando documentos")
    with pytest.raises(NotAllowed, match=r"atendimento|attendance"):
        occurrence_change_status(
            actor=me, occurrence=occurrence, status=waiting, expected_version=1
        )
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    other_type = catalog_a["Atualização Cadastral"]
    with pytest.raises(ValidationError):
        occurrence_change_status(
            actor=me,
            occurrence=occurrence,
            status=other_type.statuses.first(),
            expected_version=2,
        )
    status_update(status=waiting, is_active=False)
    waiting.refresh_from_db()
    with pytest.raises(ValidationError):
        occurrence_change_status(
            actor=me, occurrence=occurrence, status=waiting, expected_version=2
        )


def test_a_closing_status_is_not_a_plain_status_change(occurrence, me, reimbursement):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    with pytest.raises(ValidationError, match=r"desfecho|outcome"):
        occurrence_change_status(
            actor=me,
            occurrence=occurrence,
            status=status_named(reimbursement, "Aprovado"),
            expected_version=2,
        )


def test_closing_needs_the_required_tabs_and_an_outcome(occurrence, me, reimbursement):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    approved = status_named(reimbursement, "Aprovado")
    with pytest.raises(ValidationError, match="Recibos"):
        occurrence_close(
            actor=me,
            occurrence=occurrence,
            status=approved,
            outcome_text="Aprovado.",
            expected_version=2,
        )
    with pytest.raises(ValidationError):
        occurrence_close(
            actor=me, occurrence=occurrence, status=approved, outcome_text="  ", expected_version=2
        )
    tab = reimbursement.tabs.get()
    occurrence_fill_tab(actor=me, occurrence=occurrence, tab=tab, data=RECEIPT)
    event = occurrence_close(
        actor=me,
        occurrence=occurrence,
        status=approved,
        outcome_text="Seu reembolso foi aprovado.",
        expected_version=3,
        reason=reimbursement.operator.outcome_reasons.first(),
    )
    occurrence.refresh_from_db()
    assert occurrence.state == State.CLOSED
    assert occurrence.closed_at == event.at
    assert occurrence.resolved is True
    assert (event.report_code, event.state_before, event.state_after) == ("03", 3, 4)
    assert event.outcome_text == "Seu reembolso foi aprovado."
    assert event.outcome_reason_description == "Documentação completa"


def _closed(occurrence, me, reimbursement):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    occurrence_fill_tab(actor=me, occurrence=occurrence, tab=reimbursement.tabs.get(), data=RECEIPT)
    occurrence_close(
        actor=me,
        occurrence=occurrence,
        status=status_named(reimbursement, "Reprovado"),
        outcome_text="Recibo ilegível.",
        expected_version=3,
    )
    return occurrence


def test_a_closed_occurrence_changes_only_by_reopening_and_only_a_supervisor_reopens(
    occurrence, me, boss, reimbursement
):
    _closed(occurrence, me, reimbursement)
    assert occurrence.resolved is False
    with pytest.raises(ValidationError, match=r"reab|reopen"):
        occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=4)
    with pytest.raises(NotAllowed):
        occurrence_reopen(actor=me, occurrence=occurrence, expected_version=4)
    event = occurrence_reopen(actor=boss, occurrence=occurrence, expected_version=4)
    occurrence.refresh_from_db()
    assert occurrence.state == State.OPEN
    assert occurrence.closed_at is None
    assert occurrence.attendant is None
    assert (event.kind, event.report_code, event.state_before, event.state_after) == (
        EventKind.REOPENED,
        ReportCode.CHANGED,
        4,
        2,
    )


def test_releasing_puts_it_back_in_the_queue_as_open(occurrence, me):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    event = occurrence_release(actor=me, occurrence=occurrence, expected_version=2)
    assert (event.state_before, event.state_after, event.report_code) == (3, 2, "02")
    with pytest.raises(ValidationError):
        occurrence_release(actor=me, occurrence=occurrence, expected_version=3)


def test_routing_sends_it_to_another_units_queue(occurrence, me, boss, operator_a, operator_b):
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    claims = UnitFactory(operator=operator_a, name="Reembolso")
    event = occurrence_route(actor=me, occurrence=occurrence, unit=claims, expected_version=2)
    occurrence.refresh_from_db()
    assert occurrence.unit == claims
    assert occurrence.attendant is None
    assert event.kind == EventKind.ROUTED
    # The attendant works only in unit A: the occurrence left their sight.
    with pytest.raises(Occurrence.DoesNotExist):
        occurrence_route(actor=me, occurrence=occurrence, unit=claims, expected_version=3)
    foreign = UnitFactory(operator=operator_b)
    with pytest.raises(ValidationError):
        occurrence_route(actor=boss, occurrence=occurrence, unit=foreign, expected_version=3)


def test_a_type_without_attendance_accepts_no_status_change_from_the_panel(
    occurrence, me, reimbursement
):
    occurrence_type_update(occurrence_type=reimbursement, allow_attendance=False)
    occurrence.occurrence_type.refresh_from_db()
    with pytest.raises(NotAllowed, match=r"painel|panel"):
        occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)


def test_an_actor_of_another_operator_is_refused(attendant_b, operator_a, occurrence):
    with pytest.raises(NotAllowed):
        actor_for_user(user=attendant_b, operator=operator_a)


def test_a_configurator_does_not_work_occurrences(operator_a):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    with pytest.raises(NotAllowed):
        actor_for_user(user=configurator, operator=operator_a)


def test_protocols_of_one_day_count_up_and_restart_the_next_day(attendant_a, app_a, reimbursement):
    day1 = datetime(2024, 6, 3, 14, 10, 55, tzinfo=UTC)
    day2 = datetime(2024, 6, 4, 2, 30, tzinfo=UTC)  # 23:30 of 3 June in São Paulo (UTC-3)
    day3 = datetime(2024, 6, 4, 4, 0, 1, tzinfo=UTC)
    numbers = [
        new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=reimbursement, at=at
        ).protocol
        for at in (day1, day1, day2, day3)
    ]
    assert numbers == [
        "41750520240603000001",
        "41750520240603000002",
        "41750520240603000003",
        "41750520240604000001",
    ]


def test_closing_cannot_contradict_what_the_status_says(app_a, catalog_a, supervisor_a):
    from django.core.exceptions import ValidationError

    from atende.catalog.presets import REIMBURSEMENT
    from atende.occurrences.services import occurrence_close
    from atende.testing.occurrences import new_occurrence, receipts_filled, status_named

    kind = catalog_a[REIMBURSEMENT]
    supervisor = actor_for_user(user=supervisor_a, operator=app_a.operator_id)
    occurrence = new_occurrence(user=supervisor_a, application=app_a, occurrence_type=kind)
    receipts_filled(supervisor, occurrence)
    with pytest.raises(ValidationError, match="como atendida") as refused:
        occurrence_close(
            actor=supervisor,
            occurrence=occurrence,
            status=status_named(kind, "Aprovado"),
            outcome_text="Aprovado.",
            resolved=False,
            expected_version=occurrence.version,
        )
    assert "resolved" in refused.value.message_dict
    occurrence_close(
        actor=supervisor,
        occurrence=occurrence,
        status=status_named(kind, "Reprovado"),
        outcome_text="Fora da cobertura.",
        expected_version=occurrence.version,
    )
    occurrence.refresh_from_db()
    assert occurrence.resolved is False
