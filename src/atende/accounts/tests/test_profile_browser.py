"""Meu perfil in Chromium, at a desktop's and a phone's width: from the name in the header
to a changed name and a refused password change that keeps the page."""

import pytest
from playwright.sync_api import expect

from atende.testing.browser import ARTIFACTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_a_person_renames_themselves_from_the_header(browser, live_server, attendant_a, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, attendant_a)

    page.get_by_role("link", name=attendant_a.full_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meu perfil")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("Nome completo").fill("Ana Beatriz Atendente")
    page.get_by_role("button", name="Salvar nome").click()
    expect(page.get_by_role("status", name="Avisos")).to_contain_text("Nome salvo.")
    expect(page.get_by_role("link", name="Ana Beatriz Atendente")).to_be_visible()

    page.get_by_label("Senha antiga").fill("não é esta")
    page.get_by_label("Nova senha", exact=True).fill("Outra-Senha-2026")
    page.get_by_label("Confirmação da nova senha").fill("Outra-Senha-2026")
    page.get_by_role("button", name="Trocar senha").click()
    form = page.locator('[data-form="password"]')
    expect(form.locator(".field-error")).to_be_visible()
    assert page.get_by_label("Nome completo").input_value() == "Ana Beatriz Atendente"
    page.screenshot(path=str(ARTIFACTS / f"profile-{width}.png"), full_page=True)
    context.close()
