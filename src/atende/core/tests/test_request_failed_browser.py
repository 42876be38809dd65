"""A request made from a page that fails is told, not swallowed: a server error or no
answer shows a notice at the foot of the screen, with what was typed still there; a session
that ended takes the window to the sign-in page and, signed in again, back to the page."""

import re

import pytest
from playwright.sync_api import expect

from atende.occurrences import views
from atende.testing.browser import queue_filters_shown, sign_in
from atende.testing.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page(browser, width):
    return browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR").new_page()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_failed_request_says_so_and_keeps_what_was_typed(
    browser, live_server, attendant_a, monkeypatch, width
):
    page = _page(browser, width)
    sign_in(page, live_server.url, attendant_a)
    page.goto(f"{live_server.url}/painel/")
    notice = page.get_by_role("alert")
    expect(notice).to_be_hidden()

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(views, "_queue_filter", broken)
    queue_filters_shown(page)
    search = page.get_by_label("Protocolo, CPF ou nome")
    search.fill("Maria")
    page.get_by_role("button", name="Filtrar").click()
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("O servidor não conseguiu concluir isto (erro 500)")
    queue_filters_shown(page)
    expect(search).to_have_value("Maria")
    box = notice.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box

    # No answer at all (the network): said as such.
    monkeypatch.undo()
    page.route("**/painel/?*", lambda route: route.abort())
    page.get_by_role("button", name="Filtrar").click()
    expect(notice).to_contain_text("Sem resposta do servidor")
    page.unroute("**/painel/?*")
    notice.get_by_role("button", name="Fechar").click()
    expect(notice).to_be_hidden()

    # Working again, the next request clears what the last one said.
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(re.compile(r"[?&]q=Maria"))
    expect(notice).to_be_hidden()
    page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_an_ended_session_signs_in_again_and_comes_back(browser, live_server, attendant_a, width):
    page = _page(browser, width)
    sign_in(page, live_server.url, attendant_a)
    page.goto(f"{live_server.url}/painel/?sla=breached")
    page.context.clear_cookies()  # the session ended (signed out elsewhere, expired)
    queue_filters_shown(page)
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(re.compile(r"/conta/entrar/\?next="))
    expect(page.locator("#queue")).to_have_count(0)  # the whole window, not a part of it
    page.get_by_label("E-mail").fill(attendant_a.email)
    page.get_by_label("Senha").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{live_server.url}/painel/?sla=breached")
    expect(page.locator("#queue")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_an_ended_session_does_not_take_the_screen_from_what_is_typed(
    browser, live_server, attendant_a, app_a, catalog_a, width
):
    """The occurrence page watches its version (a poll): when the session ends, the poll
    does not send the window away with the note half typed; the page says so and offers
    the way to sign in."""
    from atende.catalog.presets import REIMBURSEMENT
    from atende.testing.occurrences import new_occurrence

    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    page = _page(browser, width)
    sign_in(page, live_server.url, attendant_a)
    page.goto(f"{live_server.url}/painel/{occurrence.protocol}/")
    note = page.get_by_label("Nota interna")
    note.fill("A beneficiária ligou às 14h e pediu retorno")
    page.context.clear_cookies()
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("Sua sessão terminou", timeout=12_000)
    assert page.url == f"{live_server.url}/painel/{occurrence.protocol}/"
    expect(note).to_have_value("A beneficiária ligou às 14h e pediu retorno")
    again = notice.get_by_role("link", name="Entrar de novo")
    expect(again).to_have_attribute("href", f"/conta/entrar/?next=/painel/{occurrence.protocol}/")
    again.click()
    page.wait_for_url(re.compile(r"/conta/entrar/\?next="))
    page.context.close()
