"""View modes in Chromium, at a desktop's and a phone's width: a *Solicitações* type's form
asked at opening in the portal (refused, kept, then sent) and shown to the attendant as
the first tab; a *Básico* type's request promoted from the intake queue."""

import pytest
from playwright.sync_api import expect

from atende.catalog.models import ViewMode
from atende.catalog.services import form_create, tab_create
from atende.occurrences.models import Mode, Occurrence
from atende.portal.services import beneficiary_login_create
from atende.portal.tests.conftest import CPF, PASSWORD
from atende.portal.tests.test_view_modes import FIELDS
from atende.testing.browser import ARTIFACTS, portal_sign_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 390])
def test_an_opening_form_and_a_basic_draft(
    browser, live_server, operator_a, app_a, catalog_a, attendant_a, width
):
    beneficiary_login_create(
        operator=operator_a, login="0001234", cpf=CPF, name="Beatriz", password=PASSWORD
    )
    update = catalog_a["Atualização Cadastral"]
    form = form_create(operator=operator_a, name="Atualização", fields=FIELDS)
    tab_create(occurrence_type=update, name="Dados da atualização", form=form, at_opening=True)
    basic = catalog_a["Solicitação de Autorização"]
    type(basic).objects.filter(pk=basic.pk).update(view_mode=ViewMode.BASIC)

    def context():
        return browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")

    portal = context().new_page()
    portal_sign_in(portal, live_server.url, app_a.bundle, "529.982.247-25", PASSWORD)
    portal.get_by_role("link", name="Nova solicitação").click()
    portal.get_by_role("link", name="Atualização Cadastral").click()
    fieldset = portal.locator("[data-opening-form]")
    expect(fieldset.locator("legend")).to_have_text("Dados da atualização")
    portal.get_by_label("Assunto").select_option(label="Endereço")
    portal.get_by_label("Descreva sua solicitação").fill("Mudei de endereço.")
    fieldset.get_by_label("Dado a atualizar *").fill("Endereço")
    portal.get_by_role("button", name="Enviar solicitação").click()
    expect(fieldset.locator(".field-error")).to_contain_text("Este campo é obrigatório")
    expect(fieldset.get_by_label("Dado a atualizar *")).to_have_value("Endereço")
    expect(portal.get_by_label("Descreva sua solicitação")).to_have_value("Mudei de endereço.")
    fits(portal, width)
    fieldset.get_by_label("Novo valor *").fill("Rua Nova, 10")
    portal.get_by_role("button", name="Enviar solicitação").click()
    expect(portal.get_by_role("status", name="Avisos")).to_contain_text("Seu protocolo é")
    requested = Occurrence.objects.get(occurrence_type=update)

    portal.get_by_role("link", name="Minhas solicitações").click()
    portal.get_by_role("link", name="Nova solicitação").click()
    portal.get_by_role("link", name="Solicitação de Autorização").click()
    subject = portal.get_by_label("Assunto")
    subject.select_option(index=1)
    portal.get_by_label("Descreva sua solicitação").fill("Autorizar ressonância.")
    portal.get_by_role("button", name="Enviar solicitação").click()
    expect(portal.get_by_role("status", name="Avisos")).to_contain_text("Seu protocolo é")
    draft = Occurrence.objects.get(occurrence_type=basic)
    assert draft.mode == Mode.DRAFT

    panel = context().new_page()
    sign_in(panel, live_server.url, attendant_a)
    panel.goto(f"{live_server.url}/painel/{requested.protocol}/")
    first_tab = panel.locator("[data-tab]").first
    expect(first_tab.get_by_role("heading")).to_contain_text("Dados da atualização")
    expect(first_tab).to_contain_text("Rua Nova, 10")

    panel.get_by_role("link", name="Triagem").click()
    panel.get_by_role("link", name=draft.protocol).click()
    expect(panel.get_by_text("Autorizar ressonância.")).to_be_visible()
    fits(panel, width)
    panel.get_by_role("button", name="Promover para a fila").click()
    expect(panel.get_by_role("heading", name=f"Protocolo {draft.protocol}")).to_be_visible()
    draft.refresh_from_db()
    assert draft.mode == Mode.ACTIVE
    panel.screenshot(path=f"{ARTIFACTS}/basic-promoted-{width}.png", full_page=True)
