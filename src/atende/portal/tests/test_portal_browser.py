"""Issue flow end to end in Chromium: a beneficiary opens a refund request in the portal and
gets a protocol; an attendant finds it in the queue, starts attendance, fills the receipts
tab twice and closes it approved; the beneficiary then reads "Aprovado"'s external
description and downloads the written answer. An attendant of another operator reaches
none of it by URL."""

import io
import re

import pytest
from pypdf import PdfReader

from atende.catalog.presets import REIMBURSEMENT
from atende.occurrences.models import Occurrence, State
from atende.portal.services import beneficiary_login_create
from atende.testing.browser import portal_sign_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = "test-artifacts"
PASSWORD = "Senha-do-portal-2026"


def _context(browser):
    return browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="pt-BR", accept_downloads=True
    )


def _receipt(page, number, day, value):
    page.get_by_label("Número do recibo").fill(number)
    page.get_by_label("Data do atendimento").fill(day)
    page.get_by_label("Valor pago").fill(value)
    page.get_by_label("Tipo de despesa").select_option("Consulta")
    page.get_by_role("button", name="Salvar registro").click()


def test_a_refund_goes_from_the_portal_through_the_panel_and_back(
    browser, live_server, operator_a, app_a, catalog_a, attendant_a, attendant_b
):
    beneficiary_login_create(
        operator=operator_a,
        login="0001234",
        cpf="52998224725",
        name="Beatriz Beneficiária",
        email="beatriz@exemplo.com.br",
        password=PASSWORD,
    )
    url = live_server.url
    portal = _context(browser).new_page()
    portal_sign_in(portal, url, app_a.bundle, "529.982.247-25", PASSWORD)
    portal.get_by_role("link", name="Nova solicitação").click()
    portal.get_by_role("link", name=REIMBURSEMENT).click()
    portal.get_by_label("Assunto").select_option(label="Solicitação de Reembolso")
    portal.get_by_label("Descreva sua solicitação").fill("Consulta com dermatologista.")
    portal.get_by_role("button", name="Enviar solicitação").click()
    told = portal.get_by_role("status", name="Avisos").inner_text()
    occurrence = Occurrence.objects.get()
    assert f"Seu protocolo é {occurrence.protocol}" in told
    portal.screenshot(path=f"{ARTIFACTS}/portal-protocol-at-once.png", full_page=True)

    panel = _context(browser).new_page()
    sign_in(panel, url, attendant_a)
    panel.get_by_role("link", name="Painel de atendimento").click()
    panel.get_by_label("Protocolo, CPF ou nome").fill(occurrence.protocol)
    panel.keyboard.press("Enter")
    # The search answers through htmx and pushes its address; a click before that lands
    # would have its navigation cancelled by the push.
    panel.wait_for_url(re.compile(r"[?&]q="))
    panel.get_by_role("link", name=occurrence.protocol).click()
    panel.get_by_role("button", name="Iniciar atendimento").click()
    panel.get_by_text("Preencher").click()
    _receipt(panel, "1001", "2026-11-10", "180,00")
    panel.get_by_text("Adicionar outro registro").click()
    _receipt(panel, "1002", "2026-11-12", "95,50")
    assert panel.locator("[data-tab] tbody tr").count() == 2
    panel.get_by_text("Encerrar com parecer").click()
    panel.get_by_label("Status de encerramento").select_option(label="Aprovado")
    panel.get_by_label("Parecer (o beneficiário lê)").fill("Reembolso aprovado: R$ 275,50.")
    panel.get_by_role("button", name="Encerrar", exact=True).click()
    panel.get_by_role("status", name="Avisos").wait_for()
    panel.screenshot(path=f"{ARTIFACTS}/panel-refund-closed.png", full_page=True)
    occurrence.refresh_from_db()
    assert occurrence.state == State.CLOSED and occurrence.resolved is True

    portal.goto(f"{url}/portal/{app_a.bundle}/")
    assert "Reembolso aprovado" in portal.locator("main").inner_text()
    portal.get_by_role("link", name=occurrence.protocol).click()
    assert "Reembolso aprovado: R$ 275,50." in portal.locator("main").inner_text()
    with portal.expect_download() as info:
        portal.get_by_role("link", name="Baixar a resposta (PDF)").click()
    download = info.value
    path = f"{ARTIFACTS}/portal-answer-{occurrence.protocol}.pdf"
    download.save_as(path)
    with open(path, "rb") as saved:
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(saved.read())).pages)
    assert occurrence.protocol in text and "Solicitação atendida" in text
    portal.screenshot(path=f"{ARTIFACTS}/portal-answer.png", full_page=True)

    stranger = _context(browser).new_page()
    sign_in(stranger, url, attendant_b)
    response = stranger.goto(f"{url}/painel/{occurrence.protocol}/")
    assert response.status == 404
    response = stranger.goto(f"{url}/portal/{app_a.bundle}/{occurrence.protocol}/")
    assert "/entrar/" in stranger.url, "a staff session is no portal sign-in"
    for page in (portal, panel, stranger):
        page.context.close()
