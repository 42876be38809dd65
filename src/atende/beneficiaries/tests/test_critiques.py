"""Critiques and waiting periods, derived on the day asked, around their boundaries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from atende.beneficiaries.critiques import (
    Code,
    beneficiary_critiques,
    request_check,
    waiting_periods,
)
from atende.beneficiaries.models import (
    CardWaitingPeriod,
    Ceiling,
    Invoice,
    ProcedureGroup,
    RegistrySettings,
    WaitingPeriod,
)
from atende.testing.beneficiaries import card_upserted, cpf_numbers

pytestmark = pytest.mark.django_db

CPF = cpf_numbers(1)[0]
START = date(2026, 1, 10)


@pytest.fixture
def card(operator_a):
    return card_upserted(
        operator_a,
        card="A1",
        cpf=CPF,
        product_code="P1",
        product_name="Plano Ouro",
        contract_start=START.isoformat(),
        card_valid_until="2026-12-31",
    )


def codes(card, today, **kwargs):
    return [c.code for c in beneficiary_critiques(card, today=today, **kwargs)]


def test_an_active_paid_card_has_no_critique(card):
    assert codes(card, date(2026, 6, 1)) == []


@pytest.mark.parametrize(
    ("situation", "code"), [("suspenso", Code.SUSPENDED), ("cancelado", Code.CANCELLED)]
)
def test_a_suspended_or_cancelled_contract_blocks_with_its_date_and_reason(
    operator_a, situation, code
):
    card = card_upserted(
        operator_a,
        card="A2",
        cpf=CPF,
        situation=situation,
        situation_date="2026-11-03",
        situation_reason="Inadimplência",
    )

    [critique] = beneficiary_critiques(card, today=date(2026, 12, 1))
    assert critique.code == code and critique.blocks
    assert "03/11/2026" in critique.message and "Inadimplência" in critique.message


def test_an_invoice_overdue_past_the_threshold_blocks_and_not_a_day_before(card):
    Invoice.objects.create(
        operator=card.operator,
        beneficiary=card,
        number="F1",
        competence=date(2026, 3, 1),
        due_on=date(2026, 3, 10),
        amount=Decimal("100.00"),
    )

    assert codes(card, date(2026, 3, 10) + timedelta(days=60)) == []
    [critique] = beneficiary_critiques(card, today=date(2026, 3, 10) + timedelta(days=61))
    assert critique.code == Code.OVERDUE and critique.blocks
    assert "61" in critique.message and "10/03/2026" in critique.message


def test_a_paid_invoice_is_no_critique_and_the_threshold_is_the_operators(card):
    Invoice.objects.create(
        operator=card.operator,
        beneficiary=card,
        number="F1",
        competence=date(2026, 3, 1),
        due_on=date(2026, 3, 10),
        amount=Decimal("100.00"),
        paid_on=date(2026, 6, 1),
    )
    Invoice.objects.create(
        operator=card.operator,
        beneficiary=card,
        number="F2",
        competence=date(2026, 4, 1),
        due_on=date(2026, 4, 10),
        amount=Decimal("100.00"),
    )
    RegistrySettings.objects.create(operator=card.operator, overdue_days=10, overdue_blocks=False)

    assert codes(card, date(2026, 4, 20)) == []
    [critique] = beneficiary_critiques(card, today=date(2026, 4, 21))
    assert critique.code == Code.OVERDUE and not critique.blocks


def test_the_card_expires_the_day_after_its_validity(card):
    assert codes(card, date(2026, 12, 31)) == []
    assert codes(card, date(2027, 1, 1)) == [Code.CARD_EXPIRED]


@pytest.fixture
def groups(operator_a):
    return {
        "urgencia": ProcedureGroup.objects.create(
            operator=operator_a, code="URG", name="Urgência", ceiling=Ceiling.URGENCY
        ),
        "parto": ProcedureGroup.objects.create(
            operator=operator_a, code="PAR", name="Parto a termo", ceiling=Ceiling.TERM_DELIVERY
        ),
        "exames": ProcedureGroup.objects.create(
            operator=operator_a, code="EXC", name="Exames complexos"
        ),
    }


def test_a_waiting_period_is_in_force_through_start_plus_days_minus_one(card, groups):
    WaitingPeriod.objects.create(product=card.product, group=groups["exames"], days=180)
    exams = groups["exames"]
    last = START + timedelta(days=179)

    [period] = waiting_periods(card)
    assert period.ends_on == last and not period.above_ceiling
    assert codes(card, last, group=exams) == [Code.WAITING]
    assert codes(card, last + timedelta(days=1), group=exams) == []
    # Without a group asked, a waiting period is no critique.
    assert codes(card, last) == []


def test_urgency_is_covered_from_the_day_after_the_start(card, groups):
    WaitingPeriod.objects.create(product=card.product, group=groups["urgencia"], days=1)

    assert codes(card, START, group=groups["urgencia"]) == [Code.WAITING]
    assert codes(card, START + timedelta(days=1), group=groups["urgencia"]) == []


def test_a_period_above_the_legal_ceiling_is_flagged(card, groups):
    WaitingPeriod.objects.create(product=card.product, group=groups["parto"], days=301)
    WaitingPeriod.objects.create(product=card.product, group=groups["urgencia"], days=2)
    WaitingPeriod.objects.create(product=card.product, group=groups["exames"], days=180)

    flagged = {w.group.code: w.above_ceiling for w in waiting_periods(card)}
    assert flagged == {"PAR": True, "URG": True, "EXC": False}


def test_the_cards_own_period_replaces_its_products(card, groups):
    WaitingPeriod.objects.create(product=card.product, group=groups["exames"], days=180)
    CardWaitingPeriod.objects.create(beneficiary=card, group=groups["exames"], days=0)

    [period] = waiting_periods(card)
    assert period.days == 0
    assert codes(card, START, group=groups["exames"]) == []


def test_a_blocking_critique_refuses_the_request_with_its_message(card, groups):
    WaitingPeriod.objects.create(product=card.product, group=groups["exames"], days=30)

    with pytest.raises(ValidationError) as refused:
        request_check(card, today=START + timedelta(days=5), group=groups["exames"])
    assert refused.value.code == Code.WAITING
    assert "Exames complexos" in refused.value.messages[0]
    assert "08/02/2026" in refused.value.messages[0]

    RegistrySettings.objects.create(operator=card.operator, waiting_blocks=False)
    shown = request_check(card, today=START + timedelta(days=5), group=groups["exames"])
    assert [c.code for c in shown] == [Code.WAITING]
