"""A configured call center for operator A, one card in its registry and a unit for the
pendencies."""

import pytest

from atende.beneficiaries.models import ProcedureGroup
from atende.callcenter.presets import install_call_center
from atende.callcenter.services import contact_start
from atende.catalog.models import Classification, ClassificationLevel, Level, Scale
from atende.testing.beneficiaries import card_upserted, cpf_numbers
from atende.testing.factories import UnitFactory


@pytest.fixture
def call_center_a(operator_a, app_a, catalog_a):
    return install_call_center(operator_a, app_a)


@pytest.fixture
def card_a(operator_a):
    return card_upserted(
        operator_a,
        card="C-100",
        cpf=cpf_numbers(1)[0],
        name="Joana Beneficiária",
        contract_number="CT-9",
        phones=["(11) 98765-4321"],
        emails=["joana@example.com"],
        contract_start="2020-01-01",
    )


@pytest.fixture
def contact(call_center_a, card_a, attendant_a, operator_a):
    """A call of operator A's attendant with the card C-100, just started."""
    return contact_start(
        user=attendant_a,
        attendant_operator_id=operator_a.pk,
        operator_id=operator_a.pk,
        card="C-100",
    )


@pytest.fixture
def group_a(operator_a):
    return ProcedureGroup.objects.create(operator=operator_a, code="CONS", name="Consultas")


@pytest.fixture
def pendency_unit_a(operator_a):
    return UnitFactory(operator=operator_a, name="Autorizações A")


def manifestation_values(operator, group, **overrides) -> dict:
    """A valid manifestation of the preset's lists, with ``overrides``."""
    subcategory = Classification.objects.filter(
        operator=operator, level=ClassificationLevel.SUBCATEGORY
    ).first()
    levels = {
        scale: Level.objects.filter(operator=operator, scale=scale).first().pk
        for scale in (Scale.URGENCY, Scale.SENTIMENT, Scale.PRIORITY)
    }
    values = {
        "classification": subcategory.pk,
        "procedure_group": group.pk,
        "urgency": levels[Scale.URGENCY],
        "sentiment": levels[Scale.SENTIMENT],
        "priority": levels[Scale.PRIORITY],
        "description": "Pediu autorização de consulta com cardiologista.",
        "observation": "",
        "guides": [],
    }
    values.update(overrides)
    return values
