"""Issue 21's flow in Chromium: an attendant opens a registration by the simplified form
and asks for a service order; a person of the executing unit (who does not work the
desk's queue) takes the order through its states from the units' order queue; the
attendant closes the registration as attended; a supervisor reactivates it and the new
protocol shows its origin. At a desktop's and a phone's width."""

import pytest
from playwright.sync_api import expect

from atende.occurrences.models import Occurrence, State
from atende.registrations.models import OrderState, ServiceOrder
from atende.tenancy.models import Role
from atende.testing.browser import ARTIFACTS, sign_in
from atende.testing.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 390])
def test_an_order_worked_by_its_unit_then_the_registration_closed_and_reactivated(
    browser,
    live_server,
    operator_b,
    app_b,
    street_leak,
    attendant_water,
    supervisor_water,
    field_unit,
    width,
):
    crew = MembershipFactory(
        operator=operator_b, role=Role.ATTENDANT, user__email="eq@agua.example"
    )
    crew.units.add(field_unit)
    viewport = {"width": width, "height": 900}

    desk = browser.new_context(viewport=viewport, locale="pt-BR").new_page()
    sign_in(desk, live_server.url, attendant_water)
    desk.goto(f"{live_server.url}/registros/novo/simplificado/")
    desk.get_by_label("Tipo e especificação").select_option(
        label="Vazamento de água — Vazamento na rua"
    )
    desk.get_by_label("Descrição").fill("Cano rompido na esquina")
    desk.get_by_label("Logradouro").fill("Rua Guajajaras")
    desk.get_by_label("Número").fill("40")
    desk.get_by_label("Bairro").fill("Centro")
    desk.get_by_label("Município").fill("Belo Horizonte")
    desk.get_by_label("Telefone").fill("31988887777")
    desk.get_by_role("button", name="Checar duplicidade e registrar").click()
    expect(desk.locator("ul.messages")).to_contain_text("aberto")
    registration = Occurrence.objects.get()
    panel = desk.locator("#registration-panel")
    panel.get_by_text("Nova ordem de serviço").click()
    panel.get_by_label("Tipo de serviço").select_option(label="Reparo de rede")
    panel.get_by_role("button", name="Criar ordem de serviço").click()
    expect(desk.locator('#service-orders tr[data-order="1"]')).to_contain_text("Pendente")
    fits(desk, width)

    field = browser.new_context(viewport=viewport, locale="pt-BR").new_page()
    sign_in(field, live_server.url, crew.user)
    field.goto(f"{live_server.url}/registros/ordens-de-servico/")
    field.get_by_role("link", name=f"{registration.protocol} · OS 1").click()
    field.get_by_role("button", name="Iniciar execução").click()
    expect(field.locator("#order-state")).to_have_text("Em execução")
    field.get_by_role("button", name="Executada: aguardar liberação").click()
    expect(field.locator("#order-state")).to_have_text("Aguardando liberação")
    field.get_by_label("Resultado").select_option(label="Executada")
    field.get_by_label("Parecer").fill("Trecho de 2 m substituído")
    field.get_by_role("button", name="Encerrar ordem").click()
    expect(field.locator("#order-state")).to_have_text("Encerrada · Executada")
    fits(field, width)
    field.screenshot(path=str(ARTIFACTS / f"service-order-{width}.png"), full_page=True)
    assert ServiceOrder.objects.get().state == OrderState.CLOSED

    desk.reload()
    desk.get_by_role("button", name="Iniciar atendimento").click()
    desk.get_by_text("Encerrar com parecer").click()
    desk.get_by_label("Status de encerramento").select_option(label="Reparo concluído")
    desk.get_by_label("Parecer (o beneficiário lê)").fill("Vazamento reparado.")
    desk.get_by_role("button", name="Encerrar", exact=True).click()
    expect(desk.locator("ul.messages")).to_contain_text("encerrada")
    registration.refresh_from_db()
    assert registration.state == State.CLOSED

    boss = browser.new_context(viewport=viewport, locale="pt-BR").new_page()
    sign_in(boss, live_server.url, supervisor_water)
    boss.goto(f"{live_server.url}/painel/{registration.protocol}/")
    boss.locator("#reactivate").get_by_text("Reativar o registro").click()
    boss.locator("#reactivate").get_by_label("Motivo").fill("Voltou a vazar no mesmo ponto")
    boss.get_by_role("button", name="Reativar", exact=True).click()
    expect(boss.locator("ul.messages")).to_contain_text(
        f"Registro {registration.protocol} reativado"
    )
    created = Occurrence.objects.get(parent=registration)
    expect(boss.get_by_role("heading", level=1)).to_contain_text(created.protocol)
    # Its origin, in the occurrence's data (the registration's panel may list it too).
    data = boss.locator("section[aria-labelledby='data-title']")
    expect(data.get_by_role("link", name=registration.protocol)).to_be_visible()
    expect(boss.locator("#registration-panel")).to_contain_text("Encerrados neste local")
    expect(boss.locator("#requesters")).to_contain_text("+5531988887777")
    fits(boss, width)
    boss.screenshot(path=str(ARTIFACTS / f"reactivated-{width}.png"), full_page=True)
    for page in (desk, field, boss):
        page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_registrations_pages_say_which_one_is_open(
    browser, live_server, water, attendant_water, width
):
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR").new_page()
    sign_in(page, live_server.url, attendant_water)
    page.goto(f"{live_server.url}/registros/numeracao-manual/")
    pages = page.get_by_role("navigation", name="Registros (RA)")
    open_one = pages.locator('[aria-current="page"]')
    expect(open_one).to_have_text("Numeração manual")
    expect(pages.get_by_role("link", name="Inserir RA", exact=True)).not_to_have_attribute(
        "aria-current", "page"
    )
    # On a phone the pages are one row that scrolls sideways, the open one (the last) in
    # view: the form below starts on the first screen.
    box = open_one.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    if width == 390:
        assert pages.bounding_box()["height"] < 70
    fits(page, width)
    page.context.close()
