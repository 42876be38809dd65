import pytest
from django.core.exceptions import ValidationError

from atende.tenancy.models import Instance
from atende.tenancy.services import (
    application_create,
    membership_grant,
    operator_create,
    unit_create,
)
from atende.tenancy.validators import document_display, postal_code_display
from atende.testing.factories import OperatorFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("ans", ["41750", "4175055", "41750a", "abcdef"])
def test_an_ans_registration_must_have_six_digits(ans):
    with pytest.raises(ValidationError) as error:
        operator_create(name="X", ans_registration=ans)
    assert "6 dígitos" in str(error.value.message_dict["ans_registration"])


def test_an_invalid_cnpj_is_refused_and_a_valid_one_is_stored_as_digits():
    with pytest.raises(ValidationError) as error:
        operator_create(name="X", cnpj="11.222.333/0001-82")
    assert "CNPJ inválido" in str(error.value.message_dict["cnpj"])
    operator = operator_create(name="Y", cnpj="11.222.333/0001-81")
    assert operator.cnpj == "11222333000181"


def test_two_operators_cannot_share_an_ans_registration():
    operator_create(name="Primeira", ans_registration="417505")
    with pytest.raises(ValidationError, match="registro ANS"):
        operator_create(name="Segunda", ans_registration="417505")


def test_operators_without_ans_registration_coexist():
    operator_create(name="Águas", ans_registration="")
    operator_create(name="Esgotos", ans_registration="")


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError, match="Fuso horário desconhecido"):
        operator_create(name="X", time_zone="America/Atlantis")


@pytest.mark.parametrize("bundle", ["semponto", "br..com", "br.com.app!", ".br.com", "1br.com"])
def test_a_malformed_bundle_is_refused(bundle):
    operator = OperatorFactory()
    with pytest.raises(ValidationError, match="domínio invertido"):
        application_create(
            operator=operator, name="App", bundle=bundle, instance=Instance.PRODUCTION
        )


def test_one_operator_has_both_instances_of_a_bundle_but_not_two_of_one():
    operator = OperatorFactory()
    bundle = "br.com.mobilesaude.rannyzyzz"
    application_create(operator=operator, name="P", bundle=bundle, instance=Instance.PRODUCTION)
    application_create(operator=operator, name="S", bundle=bundle, instance=Instance.SANDBOX)
    with pytest.raises(ValidationError, match="já tem uma aplicação nesta instância"):
        application_create(
            operator=OperatorFactory(),
            name="P2",
            bundle=bundle.upper(),
            instance=Instance.PRODUCTION,
        )


def test_unit_names_are_unique_per_operator_only():
    first, second = OperatorFactory(), OperatorFactory()
    unit_create(operator=first, name="Reembolso")
    unit_create(operator=second, name="Reembolso")
    with pytest.raises(ValidationError, match="já tem uma unidade com este nome"):
        unit_create(operator=first, name="reembolso")


def test_a_membership_cannot_take_units_of_another_operator():
    mine, theirs = OperatorFactory(), OperatorFactory()
    with pytest.raises(ValidationError, match="Unidades de outra operadora"):
        membership_grant(
            user=UserFactory(),
            operator=mine,
            role="attendant",
            units=[UnitFactory(operator=theirs)],
        )
    assert not mine.memberships.exists()


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("52998224725", "529.982.247-25"),
        ("11222333000181", "11.222.333/0001-81"),
        # Not a document that checks, or not digits alone: shown as stored.
        ("52998224726", "52998224726"),
        ("0001234", "0001234"),
        ("529.982.247-25", "529.982.247-25"),
        ("", ""),
    ],
)
def test_a_stored_document_is_shown_as_people_read_it(stored, shown):
    assert document_display(stored) == shown


@pytest.mark.parametrize(
    ("stored", "shown"), [("01310100", "01310-100"), ("0131010", "0131010"), ("", "")]
)
def test_a_stored_postal_code_is_shown_with_its_dash(stored, shown):
    assert postal_code_display(stored) == shown
