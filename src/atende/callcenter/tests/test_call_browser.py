"""Issue flow in Chromium: the phone system announces a call over HTTP to the running
server; the attendant's panel pops it; the registration opens filled; the protocol is
on screen before anything is typed; two manifestations, one with a pendency to a unit;
finished, the contact reads Pendente; the unit closes the pendency in its panel and the
contact reads Concluído. Another call drops and reads Abandonado, its protocol kept. At
a desktop's and a phone's width."""

import httpx
import pytest
from playwright.sync_api import expect

from atende.callcenter.models import Contact
from atende.callcenter.selectors import contact_items
from atende.occurrences.models import Occurrence, State
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.beneficiaries import card_upserted, cpf_numbers
from atende.testing.browser import ARTIFACTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def manifest(page, section, *, description: str) -> None:
    """Fill a protocol's manifestation through the cascading lists and save it."""
    section.get_by_label("Tipo de manifestação", exact=True).select_option(label="Solicitação")
    section.get_by_label("Categoria", exact=True).select_option(label="Autorização")
    section.get_by_label("Subcategoria", exact=True).select_option(label="Consulta")
    section.get_by_label("Grupo de procedimentos", exact=True).select_option(label="Consultas")
    section.get_by_label("Classificação do atendimento", exact=True).select_option(label="Eletiva")
    section.get_by_label("Guia 1: número", exact=True).fill("778899")
    section.get_by_label("Guia 1: tipo", exact=True).select_option(label="Consulta")
    section.locator("form[data-manifestation]").get_by_label("Descrição", exact=True).fill(
        description
    )
    section.get_by_label("Sentimento do cliente", exact=True).select_option(label="Neutro")
    section.get_by_label("Prioridade", exact=True).select_option(label="Alta")
    section.get_by_role("button", name="Salvar manifestação").click()
    expect(page.get_by_role("status", name="Avisos")).to_contain_text("Manifestação do protocolo")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_whole_call_from_screen_pop_to_concluded(
    browser,
    live_server,
    operator_a,
    app_a,
    attendant_a,
    supervisor_a,
    call_center_a,
    card_a,
    group_a,
    pendency_unit_a,
    width,
):
    _, token = api_token_create(application=app_a, name="PABX", scopes=[Scope.CALLS_WRITE])
    viewport = {"width": width, "height": 900}
    context = browser.new_context(viewport=viewport, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, attendant_a)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Painel").click()

    # The phone system plays its part against the real server.
    answer = httpx.post(
        f"{live_server.url}/api/v1/calls",
        json={"caller_number": "11987654321", "ivr_code": "C-100", "extension": ""}
        | {"attendant_email": attendant_a.email},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    pop = page.locator("#screen-pop")
    expect(pop).to_contain_text("Chamada recebida", timeout=5_000)
    page.screenshot(path=str(ARTIFACTS / f"call-screen-pop-{width}.png"))
    pop.get_by_role("link", name="Registrar esta chamada").click()

    expect(page.get_by_label("Código do beneficiário (carteirinha)")).to_have_value("C-100")
    expect(page.get_by_label("Código do beneficiário na URA")).to_have_value("C-100")
    fits(page, width)
    page.get_by_role("button", name="Iniciar atendimento").click()
    expect(page.locator("[data-protocol]")).to_have_count(1)  # in the same answer
    page.wait_for_url("**/atendimento/*/")

    contact = Contact.objects.get()
    first = contact_items(contact)[0].occurrence
    number = page.locator("[data-protocol]").first
    expect(number).to_have_text(first.protocol)
    assert contact.call_id == answer.json()["id"]
    fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"call-protocol-{width}.png"))

    manifest(page, page.locator(f"#protocol-{first.pk}"), description="Quer marcar consulta.")
    section = page.locator(f"#protocol-{first.pk}")
    section.get_by_text("Gerar pendência").first.click()
    section.get_by_label("Tipo", exact=True).select_option(label="Solicitação de Autorização")
    section.get_by_label("Unidade", exact=True).select_option(label="Autorizações A")
    section.locator("textarea[name$='-description']").last.fill("Autorizar a consulta.")
    section.get_by_role("button", name="Gerar pendência").click()
    expect(page.get_by_role("status", name="Avisos")).to_contain_text("Autorizações A")

    page.get_by_role("button", name="Novo evento").click()
    second = contact_items(contact)[1].occurrence
    expect(page.locator("[data-protocol]")).to_have_count(2)
    manifest(page, page.locator(f"#protocol-{second.pk}"), description="Dúvida sobre boleto.")

    page.get_by_role("button", name="Carências e coberturas").click()
    expect(page.locator("[data-section=waiting]")).to_be_visible()
    page.get_by_role("button", name="Finalizar atendimento").click()
    expect(page.locator("h1 [data-status]")).to_have_text("Pendente")
    expect(page.locator("#entries")).to_contain_text("Carências e coberturas consultadas")
    fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"call-pending-{width}.png"), full_page=True)
    contact_url = page.url

    # The unit closes the pendency in its own panel.
    pendency = contact_items(contact)[0].pendencies[0]
    unit_page = browser.new_context(viewport=viewport, locale="pt-BR").new_page()
    sign_in(unit_page, live_server.url, supervisor_a)
    unit_page.goto(f"{live_server.url}/painel/?unit={pendency_unit_a.pk}")
    unit_page.get_by_role("link", name=pendency.protocol).first.click()
    unit_page.get_by_role("button", name="Iniciar atendimento").click()
    unit_page.get_by_text("Encerrar com parecer").click()
    unit_page.get_by_label("Status de encerramento").select_option(label="Autorizada")
    unit_page.get_by_label("Parecer (o beneficiário lê)").fill("Consulta autorizada.")
    unit_page.get_by_role("button", name="Encerrar", exact=True).click()
    expect(unit_page.get_by_role("status", name="Avisos")).to_be_visible()
    assert Occurrence.objects.get(pk=pendency.pk).state == State.CLOSED

    page.goto(contact_url)
    expect(page.locator("h1 [data-status]")).to_have_text("Concluído")

    # A second call, of a suspended card: a refund gets the critique, not the form; then
    # the call drops, and its protocol stays, abandoned.
    card_upserted(
        operator_a,
        card="C-300",
        cpf=cpf_numbers(9)[8],
        name="Rui Suspenso",
        situation="suspenso",
        situation_date="2026-01-10",
    )
    page.get_by_role("link", name="Registrar atendimento").first.click()
    page.get_by_label("Código do beneficiário (carteirinha)").fill("C-404")
    page.get_by_role("button", name="Iniciar atendimento").click()
    expect(page.get_by_text("Nenhum beneficiário desta operadora tem este cartão.")).to_be_visible()
    expect(page.get_by_label("Código do beneficiário (carteirinha)")).to_have_value("C-404")
    page.get_by_label("Código do beneficiário (carteirinha)").fill("C-300")
    page.get_by_role("button", name="Iniciar atendimento").click()
    page.wait_for_url(f"**/atendimento/{contact.pk + 1}/")
    dropped = Contact.objects.exclude(pk=contact.pk).get()
    kept = contact_items(dropped)[0].occurrence.protocol
    expect(page.locator("[data-protocol]")).to_have_text(kept)
    page.get_by_role("button", name="Protocolo de reembolso").click()
    refused = page.locator("[data-service=reembolso]")
    expect(refused.get_by_role("alert")).to_contain_text("Contrato suspenso")
    expect(refused.locator("form")).to_have_count(0)
    page.get_by_role("button", name="Abandonado (ligação caiu ou desistência)").click()
    expect(page.locator("h1 [data-status]")).to_have_text("Abandonado")
    expect(page.locator("[data-protocol]")).to_have_text(kept)
    assert Occurrence.objects.get(protocol=kept).state == State.CLOSED
    fits(page, width)
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_search_offers_each_card_to_start_from(
    browser, live_server, call_center_a, card_a, attendant_a, width
):
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR").new_page()
    sign_in(page, live_server.url, attendant_a)
    page.goto(f"{live_server.url}/atendimento/")
    page.get_by_label("CPF, carteirinha, telefone ou nome").fill("joana")
    page.get_by_role("button", name="Buscar", exact=True).click()
    row = page.locator('tr[data-card="C-100"]')
    expect(row).to_contain_text("Joana Beneficiária")
    if width == 390:
        # Read row by row: every cell on screen, each saying what it is.
        for box in [row.locator("td").nth(i).bounding_box() for i in range(5)]:
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        expect(row.locator('td[data-label="Carteirinha"]')).to_have_text("C-100")
    fits(page, width)
    row.get_by_role("link", name="Usar esta carteirinha").click()
    expect(page.get_by_label("Código do beneficiário (carteirinha)")).to_have_value("C-100")
    page.context.close()
