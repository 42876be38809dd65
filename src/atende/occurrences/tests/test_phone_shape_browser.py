"""What a phone changes on the staff's pages, and what it leaves alone on a desktop: the
queue comes first, its filters folded behind "Filtros", which says how many are on; the
sections' menu takes one row, the open section in view; buttons are the product's own and
tall enough for a finger on a touch screen."""

import re

import pytest
from playwright.sync_api import expect

from atende.catalog.presets import REIMBURSEMENT
from atende.testing.browser import sign_in
from atende.testing.occurrences import new_occurrence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHAPES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
PRIMARY = "rgb(11, 92, 173)"  # atende.css's --primary


def _page(browser, shape):
    return browser.new_context(locale="pt-BR", **SHAPES[shape]).new_page()


@pytest.mark.parametrize("shape", SHAPES)
def test_the_queue_comes_first_on_a_phone(
    browser, live_server, attendant_a, app_a, catalog_a, shape
):
    made = [
        new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
        )
        for _ in range(3)
    ]
    page = _page(browser, shape)
    sign_in(page, live_server.url, attendant_a)
    page.goto(f"{live_server.url}/painel/")
    summary = page.locator("details.fold-narrow > summary")
    search = page.get_by_label("Protocolo, CPF ou nome")
    rows = page.locator("#queue tr[data-protocol]")
    expect(rows).to_have_count(3)

    if shape == "phone":
        expect(search).to_be_hidden()
        expect(summary).to_have_text("Filtros")
        first = rows.first.bounding_box()
        assert first["y"] + first["height"] <= 844, first  # on the first screen
        summary.tap()
        expect(search).to_be_visible()
    else:
        expect(summary).to_be_hidden()
        expect(search).to_be_visible()

    # A yes/no filter: its box before its words, on their line, big enough to hit.
    box = page.get_by_label("Aguardando nossa resposta").bounding_box()
    words = page.locator('label[for="id_awaiting"]').bounding_box()
    assert box["x"] + box["width"] <= words["x"], (box, words)
    assert abs((box["y"] + box["height"] / 2) - (words["y"] + words["height"] / 2)) < 8
    assert box["width"] >= 16, box

    search.fill(made[1].protocol)
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(re.compile(r"[?&]q="))
    expect(rows).to_have_count(1)
    if shape == "phone":
        # Applied, the filters fold again over the list they chose, and say so.
        expect(search).to_be_hidden()
        expect(summary).to_have_text("Filtros (1)")
    else:
        expect(search).to_be_visible()

    page.reload()
    expect(rows).to_have_count(1)
    expect(search).to_have_value(made[1].protocol)
    if shape == "phone":
        expect(summary).to_have_text("Filtros (1)")
        expect(search).to_be_hidden()
    page.context.close()


@pytest.mark.parametrize("shape", SHAPES)
def test_buttons_and_the_menu_fit_the_hand(
    browser, live_server, supervisor_a, app_a, catalog_a, shape
):
    occurrence = new_occurrence(
        user=supervisor_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    supervisor_a.full_name = "Maria Aparecida dos Santos Albuquerque Cavalcanti"
    supervisor_a.save(update_fields=["full_name"])
    page = _page(browser, shape)
    sign_in(page, live_server.url, supervisor_a)
    # The top bar: the product, the language, the person and Sair in two rows at most,
    # however long the person's name.
    bar = page.locator("header.topbar")
    assert bar.bounding_box()["height"] < (90 if shape == "phone" else 60)
    expect(bar.get_by_role("button", name="Sair")).to_be_in_viewport()

    page.goto(f"{live_server.url}/painel/{occurrence.protocol}/")
    # A secondary button: outlined in the product's colour, not the browser's grey box.
    add = page.get_by_role("button", name="Adicionar nota")
    style = add.evaluate(
        "b => { const s = getComputedStyle(b);"
        " return [s.borderTopStyle, s.borderTopColor, s.color, b.getBoundingClientRect().height]; }"
    )
    assert style[:3] == ["solid", PRIMARY, PRIMARY], style
    assert style[3] >= (44 if shape == "phone" else 34), style
    # An action behind a disclosure reads as one, and takes a finger too.
    child = page.locator("summary", has_text="Criar ocorrência filha")
    summary = child.evaluate(
        "s => { const c = getComputedStyle(s);"
        " return [c.color, c.cursor, s.getBoundingClientRect().height]; }"
    )
    assert summary[:2] == [PRIMARY, "pointer"], summary
    assert summary[2] >= (44 if shape == "phone" else 30), summary
    # A search field is drawn as the other fields are.
    page.goto(f"{live_server.url}/beneficiarios/")
    search_style = page.get_by_label("CPF, carteirinha, nome ou telefone").evaluate(
        "i => [getComputedStyle(i).paddingLeft, i.getBoundingClientRect().height]"
    )
    assert search_style[0] == "10px" and search_style[1] >= 36, search_style

    # The last section of the menu, open: on a phone the menu is one row that scrolls
    # sideways, with the open section brought into view.
    page.goto(f"{live_server.url}/entregas/")
    menu = page.locator("nav.mainnav")
    current = menu.locator('[aria-current="page"]')
    expect(current).to_have_text("Central de entregas")
    width = SHAPES[shape]["viewport"]["width"]
    box = current.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    if shape == "phone":
        assert menu.bounding_box()["height"] < 50
        assert menu.evaluate("m => m.scrollWidth > m.clientWidth")  # more than one screen
    page.context.close()


def test_a_tables_words_are_not_cut_to_fit_a_phone(browser, live_server, operator_a, catalog_a):
    from atende.tenancy.models import Role
    from atende.testing.factories import MembershipFactory

    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    page = _page(browser, "phone")
    sign_in(page, live_server.url, configurator)
    page.goto(f"{live_server.url}/configuracao/{operator_a.pk}/")
    # The types' subjects ("Dependentes", "Laboratório"): a one-word name keeps to one
    # line; the table scrolls inside its box instead of squeezing its columns.
    lines = page.eval_on_selector_all(
        "#types td.wrap a",
        "links => links.filter(a => !a.textContent.trim().includes(' '))"
        ".map(a => [a.textContent, a.getClientRects().length])",
    )
    assert len(lines) >= 5, lines
    assert all(count == 1 for _, count in lines), lines
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
