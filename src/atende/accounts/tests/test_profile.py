"""Meu perfil: a person keeps their own name, e-mail address (confirmed by a link sent to
the new address), password and language."""

import re

import pytest
from django.core import signing
from django.urls import reverse

from atende.accounts.models import User
from atende.accounts.services import EMAIL_CONFIRM_SALT, email_confirm_content
from atende.notifications.models import Delivery, Purpose
from atende.testing.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/conta/perfil/"


@pytest.fixture
def person(client):
    user = UserFactory(email="ana@atende.example", full_name="Ana Atendente")
    client.force_login(user)
    return user


def link_sent(to: str) -> str:
    delivery = Delivery.objects.get(purpose=Purpose.EMAIL_CONFIRM, recipient=to)
    _subject, body, _html = email_confirm_content(delivery)
    return re.search(r"http\S+/conta/perfil/email/\S+/", body).group(0)


def test_the_profile_is_reached_from_the_name_in_the_header(client, person):
    page = client.get("/").content.decode()

    assert f'href="{URL}"' in page
    assert client.get(URL).status_code == 200


def test_the_name_is_saved_and_a_blank_one_refused_keeping_the_form(client, person):
    refused = client.post(URL, {"form": "name", "full_name": "   "})
    saved = client.post(URL, {"form": "name", "full_name": " Ana  Maria Atendente "})

    assert refused.status_code == 400
    person.refresh_from_db()
    assert saved.status_code == 302 and person.full_name == "Ana Maria Atendente"


def test_a_new_address_changes_only_when_its_link_is_opened(client, person):
    response = client.post(
        URL, {"form": "email", "email": "Ana.Nova@Atende.example", "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email == "ana@atende.example"
    link = link_sent("ana.nova@atende.example")
    assert "ana.nova@atende.example" in client.get(client.get(link)["Location"]).content.decode()
    person.refresh_from_db()
    assert person.email == "ana.nova@atende.example"
    # The link is spent: the account's address is no longer the one it was sent from.
    client.get(link)
    person.refresh_from_db()
    assert person.email == "ana.nova@atende.example"


def test_a_wrong_password_or_a_taken_address_is_refused_keeping_what_was_typed(client, person):
    UserFactory(email="outra@atende.example")

    wrong = client.post(URL, {"form": "email", "email": "nova@atende.example", "password": "x"})
    taken = client.post(
        URL, {"form": "email", "email": "OUTRA@atende.example", "password": TEST_PASSWORD}
    )

    assert wrong.status_code == 400 and 'value="nova@atende.example"' in wrong.content.decode()
    assert "Sua senha atual não é esta" in wrong.content.decode()
    assert taken.status_code == 400 and "Outro usuário já tem este e-mail" in taken.content.decode()
    assert not Delivery.objects.filter(purpose=Purpose.EMAIL_CONFIRM).exists()


def test_a_link_of_another_person_altered_or_expired_changes_nothing(client, person, settings):
    other = UserFactory(email="bruno@atende.example")
    foreign = signing.dumps(
        {"u": other.pk, "e": "x@atende.example", "w": other.email}, salt=EMAIL_CONFIRM_SALT
    )
    for token in (foreign, foreign[:-2] + "xx"):
        page = client.get(reverse("accounts:email_confirm", args=[token]), follow=True)
        assert "não" in page.content.decode()
    assert User.objects.filter(email__in=["x@atende.example"]).count() == 0
    person.refresh_from_db()
    assert person.email == "ana@atende.example"


def test_the_password_is_changed_and_the_session_kept(client, person):
    response = client.post(
        URL,
        {
            "form": "password",
            "old_password": TEST_PASSWORD,
            "new_password1": "Outra-Senha-2026",
            "new_password2": "Outra-Senha-2026",
        },
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("Outra-Senha-2026")
    assert client.get(URL).status_code == 200  # still signed in
