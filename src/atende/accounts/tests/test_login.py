import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from atende.accounts.models import LoginFailure
from atende.testing.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_first_page_a_visitor_sees_is_the_login_in_portuguese(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/conta/entrar/")
    content = response.content.decode()
    assert '<html lang="pt-br">' in content
    assert "Entrar no Atende" in content
    assert "Senha" in content


def test_the_login_stays_in_portuguese_for_a_browser_asking_for_english(client):
    response = client.get("/conta/entrar/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Entrar no Atende" in response.content.decode()


def test_english_is_available_when_chosen(client):
    client.post("/idioma/", {"language": "en", "next": "/conta/entrar/"})
    assert "Sign in to Atende" in client.get("/conta/entrar/").content.decode()


def test_signing_in_with_email_in_any_case_shows_the_home(client, attendant_a):
    response = client.post(
        "/conta/entrar/",
        {"username": attendant_a.email.upper(), "password": TEST_PASSWORD},
        follow=True,
    )
    content = response.content.decode()
    assert "Olá" in content
    assert "Operadora A" in content
    assert "Central A" in content


def test_a_wrong_password_is_told_plainly(client, attendant_a):
    response = client.post("/conta/entrar/", {"username": attendant_a.email, "password": "x"})
    assert "E-mail ou senha incorretos" in response.content.decode()


def test_repeated_failures_lock_the_account_even_with_the_right_password(
    client, attendant_a, settings
):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/conta/entrar/", {"username": attendant_a.email, "password": "errada"})
    response = client.post(
        "/conta/entrar/", {"username": attendant_a.email, "password": TEST_PASSWORD}
    )
    assert "Muitas tentativas sem sucesso" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_are_stored_without_personal_data(client, attendant_a):
    client.post("/conta/entrar/", {"username": attendant_a.email, "password": "errada"})
    keys = list(LoginFailure.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert all(attendant_a.email not in key and "127.0.0.1" not in key for key in keys)


def test_a_successful_login_forgives_earlier_account_failures(client, attendant_a, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        client.post("/conta/entrar/", {"username": attendant_a.email, "password": "errada"})
    client.post("/conta/entrar/", {"username": attendant_a.email, "password": TEST_PASSWORD})
    assert not LoginFailure.objects.filter(kind=LoginFailure.Kind.ACCOUNT).exists()


def test_the_admin_login_is_throttled_too(client, settings):
    admin = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": admin.email, "password": "errada"})
    response = client.post("/admin/login/", {"username": admin.email, "password": TEST_PASSWORD})
    assert "Muitas tentativas sem sucesso" in response.content.decode()


def test_attendants_cannot_enter_the_platform_admin(client, attendant_a):
    client.force_login(attendant_a)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login/")


def test_e_mail_addresses_are_unique_whatever_their_case():
    UserFactory(email="maria@exemplo.com.br")
    with pytest.raises(ValidationError):
        get_user_model().objects.create_user("Maria@Exemplo.com.br", "x", full_name="Maria")


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from atende import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_argon2_hashes_and_checks_a_password(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = get_user_model().objects.create_user(
        "argon@exemplo.com.br", "segredo-longo", full_name="A"
    )
    assert user.password.startswith("argon2$")
    assert user.check_password("segredo-longo")


def test_session_and_csrf_cookies_are_protected(client, attendant_a, settings):
    response = client.post(
        "/conta/entrar/", {"username": attendant_a.email, "password": TEST_PASSWORD}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
