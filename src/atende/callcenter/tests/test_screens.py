"""The call center's screens through Django's test client: who reaches them, a refused
form keeps what was typed, and each step's result on the page."""

import pytest
from django.test import Client

from atende.callcenter.models import Call, Contact, ContactEntry, ContactStatus, EntryKind
from atende.callcenter.selectors import contact_items, contact_status
from atende.callcenter.services import contact_start
from atende.callcenter.tests.conftest import manifestation_values
from atende.occurrences.models import State
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import submission_key_of

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(prefix: str, values: dict) -> dict:
    data = {f"{prefix}-{k}": v for k, v in values.items() if k != "guides"}
    return data


def test_the_registration_page_offers_the_form_and_the_search(
    call_center_a, attendant_a, operator_a
):
    response = signed_in(attendant_a).get("/atendimento/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Iniciar atendimento" in text
    assert "Pesquisar beneficiário" in text
    assert 'href="/atendimento/"' in text  # the navigation's entry


def test_people_who_do_not_attend_do_not_reach_it(call_center_a, operator_a):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    assert signed_in(configurator).get("/atendimento/").status_code == 404
    assert Client().get("/atendimento/").status_code == 302


def test_starting_opens_the_contact_with_its_protocol(
    call_center_a, card_a, attendant_a, operator_a
):
    client = signed_in(attendant_a)
    response = client.post(
        "/atendimento/",
        {
            "attendant_operator": operator_a.pk,
            "operator": operator_a.pk,
            "card": "C-100",
            "channel": "telefone",
        },
    )
    contact = Contact.objects.get()
    assert response.status_code == 302 and response.url == f"/atendimento/{contact.pk}/"
    page = client.get(response.url).content.decode()
    protocol = contact_items(contact)[0].occurrence.protocol
    assert f"data-protocol>{protocol}</strong>" in page
    assert "Joana Beneficiária" in page
    cpf = card_a.cpf  # stored as digits, read with its dots and dash
    assert f"<dt>CPF</dt><dd>{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}</dd>" in page


def test_an_unknown_card_is_refused_keeping_what_was_typed(
    call_center_a, card_a, attendant_a, operator_a
):
    response = signed_in(attendant_a).post(
        "/atendimento/",
        {
            "attendant_operator": operator_a.pk,
            "operator": operator_a.pk,
            "card": "C-404",
            "channel": "whatsapp",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nenhum beneficiário desta operadora tem este cartão." in text
    assert 'value="C-404"' in text
    assert '<option value="whatsapp" selected>' in text
    assert not Contact.objects.exists()


def test_a_refused_manifestation_keeps_what_was_typed(contact, group_a, attendant_a):
    occurrence = contact_items(contact)[0].occurrence
    values = manifestation_values(contact.operator, group_a, description="", observation="Urgente")
    response = signed_in(attendant_a).post(
        f"/atendimento/{contact.pk}/manifestacao/{occurrence.pk}/",
        form_data(f"m{occurrence.pk}", values),
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Este campo é obrigatório." in text
    assert "Urgente</textarea>" in text
    occurrence.refresh_from_db()
    assert occurrence.classification_id is None


def test_a_whole_contact_through_the_screens(
    contact, group_a, attendant_a, pendency_unit_a, catalog_a
):
    client = signed_in(attendant_a)
    occurrence = contact_items(contact)[0].occurrence
    values = manifestation_values(contact.operator, group_a)
    data = form_data(f"m{occurrence.pk}", values)
    data[f"m{occurrence.pk}-guide_number_1"] = "12345"
    data[f"m{occurrence.pk}-guide_kind_1"] = "consulta"
    response = client.post(f"/atendimento/{contact.pk}/manifestacao/{occurrence.pk}/", data)
    assert response.status_code == 302
    occurrence.refresh_from_db()
    assert occurrence.guides == [{"number": "12345", "kind": "consulta", "password": ""}]
    kind = catalog_a["Solicitação de Autorização"]
    prefix = f"p{occurrence.pk}"
    forms = client.get(f"/atendimento/{contact.pk}/protocolo/{occurrence.pk}/").content.decode()
    key = submission_key_of(forms)
    for _ in range(2):  # the form sent twice raises one pendency
        response = client.post(
            f"/atendimento/{contact.pk}/pendencia/{occurrence.pk}/",
            {
                f"{prefix}-occurrence_type": kind.pk,
                f"{prefix}-unit": pendency_unit_a.pk,
                f"{prefix}-description": "Autorizar",
                "submission": key,
            },
        )
        assert response.status_code == 302
    assert len(contact_items(contact)[0].pendencies) == 1
    assert client.post(f"/atendimento/{contact.pk}/finalizar/").status_code == 302
    assert contact_status(contact) == ContactStatus.PENDING
    page = client.get(f"/atendimento/{contact.pk}/").content.decode()
    assert 'data-status="pendente"' in page
    assert "Novo evento" not in page  # a finished contact offers no more steps
    assert "Fechar" in page


def test_a_pendency_needs_its_unit(contact, attendant_a, catalog_a):
    occurrence = contact_items(contact)[0].occurrence
    prefix = f"p{occurrence.pk}"
    response = signed_in(attendant_a).post(
        f"/atendimento/{contact.pk}/pendencia/{occurrence.pk}/",
        {f"{prefix}-occurrence_type": catalog_a["Solicitação de Autorização"].pk},
    )
    assert response.status_code == 400
    assert contact_items(contact)[0].pendencies == []


def test_finishing_without_manifestation_says_why(contact, attendant_a):
    client = signed_in(attendant_a)
    response = client.post(f"/atendimento/{contact.pk}/finalizar/", follow=True)
    protocol = contact_items(contact)[0].occurrence.protocol
    assert f"Registre a manifestação do protocolo {protocol}" in response.content.decode()
    assert contact_status(contact) == ContactStatus.IN_PROGRESS


def test_abandoning_keeps_the_protocol(contact, attendant_a):
    client = signed_in(attendant_a)
    services = f'hx-get="/atendimento/{contact.pk}/servico/reembolso/"'
    assert services in client.get(f"/atendimento/{contact.pk}/").content.decode()
    assert client.post(f"/atendimento/{contact.pk}/abandonar/").status_code == 302
    assert contact_status(contact) == ContactStatus.ABANDONED
    assert contact_items(contact)[0].occurrence.state == State.CLOSED
    # Ended, the call offers no request (each would be refused): what it was is still read.
    page = client.get(f"/atendimento/{contact.pk}/").content.decode()
    assert services not in page and "Serviços" not in page
    assert f'hx-get="/atendimento/{contact.pk}/consulta/history/"' in page


def test_another_operator_does_not_see_the_contact(contact, attendant_b):
    client = signed_in(attendant_b)
    assert client.get(f"/atendimento/{contact.pk}/").status_code == 404
    assert client.post(f"/atendimento/{contact.pk}/abandonar/").status_code == 404
    assert contact_status(contact) == ContactStatus.IN_PROGRESS


def test_another_attendant_does_not_see_it_but_the_supervisor_does(
    contact, operator_a, supervisor_a
):
    other = MembershipFactory(operator=operator_a, role=Role.ATTENDANT).user
    assert signed_in(other).get(f"/atendimento/{contact.pk}/").status_code == 404
    assert signed_in(supervisor_a).get(f"/atendimento/{contact.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("detail", EntryKind.DETAIL),
        ("history", EntryKind.HISTORY),
        ("waiting", EntryKind.WAITING),
        ("financial", EntryKind.FINANCIAL),
    ],
)
def test_each_side_panel_section_is_recorded(contact, attendant_a, name, kind):
    response = signed_in(attendant_a).get(f"/atendimento/{contact.pk}/consulta/{name}/")
    assert response.status_code == 200
    assert f'data-section="{name}"' in response.content.decode()
    assert list(ContactEntry.objects.values_list("kind", flat=True)) == [kind]


def test_an_unknown_section_is_not_found(contact, attendant_a):
    response = signed_in(attendant_a).get(f"/atendimento/{contact.pk}/consulta/segredos/")
    assert response.status_code == 404
    assert not ContactEntry.objects.exists()


def test_sending_the_protocol_goes_through_the_delivery_pipeline(contact, attendant_a):
    from atende.notifications.models import Delivery, Purpose

    occurrence = contact_items(contact)[0].occurrence
    prefix = f"s{occurrence.pk}"
    client = signed_in(attendant_a)
    refused = client.post(
        f"/atendimento/{contact.pk}/enviar/{occurrence.pk}/",
        {f"{prefix}-channel": "email", f"{prefix}-recipient": "not-an-address"},
    )
    assert refused.status_code == 400
    assert 'value="not-an-address"' in refused.content.decode()
    sms = client.post(
        f"/atendimento/{contact.pk}/enviar/{occurrence.pk}/",
        {f"{prefix}-channel": "sms", f"{prefix}-recipient": "11987654321"},
    )
    assert sms.status_code == 400
    assert "SMS" in sms.content.decode()
    response = client.post(
        f"/atendimento/{contact.pk}/enviar/{occurrence.pk}/",
        {f"{prefix}-channel": "email", f"{prefix}-recipient": "outra@example.com"},
    )
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.purpose == Purpose.PROTOCOL
    assert delivery.recipient == "outra@example.com"
    assert occurrence.protocol in delivery.body
    entry = ContactEntry.objects.get()
    assert entry.kind == EntryKind.PROTOCOL_SENT and "outra@example.com" in entry.text


def test_a_waiting_call_is_offered_and_fills_the_form(
    call_center_a, card_a, attendant_a, operator_a, app_a
):
    from django.utils import timezone

    call = Call.objects.create(
        operator=operator_a,
        application=app_a,
        caller_number="+5511987654321",
        ivr_code="C-100",
        channel="telefone",
        attendant=attendant_a,
        received_at=timezone.now(),
    )
    client = signed_in(attendant_a)
    offered = client.get("/atendimento/chamadas/").content.decode()
    assert f"/atendimento/?call={call.pk}" in offered
    form = client.get(f"/atendimento/?call={call.pk}").content.decode()
    assert 'value="C-100"' in form
    assert f'name="call" value="{call.pk}"' in form
    response = client.post(
        "/atendimento/",
        {
            "attendant_operator": operator_a.pk,
            "operator": operator_a.pk,
            "card": "C-100",
            "channel": "telefone",
            "call": call.pk,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Contact.objects.get().call == call
    assert client.get("/atendimento/chamadas/").content.decode().strip() == ""


def test_the_panel_shows_and_filters_by_the_manifestation(
    contact, group_a, attendant_a, operator_a
):
    from atende.callcenter.services import contact_new_event, manifestation_record
    from atende.catalog.models import Level, Scale

    first = contact_items(contact)[0].occurrence
    high = Level.objects.get(operator=operator_a, scale=Scale.PRIORITY, name="Alta")
    values = manifestation_values(operator_a, group_a, priority=high.pk, observation="Idosa")
    manifestation_record(user=attendant_a, contact=contact, occurrence_id=first.pk, **values)
    other = contact_new_event(user=attendant_a, contact=contact)
    client = signed_in(attendant_a)
    page = client.get(f"/painel/{first.protocol}/").content.decode()
    assert "<dd data-priority>Alta</dd>" in page
    assert "Idosa" in page
    queue = client.get("/painel/", {"priority": high.pk}).content.decode()
    assert f'data-protocol="{first.protocol}"' in queue
    assert f'data-protocol="{other.protocol}"' not in queue
    assert 'data-priority="3"' in queue


def test_updating_the_contact_data_is_audited_in_the_registry(contact, attendant_a, card_a):
    from atende.beneficiaries.models import Change, ChangeKind

    client = signed_in(attendant_a)
    url = f"/atendimento/{contact.pk}/dados/"
    form = client.get(url).content.decode()
    assert "(11) 98765-4321" in form and "joana@example.com" in form
    refused = client.post(url, {"phones": "12", "emails": "joana@example.com"})
    assert refused.status_code == 400
    assert ">12</textarea>" in refused.content.decode().replace("\n", "")
    saved = client.post(url, {"phones": "(21) 99876-5432\n(11) 98765-4321", "emails": ""})
    assert "data-updated" in saved.content.decode()
    values = list(card_a.contacts.order_by("-is_main", "id").values_list("kind", "value"))
    assert values == [("phone", "+5521998765432"), ("phone", "+5511987654321")]
    change = Change.objects.filter(beneficiary=card_a, kind=ChangeKind.UPDATED).get()
    assert change.user == attendant_a
    assert change.fields["emails"] == [["joana@example.com"], []]
    assert ContactEntry.objects.get(contact=contact).kind == EntryKind.DATA_UPDATED
    card_a.refresh_from_db()
    assert card_a.digest == "", "the operator's next record for the card is applied"


def test_a_protocols_forms_come_after_the_page(contact, attendant_a, operator_a, card_a):
    occurrence = contact_items(contact)[0].occurrence
    client = signed_in(attendant_a)
    page = client.get(f"/atendimento/{contact.pk}/").content.decode()
    assert f'hx-get="/atendimento/{contact.pk}/protocolo/{occurrence.pk}/"' in page
    assert "data-manifestation" not in page  # the protocol first, the forms next
    forms = client.get(f"/atendimento/{contact.pk}/protocolo/{occurrence.pk}/").content.decode()
    assert "data-manifestation" in forms and "Gerar pendência" in forms
    other = contact_start(
        user=attendant_a,
        attendant_operator_id=operator_a.pk,
        operator_id=operator_a.pk,
        card="C-100",
    )
    foreign = contact_items(other)[0].occurrence
    assert client.get(f"/atendimento/{contact.pk}/protocolo/{foreign.pk}/").status_code == 404


def test_started_from_the_page_the_protocol_comes_in_the_same_answer(
    call_center_a, card_a, attendant_a, operator_a
):
    response = signed_in(attendant_a).post(
        "/atendimento/",
        {
            "attendant_operator": operator_a.pk,
            "operator": operator_a.pk,
            "card": "C-100",
            "channel": "telefone",
        },
        HTTP_HX_REQUEST="true",
    )
    contact = Contact.objects.get()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/atendimento/{contact.pk}/"
    protocol = contact_items(contact)[0].occurrence.protocol
    assert f"data-protocol>{protocol}</strong>" in response.content.decode()


def test_a_form_sent_twice_starts_one_contact_and_issues_one_new_protocol(
    call_center_a, card_a, attendant_a, operator_a
):
    """Each form carries a one-time key: sent again (no JavaScript, a network retry, Back
    and send), it finds what the first send made instead of making another."""
    client = signed_in(attendant_a)
    page = client.get("/atendimento/").content.decode()
    key = submission_key_of(page)
    start = {
        "attendant_operator": operator_a.pk,
        "operator": operator_a.pk,
        "card": "C-100",
        "channel": "telefone",
        "submission": key,
    }
    first = client.post("/atendimento/", start)
    again = client.post("/atendimento/", start)
    contact = Contact.objects.get()
    assert first.url == again.url == f"/atendimento/{contact.pk}/"

    page = client.get(first.url).content.decode()
    event_key = submission_key_of(page)
    assert event_key != key
    for _ in range(2):
        sent = client.post(f"/atendimento/{contact.pk}/novo-evento/", {"submission": event_key})
        assert sent.status_code == 302
    assert len(contact_items(contact)) == 2
    # Another send of the form (a new key) is another protocol, as it should be.
    client.post(f"/atendimento/{contact.pk}/novo-evento/", {"submission": "f" * 32})
    assert len(contact_items(contact)) == 3
    assert Contact.objects.count() == 1
