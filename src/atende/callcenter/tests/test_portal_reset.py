"""Seed 003's portal password reset from a call: the e-mail goes through the delivery
pipeline to a real SMTP server; the temporary password works once, within 24 hours, and
the portal then demands a new one; resets are recorded and limited per login; wrong
temporary passwords count toward the portal's sign-in throttling."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from atende.callcenter.models import ContactEntry, EntryKind
from atende.callcenter.services import RESETS_PER_DAY
from atende.notifications.models import Delivery, Purpose
from atende.notifications.services import deliveries_drain
from atende.portal.models import BeneficiaryLogin
from atende.portal.services import beneficiary_login_create

pytestmark = pytest.mark.django_db

PASSWORD = "Senha-do-portal-2026"


def login_for(card, login="C-100", email="joana@example.com"):
    account = beneficiary_login_create(
        operator=card.operator,
        login=login,
        cpf=card.cpf,
        name=card.name,
        email=email,
        password=PASSWORD,
    )
    return account


def attendant(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def portal_sign_in(client: Client, bundle: str, cpf: str, password: str):
    return client.post(f"/portal/{bundle}/entrar/", {"cpf": cpf, "password": password})


def test_a_reset_e_mails_a_temporary_password_that_works_once(
    contact, attendant_a, card_a, app_a, smtp
):
    account = login_for(card_a)
    url = f"/atendimento/{contact.pk}/senha-portal/"
    client = attendant(attendant_a)
    question = client.get(url).content.decode()
    assert 'data-portal="confirm"' in question and "C-100" in question
    done = client.post(url, {"login": account.pk, "confirmed": "1"})
    assert 'data-portal="done"' in done.content.decode()
    delivery = Delivery.objects.get()
    assert delivery.purpose == Purpose.PORTAL_TEMPORARY_PASSWORD
    assert delivery.body == "" and delivery.recipient == "joana@example.com"

    assert deliveries_drain() == 1
    [message] = smtp.messages
    assert message["To"] == "joana@example.com"
    code = re.search(r"\b(\d{8})\b", message.get_body(("plain",)).get_content()).group(1)
    delivery.refresh_from_db()
    assert code not in (delivery.body + delivery.html + str(delivery.payload))
    account.refresh_from_db()
    assert code not in account.temporary_password  # only its hash is kept

    portal = Client()
    bundle = app_a.bundle
    assert portal_sign_in(portal, bundle, card_a.cpf, code).status_code == 302
    home = portal.get(f"/portal/{bundle}/")
    assert home.status_code == 302 and home.url == f"/portal/{bundle}/nova-senha/"
    weak = portal.post(home.url, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400
    new = "Minha-nova-senha-2026"
    assert portal.post(home.url, {"new_password1": new, "new_password2": new}).status_code == 302
    assert portal.get(f"/portal/{bundle}/").status_code == 200
    account.refresh_from_db()
    assert account.check_password(new) and not account.must_change_password

    again = Client()
    refused = portal_sign_in(again, bundle, card_a.cpf, code)
    assert refused.status_code == 400, "the temporary password works once"
    assert portal_sign_in(again, bundle, card_a.cpf, new).status_code == 302

    entry = ContactEntry.objects.get(kind=EntryKind.PASSWORD_RESET)
    assert entry.login == account and entry.actor == attendant_a


def test_an_expired_temporary_password_does_not_work(contact, attendant_a, card_a, app_a, smtp):
    account = login_for(card_a)
    attendant(attendant_a).post(
        f"/atendimento/{contact.pk}/senha-portal/", {"login": account.pk, "confirmed": "1"}
    )
    deliveries_drain()
    code = re.search(r"\b(\d{8})\b", smtp.messages[0].get_body(("plain",)).get_content()).group(1)
    BeneficiaryLogin.objects.filter(pk=account.pk).update(
        temporary_until=timezone.now() - timedelta(seconds=1)
    )
    assert portal_sign_in(Client(), app_a.bundle, card_a.cpf, code).status_code == 400


def test_wrong_temporary_passwords_count_toward_the_throttle(
    contact, attendant_a, card_a, app_a, smtp, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    account = login_for(card_a)
    attendant(attendant_a).post(
        f"/atendimento/{contact.pk}/senha-portal/", {"login": account.pk, "confirmed": "1"}
    )
    deliveries_drain()
    code = re.search(r"\b(\d{8})\b", smtp.messages[0].get_body(("plain",)).get_content()).group(1)
    wrong = "00000000" if code != "00000000" else "11111111"
    portal = Client()
    for _ in range(3):
        assert portal_sign_in(portal, app_a.bundle, card_a.cpf, wrong).status_code == 400
    throttled = portal_sign_in(portal, app_a.bundle, card_a.cpf, code)
    assert throttled.status_code == 400
    assert "Muitas tentativas" in throttled.content.decode()
    account.refresh_from_db()
    assert account.temporary_password, "a throttled attempt does not spend it"


def test_resets_are_limited_per_login(contact, attendant_a, card_a):
    account = login_for(card_a)
    client = attendant(attendant_a)
    url = f"/atendimento/{contact.pk}/senha-portal/"
    for _ in range(RESETS_PER_DAY):
        assert client.post(url, {"login": account.pk, "confirmed": "1"}).status_code == 200
    refused = client.post(url, {"login": account.pk, "confirmed": "1"})
    assert refused.status_code == 400
    assert "tente novamente amanhã" in refused.content.decode()
    assert Delivery.objects.count() == RESETS_PER_DAY


def test_no_login_is_an_alert_and_several_are_chosen_from(contact, attendant_a, card_a):
    client = attendant(attendant_a)
    url = f"/atendimento/{contact.pk}/senha-portal/"
    assert 'data-portal="none"' in client.get(url).content.decode()
    first = login_for(card_a)
    login_for(card_a, login="C-100-B", email="")
    grid = client.get(url).content.decode()
    assert 'data-portal="choose"' in grid and "C-100-B" in grid
    question = client.post(url, {"login": first.pk}).content.decode()
    assert 'data-portal="confirm"' in question
    assert not Delivery.objects.exists(), "nothing is sent before the confirmation"


def test_a_login_without_e_mail_cannot_get_one(contact, attendant_a, card_a):
    account = login_for(card_a, email="")
    response = attendant(attendant_a).post(
        f"/atendimento/{contact.pk}/senha-portal/", {"login": account.pk, "confirmed": "1"}
    )
    assert response.status_code == 400
    assert not Delivery.objects.exists()


def test_another_persons_login_cannot_be_reset(contact, attendant_a, operator_a, card_a):
    from atende.testing.beneficiaries import card_upserted, cpf_numbers

    other = card_upserted(operator_a, card="C-900", cpf=cpf_numbers(5)[4])
    stranger = login_for(other, login="C-900", email="x@example.com")
    response = attendant(attendant_a).post(
        f"/atendimento/{contact.pk}/senha-portal/", {"login": stranger.pk, "confirmed": "1"}
    )
    assert response.status_code == 400
    assert not Delivery.objects.exists()
