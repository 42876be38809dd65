"""Devolução de valores (issue 21): the type with the seed's three specifications, each
with its form checked on the server at opening, and the payment receipt required."""

import base64
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atende.occurrences.models import Occurrence
from atende.occurrences.services import actor_for_user
from atende.registrations.models import OpeningForm
from atende.registrations.presets import install_refunds
from atende.registrations.tests.conftest import ADDRESS
from atende.registrations.tests.test_services import PNG, opened

pytestmark = pytest.mark.django_db

DUPLICATE = {
    "documento": "0001234-5",
    "valor_pago": "89,90",
    "data_primeiro": "2026-11-10",
    "data_segundo": "2026-11-12",
    "banco": "Banco do Brasil",
    "agencia": "1234",
    "conta": "56789-0",
    "cpf_titular": "529.982.247-25",
}


@pytest.fixture
def refund(water, operator_b, desk_unit):
    return install_refunds(operator_b, unit=desk_unit)


@pytest.fixture
def duplicate(refund):
    return refund.subjects.get(name="Pagamento em duplicidade")


def receipt():
    return SimpleUploadedFile("comprovante.png", PNG, "image/png")


def test_the_three_refunds_are_configured(refund):
    assert sorted(refund.subjects.values_list("name", flat=True)) == [
        "Pagamento com valor maior que o documento",
        "Pagamento em duplicidade",
        "Valor cobrado indevidamente em documento pago",
    ]
    assert {s.required_document for s in refund.subjects.all()} == {"Comprovante de pagamento"}
    assert all(s.form_id for s in refund.subjects.all())


def test_a_refund_needs_its_form_and_the_receipt(duplicate, attendant_water, operator_b, app_b):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    with pytest.raises(ValidationError) as refused:
        opened(
            actor,
            app_b,
            duplicate,
            document=receipt(),
            form_data={**DUPLICATE, "valor_pago": "muito", "cpf_titular": "111.111.111-11"},
        )
    assert set(refused.value.message_dict) == {"form_valor_pago", "form_cpf_titular"}
    with pytest.raises(ValidationError) as refused:
        opened(actor, app_b, duplicate, form_data=DUPLICATE)
    assert "Comprovante de pagamento" in refused.value.message_dict["document"][0]
    occurrence = opened(actor, app_b, duplicate, document=receipt(), form_data=DUPLICATE)
    stored = OpeningForm.objects.get(occurrence=occurrence)
    assert stored.data["valor_pago"] == "89.90" and stored.data["cpf_titular"] == "52998224725"
    assert occurrence.attachments.get().name == "comprovante.png"
    assert Occurrence.objects.count() == 1


def test_the_screen_and_the_api_ask_for_the_specifications_form(
    duplicate, attendant_water, operator_b, app_b
):
    client = Client()
    client.force_login(attendant_water)
    chosen = client.get("/registros/novo/", {"subject": duplicate.pk}).content.decode()
    assert 'id="spec-form"' in chosen and "Data do segundo pagamento" in chosen
    typed = {
        "subject": duplicate.pk,
        "application": app_b.pk,
        "channel": "presencial",
        "description": "Paguei a conta duas vezes",
        **ADDRESS,
        "requester_name": "Joana",
        "requester_phone": "31988887777",
        "confirmed": "on",
        **{f"form_{k}": v for k, v in DUPLICATE.items()},
        "form_data_segundo": "",
    }
    refused = client.post("/registros/novo/", {**typed, "document": receipt()})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="0001234-5"' in page and "Obrigatório." in page
    saved = client.post(
        "/registros/novo/", {**typed, "form_data_segundo": "2026-11-12", "document": receipt()}
    )
    assert saved.status_code == 302
    occurrence = Occurrence.objects.get()
    panel = client.get(f"/registros/{occurrence.protocol}/painel/").content.decode()
    assert "Data do segundo pagamento" in panel and "12/11/2026" in panel

    answer = client.post(
        "/api/v1/registrations",
        json.dumps(
            {
                "application_id": app_b.pk,
                "subject_id": duplicate.pk,
                "description": "Pagamento em dobro",
                "place": {**ADDRESS, "number": "99"},
                "requesters": [{"phone": "31988887777"}],
                "document": {"name": "c.png", "content_base64": base64.b64encode(PNG).decode()},
                "form": {**DUPLICATE, "agencia": ""},
                "open_anyway": True,
            }
        ),
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "form_agencia" in answer.json()["errors"]
