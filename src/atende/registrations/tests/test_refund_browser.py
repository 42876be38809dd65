"""A refund registered by an attendant in Chromium: choosing the specification brings its
form into the page (htmx), a refused save keeps what was typed and names the field, the
receipt goes with it, and the registration shows the form as filled. At a desktop's and a
phone's width."""

import pytest
from playwright.sync_api import expect

from atende.occurrences.models import Occurrence
from atende.registrations.models import OpeningForm
from atende.registrations.presets import install_refunds
from atende.registrations.tests.test_services import PNG
from atende.testing.browser import ARTIFACTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 390])
def test_a_refund_with_its_form_and_receipt(
    browser, live_server, operator_b, app_b, water, desk_unit, attendant_water, tmp_path, width
):
    install_refunds(operator_b, unit=desk_unit)
    receipt = tmp_path / "comprovante.png"
    receipt.write_bytes(PNG)
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR").new_page()
    sign_in(page, live_server.url, attendant_water)
    page.goto(f"{live_server.url}/registros/novo/")
    expect(page.locator("#spec-form")).to_be_hidden()
    page.get_by_label("Tipo e especificação").select_option(
        label="Devolução — Pagamento em duplicidade"
    )
    spec = page.locator("#spec-form")
    expect(spec.get_by_label("Data do segundo pagamento *")).to_be_visible()
    page.get_by_label("Descrição").fill("Paguei a conta de novembro duas vezes")
    page.get_by_label("Logradouro").fill("Rua Curitiba")
    page.get_by_label("Número", exact=True).fill("800")
    page.get_by_label("Município").fill("Belo Horizonte")
    page.get_by_label("Nome do solicitante").fill("Joana Lima")
    page.get_by_label("Telefone").fill("31988887777")
    page.get_by_label("Documento obrigatório").set_input_files(str(receipt))
    spec.get_by_label("Número do documento *").fill("0001234-5")
    spec.get_by_label("Valor pago em cada pagamento *").fill("89,90")
    spec.get_by_label("Data do primeiro pagamento *").fill("2026-11-10")
    spec.get_by_label("Banco *").fill("Banco do Brasil")
    spec.get_by_label("Agência *").fill("1234")
    spec.get_by_label("Conta *", exact=True).fill("56789-0")
    spec.get_by_label("CPF do titular da conta *").fill("529.982.247-25")
    page.get_by_role("button", name="Checar duplicidade e registrar").click()

    # The second payment's date is missing: refused, everything typed kept.
    expect(page.locator("#spec-form .field-error")).to_contain_text("Obrigatório")
    expect(page.locator("#spec-form").get_by_label("Número do documento *")).to_have_value(
        "0001234-5"
    )
    assert not Occurrence.objects.exists()
    fits(page, width)
    page.locator("#spec-form").get_by_label("Data do segundo pagamento *").fill("2026-11-12")
    page.get_by_label("Documento obrigatório").set_input_files(str(receipt))
    page.get_by_role("button", name="Registrar novo mesmo assim").or_(
        page.get_by_role("button", name="Checar duplicidade e registrar")
    ).click()
    expect(page.locator("ul.messages")).to_contain_text("aberto")
    occurrence = Occurrence.objects.get()
    assert OpeningForm.objects.get(occurrence=occurrence).data["data_segundo"] == "2026-11-12"
    expect(page.locator("#opening-form")).to_contain_text("0001234-5")
    fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"refund-{width}.png"), full_page=True)
    page.context.close()
