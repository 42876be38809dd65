"""Finding a person: CPF with or without punctuation, card, phone, words of the name in any
case and without accents, birth date, the combinations; only at the operators the person
attends or supervises."""

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from atende.beneficiaries.records import name_fold
from atende.beneficiaries.selectors import beneficiary_search, search_filter
from atende.beneficiaries.tasks import refresh_statistics
from atende.tenancy.models import Role
from atende.testing.beneficiaries import card_upserted, cpf_numbers
from atende.testing.factories import MembershipFactory

CPFS = cpf_numbers(5)


@pytest.fixture
def people(operator_a, operator_b):
    return {
        "joao": card_upserted(
            operator_a,
            card="A-100",
            cpf=CPFS[0],
            name="João da Silva",
            birth_date="1980-03-12",
            phones=["(11) 98765-4321"],
        ),
        "joao_dependent": card_upserted(
            operator_a,
            card="A-101",
            cpf=CPFS[1],
            name="João Pedro da Silva",
            birth_date="2010-07-01",
            holder_card="A-100",
        ),
        "conceicao": card_upserted(
            operator_a, card="A-200", cpf=CPFS[2], name="MARIA CONCEIÇÃO", social_name="Ceça"
        ),
        "other_operator": card_upserted(
            operator_b, card="A-100", cpf=CPFS[0], name="João da Silva", birth_date="1980-03-12"
        ),
    }


def cards(user, **query):
    return [
        (f.beneficiary.operator.name, f.beneficiary.card)
        for f in beneficiary_search(user=user, **query)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("joao silva", ["A-100", "A-101"]),
        ("JOÃO DA SILVA", ["A-100", "A-101"]),
        ("pedro", ["A-101"]),
        ("conceicao", ["A-200"]),
        ("ceça", ["A-200"]),
        ("silva pedro", ["A-101"]),
        ("ana", []),
    ],
)
def test_a_name_is_found_by_its_words_without_accents_or_case(people, attendant_a, text, expected):
    assert [card for _op, card in cards(attendant_a, text=text)] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        CPFS[0],
        f"{CPFS[0][:3]}.{CPFS[0][3:6]}.{CPFS[0][6:9]}-{CPFS[0][9:]}",
        "A-100",
        "a-100",
        "(11) 98765-4321",
        "+55 11 98765 4321",
        "12/03/1980",
    ],
)
def test_cpf_card_phone_and_birth_date_find_the_one_card(people, attendant_a, text):
    assert cards(attendant_a, text=text) == [("Operadora A", "A-100")]


@pytest.mark.django_db
def test_a_name_with_a_birth_date_narrows_it(people, attendant_a):
    from datetime import date

    found = cards(attendant_a, text="silva", birth_date=date(2010, 7, 1))
    assert found == [("Operadora A", "A-101")]
    assert cards(attendant_a, birth_date=date(1980, 3, 12)) == [("Operadora A", "A-100")]


@pytest.mark.django_db
def test_nothing_of_another_operator_is_found(people, attendant_b, attendant_a):
    assert cards(attendant_b, text="joao silva") == [("Operadora B", "A-100")]
    assert cards(attendant_a, text=CPFS[0]) == [("Operadora A", "A-100")]


@pytest.mark.django_db
def test_a_configurator_alone_finds_nobody(people, operator_a):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user

    assert cards(configurator, text="joao") == []


@pytest.mark.django_db
def test_results_carry_their_critiques(operator_a, attendant_a):
    card_upserted(
        operator_a,
        card="S-1",
        cpf=CPFS[3],
        name="Suspensa Souza",
        situation="suspenso",
        situation_date="2026-01-01",
    )

    [found] = beneficiary_search(user=attendant_a, text="souza")
    assert [c.code for c in found.critiques] == ["contrato_suspenso"]


def test_an_empty_search_searches_nothing():
    assert search_filter("   ", None, [1]) is None


@given(st.text(max_size=40))
def test_folding_is_idempotent_and_leaves_no_accent_nor_capital(text):
    folded = name_fold(text)
    assert name_fold(folded) == folded
    assert folded == folded.casefold()
    assert "  " not in folded and folded == folded.strip()


@given(st.sampled_from(["João", "Conceição", "Ângela", "Müller", "Érica"]))
def test_a_name_folded_equals_its_unaccented_lower_case(name):
    plain = name.translate(str.maketrans("ãçâüéÂÉ", "acaueAE")).lower()
    assert name_fold(name) == plain


@pytest.mark.django_db
@pytest.mark.parametrize("text", [CPFS[0], "A-100", "(11) 98765-4321", "joao silva"])
def test_a_search_is_two_queries(people, attendant_a, django_assert_num_queries, text):
    # The person's operators; the cards (the exact lookups' union as a subquery), each with
    # its oldest unpaid invoice. Their cards are in good standing: no settings are read.
    with django_assert_num_queries(2):
        assert beneficiary_search(user=attendant_a, text=text)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's autovacuum does it")
def test_the_statistics_job_analyzes_the_registry_on_sqlite(people):
    refresh_statistics()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'beneficiaries_beneficiary'")
        assert cursor.fetchone()[0] > 0
