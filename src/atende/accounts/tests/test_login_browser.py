import pytest

from atende.testing.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_attendant_signs_in_from_the_portuguese_login_page(page, live_server, attendant_a):
    page.goto(live_server.url)
    assert page.locator("h1").inner_text() == "Entrar no Atende"
    page.get_by_label("E-mail").fill(attendant_a.email)
    page.get_by_label("Senha").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Olá")
    assert page.get_by_role("cell", name="Operadora A").is_visible()


def test_a_wrong_password_shows_the_error_in_portuguese(page, live_server, attendant_a):
    page.goto(f"{live_server.url}/conta/entrar/")
    page.get_by_label("E-mail").fill(attendant_a.email)
    page.get_by_label("Senha").fill("errada")
    page.get_by_role("button", name="Entrar").click()
    assert "E-mail ou senha incorretos" in page.get_by_role("alert").inner_text()


def test_the_language_switcher_turns_the_page_to_english(page, live_server):
    page.goto(f"{live_server.url}/conta/entrar/")
    with page.expect_navigation():
        page.get_by_label("Idioma").select_option("en")
    assert page.locator("h1").inner_text() == "Sign in to Atende"
