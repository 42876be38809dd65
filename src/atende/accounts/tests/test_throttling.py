"""Sign-in throttling that holds under attack: attempts sent together are counted before any
password is checked, the address behind a proxy is the one the proxy saw, and asking for
reset e-mails is limited per account and per address with the same page either way."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from atende.notifications.models import Delivery
from atende.portal.services import beneficiary_login_create
from atende.testing.factories import TEST_PASSWORD, UserFactory

WRONG = "E-mail ou senha incorretos"
# Each page carries its own CSRF token (a form field and htmx's header).
CSRF_TOKEN = re.compile(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*"')
THROTTLED = "Muitas tentativas sem sucesso"


def _seen(page) -> bytes:
    """The page as the person sees it."""
    return CSRF_TOKEN.sub(rb"\1", page.content)


def _sign_in(email: str, password: str, **headers: str) -> str:
    response = Client(**headers).post("/conta/entrar/", {"username": email, "password": password})
    if response.status_code == 302:
        return "signed_in"
    content = response.content.decode()
    return "throttled" if THROTTLED in content else "wrong" if WRONG in content else content


@pytest.mark.django_db(transaction=True)
def test_forty_wrong_passwords_at_once_get_exactly_the_limit_checked(attendant_a, settings):
    # A slow hash widens the moment between the count and the check, as in production.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.LOGIN_FAILURE_LIMIT = 5

    def attempt(_: int) -> str:
        try:
            return _sign_in(attendant_a.email, "errada")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = list(pool.map(attempt, range(40)))

    assert outcomes.count("wrong") == 5, outcomes
    assert outcomes.count("throttled") == 35, outcomes


@pytest.fixture
def behind_proxy(settings):
    # What ATENDE_BEHIND_PROXY=true sets.
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT = 5


def _through_proxy(forwarded: str) -> dict[str, str]:
    # The proxy (REMOTE_ADDR) appended the address it was reached from, last.
    return {"HTTP_X_FORWARDED_FOR": forwarded, "REMOTE_ADDR": "10.0.0.2"}


@pytest.mark.django_db
def test_rotating_the_forwarded_header_does_not_escape_the_address_limit(behind_proxy, operator_a):
    outcomes = [
        _sign_in(f"pessoa{n}@a.example", "errada", **_through_proxy(f"198.51.100.{n}, 203.0.113.9"))
        for n in range(7)
    ]
    assert outcomes == ["wrong"] * 5 + ["throttled"] * 2


@pytest.mark.django_db
def test_nobody_can_lock_out_another_address_by_naming_it(behind_proxy, attendant_a):
    for n in range(7):
        _sign_in(f"pessoa{n}@a.example", "errada", **_through_proxy("198.51.100.7, 203.0.113.9"))
    # 198.51.100.7 itself, through the same proxy, still signs in.
    assert _sign_in(attendant_a.email, TEST_PASSWORD, **_through_proxy("198.51.100.7")) == (
        "signed_in"
    )


@pytest.mark.django_db
def test_with_two_proxies_the_client_is_the_second_address_from_the_right(settings, operator_a):
    settings.BEHIND_PROXY, settings.PROXY_COUNT, settings.LOGIN_FAILURE_LIMIT = True, 2, 3
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    outcomes = [
        _sign_in(
            f"pessoa{n}@a.example",
            "errada",
            **_through_proxy(f"198.51.100.{n}, 203.0.113.9, 10.0.0.1"),
        )
        for n in range(4)
    ]
    assert outcomes == ["wrong"] * 3 + ["throttled"]


@pytest.mark.django_db
def test_reset_e_mails_are_limited_per_account_with_the_same_page(client, attendant_a, settings):
    settings.PASSWORD_RESET_ACCOUNT_LIMIT = 3
    pages = [
        client.post("/conta/senha/", {"email": attendant_a.email}, REMOTE_ADDR=f"192.0.2.{n}")
        for n in range(20)
    ]
    assert Delivery.objects.count() == 3
    assert {page.status_code for page in pages} == {200}
    assert len({_seen(page) for page in pages}) == 1


@pytest.mark.django_db
def test_reset_e_mails_are_limited_per_client_address(client, operator_a, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 4
    emails = [f"pessoa{n}@a.example" for n in range(6)]
    for email in emails:
        UserFactory(email=email)
    for email in emails:
        client.post("/conta/senha/", {"email": email}, REMOTE_ADDR="192.0.2.50")
    assert Delivery.objects.count() == 4


@pytest.mark.django_db
def test_portal_reset_e_mails_are_limited_too(client, operator_a, app_a, settings):
    settings.PASSWORD_RESET_ACCOUNT_LIMIT = 2
    cpf = "52998224725"
    beneficiary_login_create(
        operator=operator_a,
        login="0001234",
        cpf=cpf,
        name="Beatriz",
        password="Senha-2026-boa",
        email="beatriz@exemplo.com.br",
    )
    pages = [client.post(f"/portal/{app_a.bundle}/senha/", {"cpf": cpf}) for _ in range(5)]
    assert Delivery.objects.count() == 2
    assert len({_seen(page) for page in pages}) == 1
