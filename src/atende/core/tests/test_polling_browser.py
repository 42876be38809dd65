"""What polls (the screen pop, the queue) does not while its tab is hidden, and asks at once
when the tab is shown again."""

import pytest

from atende.testing.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HIDE = """hidden => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_a_hidden_tab_stops_polling_and_a_shown_one_asks_at_once(
    browser, live_server, attendant_a, width
):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")
    page = context.new_page()
    page.clock.install()
    sign_in(page, live_server.url, attendant_a)
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/painel/")
    for _tick in range(3):  # the screen pop's 2 s, each answer awaited
        page.clock.run_for(2_100)
        page.wait_for_timeout(300)
    assert sum("/atendimento/chamadas/" in url for url in asked) >= 3, asked

    page.evaluate(HIDE, True)
    asked.clear()
    page.clock.run_for(25_000)  # the pop's 2 s and the queue's 10 s, several times
    page.wait_for_timeout(300)
    assert asked == []

    with (
        page.expect_request(lambda r: "/atendimento/chamadas/" in r.url),
        page.expect_request(lambda r: "/painel/?" in r.url),
    ):
        page.evaluate(HIDE, False)
    context.close()
