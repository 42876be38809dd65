"""A double click sends a form once: starting a call (an htmx form) and issuing a new
protocol (a plain form) each leave the browser once and create one record, though the
server is still working on the first when the second click comes. (Were the second sent,
the form's one-time key would find the first's protocol: test_screens.)"""

import time

import pytest
from playwright.sync_api import expect

from atende.callcenter import views
from atende.callcenter.models import Contact, ContactOccurrence
from atende.occurrences.models import Occurrence
from atende.testing.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def slowed(service):
    # A busy server: the first click's request is still being answered at the second.
    def slow(*args, **kwargs):
        time.sleep(0.4)
        return service(*args, **kwargs)

    return slow


def double_click(page, name):
    # The mouse itself, at the button's place: a locator's click would wait for the first
    # click's navigation and land on the next page.
    button = page.get_by_role("button", name=name)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(150)  # a person's double click, or a second tap
    page.mouse.click(x, y)


@pytest.mark.parametrize("width", [1366, 390])
def test_a_double_click_issues_one_protocol(
    browser, live_server, attendant_a, call_center_a, card_a, monkeypatch, width
):
    monkeypatch.setattr(views, "contact_start", slowed(views.contact_start))
    monkeypatch.setattr(views, "contact_new_event", slowed(views.contact_new_event))
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, attendant_a)
    page.goto(f"{live_server.url}/atendimento/?card=C-100")
    sent = []  # what left the browser: the server's own key check is not what is tested
    page.on("request", lambda r: r.method == "POST" and sent.append(r.url.split("/", 3)[3]))

    double_click(page, "Iniciar atendimento")
    page.wait_for_url("**/atendimento/*/")
    expect(page.locator("[data-protocol]")).to_have_count(1)
    # The protocol's forms come in a request of their own; once in, nothing moves.
    expect(page.locator("form[data-manifestation]")).to_have_count(1)

    double_click(page, "Novo evento")
    expect(page.locator("[data-protocol]")).to_have_count(2)
    page.wait_for_load_state("networkidle")

    assert sent == ["atendimento/", f"atendimento/{Contact.objects.get().pk}/novo-evento/"]
    assert ContactOccurrence.objects.count() == Occurrence.objects.count() == 2
    # Free again once answered: the next click issues the next protocol.
    page.get_by_role("button", name="Novo evento").click()
    expect(page.locator("[data-protocol]")).to_have_count(3)
    context.close()
