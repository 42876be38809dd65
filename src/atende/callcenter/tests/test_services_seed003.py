"""Seed 003's services in a call: the request's form with the card locked, the blocking
critique's message instead of a refund form, earlier indications, and one list of what
the person asked for."""

import pytest
from django.test import Client
from django.utils import timezone

from atende.beneficiaries.models import Guide, GuideKind, GuideSituation
from atende.callcenter.models import ContactEntry, EntryKind
from atende.callcenter.selectors import contact_items
from atende.callcenter.services import contact_start
from atende.testing.beneficiaries import card_upserted, cpf_numbers
from atende.testing.occurrences import submission_key_of

pytestmark = pytest.mark.django_db


def start(user, operator, card: str):
    return contact_start(
        user=user, attendant_operator_id=operator.pk, operator_id=operator.pk, card=card
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def suspended(operator_a):
    return card_upserted(
        operator_a,
        card="C-300",
        cpf=cpf_numbers(7)[6],
        name="Rui Suspenso",
        situation="suspenso",
        situation_date="2026-01-10",
        situation_reason="Inadimplência",
    )


@pytest.mark.parametrize("slug", ["reembolso", "autorizacao-reembolso"])
def test_a_blocking_critique_shows_its_message_and_no_form(
    call_center_a, suspended, attendant_a, operator_a, pendency_unit_a, slug
):
    contact = start(attendant_a, operator_a, "C-300")
    client = signed_in(attendant_a)
    page = client.get(f"/atendimento/{contact.pk}/servico/{slug}/").content.decode()
    assert "data-refused" in page and "suspenso" in page.lower()
    assert "<form" not in page
    entry = ContactEntry.objects.get(contact=contact)
    assert entry.kind == EntryKind.REFUSED
    first = contact_items(contact)[0].occurrence
    posted = client.post(
        f"/atendimento/{contact.pk}/servico/{slug}/",
        {
            "service-occurrence": first.pk,
            "service-unit": pendency_unit_a.pk,
            "service-description": "Reembolso de consulta",
        },
    )
    assert "data-refused" in posted.content.decode()
    assert contact_items(contact)[0].pendencies == []


def test_a_card_copy_is_not_refused_by_a_critique(
    call_center_a, suspended, attendant_a, operator_a
):
    contact = start(attendant_a, operator_a, "C-300")
    page = signed_in(attendant_a).get(f"/atendimento/{contact.pk}/servico/segunda-via/")
    text = page.content.decode()
    assert "data-refused" not in text
    assert 'value="C-300" readonly' in text


def test_a_refund_request_is_a_pendency_of_the_call(
    call_center_a, card_a, attendant_a, operator_a, pendency_unit_a, catalog_a
):
    contact = start(attendant_a, operator_a, "C-100")
    first = contact_items(contact)[0].occurrence
    client = signed_in(attendant_a)
    form = client.get(f"/atendimento/{contact.pk}/servico/reembolso/").content.decode()
    assert 'value="C-100" readonly' in form
    refused = client.post(
        f"/atendimento/{contact.pk}/servico/reembolso/",
        {"service-occurrence": first.pk, "service-description": "Sem unidade"},
    )
    assert refused.status_code == 400
    assert "Sem unidade</textarea>" in refused.content.decode()
    key = submission_key_of(form)
    for _ in range(2):  # the form sent twice registers one request
        response = client.post(
            f"/atendimento/{contact.pk}/servico/reembolso/",
            {
                "service-occurrence": first.pk,
                "service-unit": pendency_unit_a.pk,
                "service-description": "Reembolso de consulta",
                "submission": key,
            },
        )
        assert response.status_code == 302
    [pendency] = contact_items(contact)[0].pendencies
    assert pendency.occurrence_type == catalog_a["Ocorrencia - Reembolso"]
    assert pendency.beneficiary_identifier == card_a.cpf
    assert pendency.unit == pendency_unit_a


def test_earlier_indications_and_every_request_are_listed(
    call_center_a, card_a, attendant_a, operator_a, pendency_unit_a, catalog_a
):
    contact = start(attendant_a, operator_a, "C-100")
    first = contact_items(contact)[0].occurrence
    client = signed_in(attendant_a)
    client.post(
        f"/atendimento/{contact.pk}/servico/indicacao/",
        {
            "service-occurrence": first.pk,
            "service-unit": pendency_unit_a.pk,
            "service-description": "Indica a Clínica Boa Vista",
        },
    )
    [indication] = contact_items(contact)[0].pendencies
    later = start(attendant_a, operator_a, "C-100")
    page = client.get(f"/atendimento/{later.pk}/servico/indicacao/").content.decode()
    assert indication.protocol in page
    Guide.objects.create(
        operator=operator_a,
        beneficiary=card_a,
        number="887766",
        kind=GuideKind.HOSPITALISATION,
        issued_on=timezone.localdate(),
        procedure="Internação eletiva",
        situation=GuideSituation.UNDER_REVIEW,
    )
    listed = client.get(f"/atendimento/{later.pk}/consulta/requests/").content.decode()
    assert indication.protocol in listed and "887766" in listed
    assert first.protocol not in listed  # a call's own protocol is not a request


def test_an_unknown_service_is_not_found(call_center_a, card_a, attendant_a, operator_a):
    contact = start(attendant_a, operator_a, "C-100")
    response = signed_in(attendant_a).get(f"/atendimento/{contact.pk}/servico/emprestimo/")
    assert response.status_code == 404


def test_the_portal_refuses_a_refund_to_a_card_with_a_blocking_critique(
    call_center_a, suspended, app_a, catalog_a, operator_a
):
    from atende.callcenter.presets import CARD_COPY
    from atende.occurrences.models import Occurrence
    from atende.portal.models import BeneficiaryLogin
    from atende.portal.services import beneficiary_login_create

    password = "Senha-do-portal-2026"
    account = beneficiary_login_create(
        operator=operator_a,
        login="C-300",
        cpf=suspended.cpf,
        name=suspended.name,
        password=password,
    )
    BeneficiaryLogin.objects.filter(pk=account.pk).update(beneficiary=suspended)
    portal = Client()
    bundle = app_a.bundle
    signed = portal.post(f"/portal/{bundle}/entrar/", {"cpf": suspended.cpf, "password": password})
    assert signed.status_code == 302
    refund = catalog_a["Ocorrencia - Reembolso"]
    page = portal.get(f"/portal/{bundle}/nova/", {"tipo": refund.pk}).content.decode()
    assert "data-refused" in page and "suspenso" in page.lower() and "<textarea" not in page
    posted = portal.post(
        f"/portal/{bundle}/nova/?tipo={refund.pk}", {"description": "Reembolso de consulta"}
    )
    assert posted.status_code == 400
    assert not Occurrence.objects.filter(occurrence_type=refund).exists()
    copy = operator_a.occurrence_types.get(name=CARD_COPY)
    other = portal.get(f"/portal/{bundle}/nova/", {"tipo": copy.pk}).content.decode()
    assert "data-refused" not in other and "<textarea" in other


def test_the_api_refuses_a_refund_to_a_card_with_a_blocking_critique(
    call_center_a, suspended, app_a, catalog_a, operator_a
):
    """An app creating a refund names a CPF: its only card, or the card of the contract
    named, answers for it; a CPF of several cards must name the contract."""
    import json

    from atende.occurrences.models import Occurrence
    from atende.tenancy.models import Scope
    from atende.tenancy.services import api_token_create
    from atende.testing.beneficiaries import card_upserted

    _, plain = api_token_create(application=app_a, name="app", scopes=[Scope.OCCURRENCES_WRITE])
    app = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    refund = catalog_a["Ocorrencia - Reembolso"]

    def create(**body):
        return app.post(
            "/api/v1/occurrences",
            json.dumps({"occurrence_type_id": refund.pk, **body}),
            content_type="application/json",
        )

    refused = create(beneficiary_identifier=suspended.cpf)
    assert refused.status_code == 400
    assert "suspenso" in json.dumps(refused.json(), ensure_ascii=False).lower()
    assert not Occurrence.objects.exists()

    card_upserted(
        operator_a,
        card="C-301",
        cpf=suspended.cpf,
        name=suspended.name,
        contract_number="CT-NOVO",
    )
    ambiguous = create(beneficiary_identifier=suspended.cpf)
    assert ambiguous.status_code == 400 and "contract_number" in json.dumps(ambiguous.json())
    assert (
        create(beneficiary_identifier=suspended.cpf, contract_number="CT-NOVO").status_code == 201
    )
    # Another type is not checked; nor a CPF out of the registry.
    other = catalog_a["Atualização Cadastral"]
    assert (
        create(beneficiary_identifier=suspended.cpf, occurrence_type_id=other.pk).status_code == 201
    )
    assert create(beneficiary_identifier="11144477735").status_code == 201
