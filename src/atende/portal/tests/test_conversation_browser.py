"""The conversation in Chromium, at a desktop's and a phone's width: the beneficiary writes
with a file from the portal, the attendant finds the request awaiting an answer, replies
from a canned reply with a file, and the beneficiary reads and downloads it. A chat type's
messages then appear on the other side's open page without a reload."""

import pytest
from playwright.sync_api import expect

from atende.catalog.models import CannedReply, ViewMode
from atende.occurrences.models import Attachment
from atende.portal.services import beneficiary_login_create
from atende.portal.tests.conftest import CPF, PASSWORD
from atende.testing.browser import ARTIFACTS, portal_sign_in, queue_filters_shown, sign_in
from atende.testing.occurrences import new_occurrence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4 comprovante de endereco"


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _setup(operator_a, app_a, catalog_a, attendant_a, *, chat=False):
    beneficiary_login_create(
        operator=operator_a,
        login="0001234",
        cpf=CPF,
        name="Beatriz Beneficiária",
        email="beatriz@exemplo.com.br",
        password=PASSWORD,
    )
    kind = catalog_a["Atualização Cadastral"]
    if chat:
        type(kind).objects.filter(pk=kind.pk).update(view_mode=ViewMode.CHAT)
    return new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=kind,
        beneficiary_identifier=CPF,
        beneficiary_name="Beatriz Beneficiária",
        contact_email="beatriz@exemplo.com.br",
    )


def _pages(browser, live_server, app_a, attendant_a, occurrence, width):
    def context():
        return browser.new_context(
            viewport={"width": width, "height": 900}, locale="pt-BR", accept_downloads=True
        )

    portal = context().new_page()
    portal_sign_in(portal, live_server.url, app_a.bundle, "529.982.247-25", PASSWORD)
    portal.goto(f"{live_server.url}/portal/{app_a.bundle}/{occurrence.protocol}/")
    panel = context().new_page()
    sign_in(panel, live_server.url, attendant_a)
    return portal, panel


@pytest.mark.parametrize("width", [1366, 390])
def test_a_conversation_both_ways_with_files(
    browser, live_server, operator_a, app_a, catalog_a, attendant_a, tmp_path, width
):
    occurrence = _setup(operator_a, app_a, catalog_a, attendant_a)
    CannedReply.objects.create(
        operator=operator_a,
        title="Documento recebido",
        text="Olá, {{ beneficiario }}: recebemos o documento do protocolo {{ protocolo }}.",
    )
    proof = tmp_path / "comprovante.pdf"
    proof.write_bytes(PDF)
    form = tmp_path / "formulario.pdf"
    form.write_bytes(PDF)
    portal, panel = _pages(browser, live_server, app_a, attendant_a, occurrence, width)

    portal.get_by_label("Sua mensagem").fill("Segue meu comprovante de endereço.")
    portal.get_by_label("Arquivos (opcional)").set_input_files(str(proof))
    portal.get_by_role("button", name="Enviar mensagem").click()
    expect(portal.locator("#conversation")).to_contain_text("Segue meu comprovante de endereço.")
    expect(
        portal.locator("#conversation").get_by_role("link", name="comprovante.pdf")
    ).to_be_visible()
    fits(portal, width)

    panel.goto(f"{live_server.url}/painel/")
    queue_filters_shown(panel)
    panel.get_by_label("Aguardando nossa resposta").check()
    panel.get_by_role("button", name="Filtrar").click()
    row = panel.locator(f'tr[data-protocol="{occurrence.protocol}"]')
    expect(row.locator("[data-awaiting]")).to_have_text("aguarda nossa resposta")
    row.get_by_role("link", name=occurrence.protocol).click()
    panel.get_by_role("button", name="Iniciar atendimento").click()
    talk = panel.locator("#conversation")
    expect(talk).to_contain_text("Segue meu comprovante de endereço.")
    expect(talk.get_by_role("link", name="comprovante.pdf")).to_be_visible()
    panel.get_by_label("Começar de uma resposta pronta").select_option(label="Documento recebido")
    text = panel.get_by_label("Resposta ao beneficiário")
    expect(text).to_have_value(
        f"Olá, Beatriz Beneficiária: recebemos o documento do protocolo {occurrence.protocol}."
    )
    text.press("End")
    text.type(" Preencha o formulário anexo.")
    panel.get_by_label("Arquivos enviados com a resposta").set_input_files(str(form))
    panel.get_by_role("button", name="Enviar resposta").click()
    expect(panel.get_by_role("status", name="Avisos")).to_contain_text(
        "Resposta enviada ao beneficiário"
    )
    expect(talk).to_contain_text("Preencha o formulário anexo.")
    expect(panel.locator("h2 [data-awaiting]")).to_have_count(0)
    fits(panel, width)
    panel.screenshot(path=f"{ARTIFACTS}/conversation-panel-{width}.png", full_page=True)

    portal.reload()
    answer = portal.locator("#conversation [data-message=reply]")
    expect(answer).to_contain_text("Preencha o formulário anexo.")
    with portal.expect_download() as download:
        answer.get_by_role("link", name="formulario.pdf").click()
    assert download.value.path().read_bytes() == PDF
    assert Attachment.objects.get(name="formulario.pdf").public
    fits(portal, width)
    portal.screenshot(path=f"{ARTIFACTS}/conversation-portal-{width}.png", full_page=True)


@pytest.mark.parametrize("width", [1366, 390])
def test_a_chat_shows_each_side_the_other_without_a_reload(
    browser, live_server, operator_a, app_a, catalog_a, attendant_a, width
):
    occurrence = _setup(operator_a, app_a, catalog_a, attendant_a, chat=True)
    portal, panel = _pages(browser, live_server, app_a, attendant_a, occurrence, width)
    panel.goto(f"{live_server.url}/painel/{occurrence.protocol}/")
    panel.get_by_role("button", name="Iniciar atendimento").click()
    expect(panel.get_by_label("Resposta ao beneficiário")).to_be_visible()

    typed = "Olá! Meu cartão não chegou — ação urgente 😀"
    portal.get_by_label("Sua mensagem").fill(typed)
    portal.get_by_role("button", name="Enviar mensagem").click()
    # Answered in place: the box is empty again, ready for the next line.
    expect(portal.locator("#conversation")).to_contain_text(typed)
    expect(portal.get_by_label("Sua mensagem")).to_have_value("")
    # On the attendant's open page within the polling's two seconds (and some margin).
    expect(panel.locator("#conversation")).to_contain_text(typed, timeout=6000)

    panel.get_by_label("Resposta ao beneficiário").fill("Vamos reenviar hoje, Beatriz. 👍")
    panel.get_by_role("button", name="Enviar resposta").click()
    expect(portal.locator("#conversation")).to_contain_text(
        "Vamos reenviar hoje, Beatriz. 👍", timeout=6000
    )
    fits(portal, width)
    fits(panel, width)
    portal.screenshot(path=f"{ARTIFACTS}/chat-portal-{width}.png", full_page=True)
