"""Issue flow in Chromium: a registration is open at a corner; the citizen's app sends a
report with a photo and coordinates 40 m away to the running server; the attendant finds
it in the intake queue, sees the photo and the duplicate check's match with its distance,
attaches it; the registration has a second requester and its page lists the SMS that took
the protocol to the citizen's phone, delivered by the gateway. At a desktop's and a
phone's width."""

import httpx
import pytest
from playwright.sync_api import expect

from atende.notifications.services import deliveries_drain
from atende.occurrences.services import actor_for_user
from atende.registrations.tests.conftest import HERE, NEAR, sms_sent
from atende.registrations.tests.test_services import PNG, opened
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.browser import ARTIFACTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 390])
def test_a_report_from_the_app_is_attached_to_the_registration_nearby(
    browser, live_server, operator_b, app_b, street_leak, attendant_water, gateway, width
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    first = opened(
        actor,
        app_b,
        street_leak,
        place={"street": "Rua da Bahia", "city": "Belo Horizonte", **HERE},
    )
    deliveries_drain()
    gateway.requests.clear()

    # The citizen's app plays its part against the real server.
    _, token = api_token_create(application=app_b, name="App", scopes=[Scope.OCCURRENCES_WRITE])
    answer = httpx.post(
        f"{live_server.url}/api/v1/registrations/reports",
        data={
            "subject_id": str(street_leak.pk),
            "description": "Água jorrando perto do bueiro",
            "phone": "31933334444",
            "latitude": str(NEAR["latitude"]),
            "longitude": str(NEAR["longitude"]),
        },
        files={"photo": ("vazamento.png", PNG, "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    report = answer.json()["protocol"]

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, attendant_water)
    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Registros (RA)"
    ).click()
    expect(page.get_by_role("heading", name="Fila de triagem")).to_be_visible()
    fits(page, width)
    page.get_by_role("link", name=report).click()

    photo = page.get_by_role("img", name="Foto enviada com a solicitação")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 1
    expect(page.locator("#coordinates")).to_contain_text("-19")
    match = page.locator(f'#matches tr[data-protocol="{first.protocol}"]')
    expect(match.locator(".distance")).to_have_text("40 m")
    fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"intake-duplicate-{width}.png"), full_page=True)
    match.get_by_role("button", name="Anexar a este registro").click()

    expect(page.get_by_role("status", name="Avisos")).to_contain_text(
        f"Solicitação anexada a {first.protocol}"
    )
    panel = page.locator("#registration-panel")
    expect(panel.locator("#requesters")).to_contain_text(f"da solicitação {report}")
    deliveries_drain()
    assert sms_sent(gateway) == [
        (
            "+5531933334444",
            f"Operadora B: sua solicitação foi registrada sob o protocolo {first.protocol}.",
        )
    ]
    page.reload()
    messages = page.locator("#occurrence-messages")
    row = messages.locator("tr", has_text="+5531933334444")
    expect(row).to_have_attribute("data-state", "delivered")
    expect(row).to_contain_text("Entregue")
    fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"intake-attached-{width}.png"), full_page=True)

    # The other Registro de Atendimento pages fit the width too.
    for link in ("Inserir RA", "Inserir RA simplificado", "Tramitar registros"):
        page.goto(f"{live_server.url}/registros/")
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"registrations-route-{width}.png"), full_page=True)
    context.close()
