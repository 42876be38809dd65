"""Every kind of page of the demo fits a phone's width (390 px) and a desktop's (1366 px)
in Chromium: the pages the walk of ``test_every_page`` reaches, one of each kind, each
opened as the role that reached it. Nothing may make the page itself scroll sideways; a
wide table scrolls inside its own box. Each page also passes axe-core's accessibility
rules (WCAG 2.x A and AA, and its best practices) at both widths."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command

from atende.core.management.commands.demo_data import DEMO_PASSWORD
from atende.core.tests.test_every_page import (
    PORTAL,
    _beneficiary_signed_in,
    _kind,
    _started_pages,
    _walk,
)
from atende.testing.browser import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 768}}
STAFF = [
    f"{role}@{operator}.demo"
    for operator in ("saude", "agua")
    for role in ("atendente", "supervisor", "configurador")
]


def _one_page_a_kind(client, who: str, taken: set[tuple]) -> list[str]:
    """The pages ``who`` reaches whose kind no one before reached."""
    pages: list = []
    if who == "beneficiary":
        _beneficiary_signed_in(client)
        _walk(client, PORTAL, pages=pages)
    else:
        assert client.login(username=who, password=DEMO_PASSWORD)
        _walk(client, "/", *_started_pages(client, who), pages=pages)
    mine = []
    for url, _html, fragment in pages:
        kind = _kind(url.split("?")[0])
        if not fragment and kind not in taken:
            taken.add(kind)
            mine.append(url)
    return mine


def test_every_kind_of_page_fits_a_phone_and_a_desktop(browser, live_server, client):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    taken: set[tuple] = set()
    too_wide, inaccessible = [], []
    opened = 0
    axe = Axe()
    for who in [*STAFF, "beneficiary"]:
        urls = _one_page_a_kind(client, who, taken)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        for name, viewport in SCREENS.items():
            # The browser carries the session the walk signed in with.
            context = browser.new_context(viewport=viewport, locale="pt-BR")
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page = context.new_page()
            for url in urls:
                page.goto(live_server.url + url)
                opened += 1
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > viewport["width"]:
                    shot = url.strip("/").replace("/", "-") or "home"
                    page.screenshot(path=str(ARTIFACTS / f"{name}-walk-{shot}.png"), full_page=True)
                    too_wide.append(f"{url} ({who}, {name}): {width} px")
                for rule in axe.run(page).response["violations"]:
                    where = [node["target"] for node in rule["nodes"][:3]]
                    inaccessible.append(
                        f"{url} ({who}, {name}): {rule['id']} ({rule['impact']}) at {where}"
                    )
            context.close()
    assert opened > 140
    assert too_wide == []
    assert inaccessible == []
