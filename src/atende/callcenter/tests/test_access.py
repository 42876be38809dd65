"""Every screen and endpoint of the call center refuses the wrong tenant and the wrong
role: another operator's attendant and this operator's configurator find nothing, and
nothing is written."""

import pytest
from django.test import Client

from atende.callcenter.models import ContactEntry
from atende.callcenter.selectors import contact_items
from atende.notifications.models import Delivery
from atende.occurrences.models import Event
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# (method, path; {contact} and {occurrence} filled in, data)
CONTACT_URLS = [
    ("get", "/atendimento/{contact}/", {}),
    ("get", "/atendimento/{contact}/protocolo/{occurrence}/", {}),
    ("post", "/atendimento/{contact}/manifestacao/{occurrence}/", {}),
    ("post", "/atendimento/{contact}/pendencia/{occurrence}/", {}),
    ("post", "/atendimento/{contact}/novo-evento/", {}),
    ("post", "/atendimento/{contact}/finalizar/", {}),
    ("post", "/atendimento/{contact}/abandonar/", {}),
    ("post", "/atendimento/{contact}/enviar/{occurrence}/", {"s{occurrence}-channel": "email"}),
    ("post", "/atendimento/{contact}/auditoria/", {"text": "x"}),
    ("get", "/atendimento/{contact}/consulta/detail/", {}),
    ("get", "/atendimento/{contact}/consulta/history/", {}),
    ("get", "/atendimento/{contact}/senha-portal/", {}),
    ("get", "/atendimento/{contact}/dados/", {}),
    ("post", "/atendimento/{contact}/dados/", {"phones": "", "emails": ""}),
    ("get", "/atendimento/{contact}/sistema-de-gestao/", {}),
    ("get", "/atendimento/{contact}/servico/reembolso/", {}),
]
PAGES = ["/atendimento/", "/atendimento/buscar/?q=Joana", "/atendimento/chamadas/"]


@pytest.fixture(params=["other operator's attendant", "configurator"])
def outsider(request, operator_a, attendant_b):
    if request.param == "configurator":
        return MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    return attendant_b


@pytest.mark.parametrize(("method", "path", "data"), CONTACT_URLS)
def test_a_contact_is_not_found_by_outsiders(contact, outsider, method, path, data):
    occurrence = contact_items(contact)[0].occurrence
    fill = {"contact": contact.pk, "occurrence": occurrence.pk}
    client = Client()
    client.force_login(outsider)
    body = {k.format(**fill): v for k, v in data.items()}
    response = getattr(client, method)(path.format(**fill), body)
    assert response.status_code == 404
    assert not ContactEntry.objects.exists()
    assert not Delivery.objects.exists()
    assert Event.objects.filter(occurrence=occurrence).count() == 2  # created, started
    assert Client().get(path.format(**fill)).status_code == 302  # signed out: sign in


@pytest.mark.parametrize("path", PAGES)
def test_the_call_center_pages_are_not_found_by_configurators(
    call_center_a, card_a, operator_a, path
):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    client = Client()
    client.force_login(configurator)
    assert client.get(path).status_code == 404


def test_the_search_shows_only_the_attendants_operators(
    call_center_a, card_a, attendant_b, operator_b
):
    client = Client()
    client.force_login(attendant_b)
    page = client.get("/atendimento/buscar/", {"q": "Joana"}).content.decode()
    assert "Joana" not in page
