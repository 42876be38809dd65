"""Issue flow in Chromium, with a real ``atende worker``: a configurator imports a file with
three bad lines and follows its progress to the list of refused lines; an attendant then
finds a person by a name typed without accents and opens their page. At a desktop's and a
phone's width."""

import pytest
from playwright.sync_api import expect

from atende.beneficiaries.models import Access, Beneficiary
from atende.synth import beneficiaries as synth
from atende.tenancy.models import Role
from atende.testing.beneficiaries import csv_bytes
from atende.testing.browser import ARTIFACTS, sign_in
from atende.testing.factories import MembershipFactory
from atende.testing.processes import atende

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINES = 3000


def _file(tmp_path) -> str:
    rows = list(synth.rows(LINES, seed=7))
    rows[10]["carteirinha"] = "João"  # not a card code
    rows[20]["cpf"] = "123.456.789-00"
    rows[30]["nascimento"] = "31/02/1990"
    rows[40].update(nome="Conceição Araújo Brandão", nome_social="")
    path = tmp_path / "beneficiarios.csv"
    path.write_bytes(csv_bytes(rows))
    return str(path)


@pytest.mark.parametrize("width", [1366, 390])
def test_an_import_with_bad_lines_then_a_search_without_accents(
    browser, live_server, operator_a, attendant_a, tmp_path, width
):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    viewport = {"width": width, "height": 900}
    worker = atende("worker", "--interval", "0.1")
    try:
        context = browser.new_context(viewport=viewport, locale="pt-BR")
        page = context.new_page()
        sign_in(page, live_server.url, configurator)
        page.goto(f"{live_server.url}/configuracao/")
        page.get_by_role("link", name="Importar beneficiários").first.click()
        page.get_by_label("Arquivo (CSV)").set_input_files(_file(tmp_path))
        page.get_by_role("button", name="Importar").click()

        expect(page.locator("[data-progress]")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"registry-import-progress-{width}.png"))
        expect(page.locator("#import")).to_have_attribute("data-state", "done", timeout=60_000)
        assert page.locator("[data-progress]").get_attribute("value") == "100"
        assert page.locator('[data-count="created"]').inner_text() == str(LINES - 3)
        assert page.locator('[data-count="invalid"]').inner_text() == "3"
        rows = page.locator("[data-problems] tbody tr")
        expect(rows).to_have_count(3)
        assert [rows.nth(n).locator("td").nth(1).inner_text() for n in range(3)] == [
            "carteirinha",
            "cpf",
            "nascimento",
        ]
        assert rows.first.locator("td").first.inner_text() == "12"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"registry-import-done-{width}.png"), full_page=True)
        context.close()
    finally:
        worker.kill()
        worker.communicate(timeout=30)

    context = browser.new_context(viewport=viewport, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, attendant_a)
    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Beneficiários"
    ).click()
    page.get_by_label("CPF, carteirinha, nome ou telefone").fill("conceicao araujo brandao")
    page.get_by_role("button", name="Buscar").click()
    result = page.get_by_role("link", name="Conceição Araújo Brandão")
    expect(result).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conceição Araújo Brandão")
    assert "Plano" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(ARTIFACTS / f"registry-person-{width}.png"), full_page=True)
    card = Beneficiary.objects.get(operator=operator_a, name="Conceição Araújo Brandão")
    assert Access.objects.filter(beneficiary=card, user=attendant_a).count() == 1
    context.close()
