import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from atende.notifications.models import Delivery, Purpose
from atende.notifications.services import deliveries_drain

pytestmark = pytest.mark.django_db


def test_asking_for_an_unknown_address_looks_the_same_and_sends_nothing(client, attendant_a):
    known = client.post("/conta/senha/", {"email": attendant_a.email})
    unknown = client.post("/conta/senha/", {"email": "ninguem@exemplo.com.br"})

    def main(response) -> str:
        return response.content.decode().split('<main id="main">')[1]

    assert main(known) == main(unknown)
    assert "Confira seu e-mail" in main(unknown)


def test_a_request_for_a_known_address_makes_one_delivery_without_the_token(client, attendant_a):
    client.post("/conta/senha/", {"email": attendant_a.email.upper()})
    delivery = Delivery.objects.get()
    assert (delivery.purpose, delivery.recipient) == (Purpose.PASSWORD_RESET, attendant_a.email)
    assert delivery.payload == {"user_id": attendant_a.pk}
    assert delivery.body == "" and delivery.html == "", "the link is made at send time"


def test_a_malformed_address_is_told(client):
    response = client.post("/conta/senha/", {"email": "nao-e-email"})
    assert "Informe um endereço de email válido" in response.content.decode()


def test_the_e_mail_carries_a_working_link_in_portuguese(client, attendant_a):
    client.post("/conta/senha/", {"email": attendant_a.email})
    assert deliveries_drain() == 1
    message = mail.outbox[0]
    assert message.to == [attendant_a.email]
    assert message.subject == "Atende: redefinição de senha"
    link = next(word for word in message.body.split() if word.startswith("http"))
    path = link.removeprefix("http://127.0.0.1:8000")
    page = client.get(path, follow=True)
    assert "Escolha uma nova senha" in page.content.decode()
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "Nova-senha-forte-2026", "new_password2": "Nova-senha-forte-2026"},
        follow=True,
    )
    assert "Senha alterada" in response.content.decode()
    attendant_a.refresh_from_db()
    assert attendant_a.check_password("Nova-senha-forte-2026")


def test_a_used_link_is_refused_with_a_message(client, attendant_a):
    uid = urlsafe_base64_encode(force_bytes(attendant_a.pk))
    token = default_token_generator.make_token(attendant_a)
    attendant_a.set_password("outra-senha-qualquer")
    attendant_a.save()
    response = client.get(f"/conta/senha/{uid}/{token}/", follow=True)
    assert "não é mais válido" in response.content.decode()
