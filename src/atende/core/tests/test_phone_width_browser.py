"""Every page fits a phone's width (390 px): nothing makes the page itself scroll sideways
(a wide table scrolls inside its own box)."""

import pytest

from atende.catalog.presets import REIMBURSEMENT
from atende.occurrences.models import Mode
from atende.occurrences.services import actor_for_application, occurrence_create
from atende.portal.services import beneficiary_login_create
from atende.testing.beneficiaries import card_upserted
from atende.testing.browser import ARTIFACTS, sign_in
from atende.testing.occurrences import new_occurrence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CPF = "52998224725"
PASSWORD = "Senha-2026-boa"
PHONE = {"width": 390, "height": 844}


def _fits(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width} px wide"


def _rows_read_whole(page, rows: str) -> None:
    """Each row of a list read row by row shows every cell on screen, labelled, with no
    sideways scrolling inside the table either."""
    cells = page.locator(f"{rows} td")
    assert cells.count() > 0
    for box in [cells.nth(i).bounding_box() for i in range(min(cells.count(), 14))]:
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    label = page.locator(f"{rows} td[data-label]").first
    assert label.evaluate("cell => getComputedStyle(cell, '::before').content").startswith('"')


def test_staff_pages_fit_a_phone(browser, live_server, operator_a, app_a, catalog_a, supervisor_a):
    for n in range(3):
        new_occurrence(
            user=supervisor_a,
            application=app_a,
            occurrence_type=catalog_a[REIMBURSEMENT],
            beneficiary_identifier=CPF,
            beneficiary_name=f"Beatriz Beneficiária de Albuquerque Cavalcanti {n}",
        )
    card = card_upserted(
        operator_a,
        card="0001234",
        cpf=CPF,
        name="Beatriz Beneficiária de Albuquerque Cavalcanti",
        phones=["11987654321"],
        emails=["beatriz.albuquerque.cavalcanti@exemplo.com.br"],
        addresses=[{"street": "Avenida Brigadeiro Faria Lima", "number": "3477", "city": "SP"}],
    )
    draft = occurrence_create(
        actor=actor_for_application(application=app_a),
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        channel="appMobile",
        mode=Mode.DRAFT,
        description="Reembolso de consulta com a doutora Maria Aparecida de Albuquerque " * 3,
    )
    context = browser.new_context(viewport=PHONE, locale="pt-BR")
    page = context.new_page()
    page.goto(f"{live_server.url}/conta/entrar/")
    _fits(page, "login")
    sign_in(page, live_server.url, supervisor_a)
    for name, path in [
        ("home", "/"),
        ("queue", "/painel/"),
        ("indicators", "/relatorios/indicadores/"),
        ("reports", "/relatorios/"),
        ("deliveries", "/entregas/"),
        ("beneficiary-search", "/beneficiarios/?q=beatriz"),
        ("beneficiary", f"/beneficiarios/{card.pk}/"),
        ("intake", "/painel/triagem/"),
        ("draft", f"/painel/triagem/{draft.protocol}/"),
    ]:
        page.goto(live_server.url + path)
        _fits(page, name)
    page.goto(f"{live_server.url}/painel/")
    _rows_read_whole(page, "#queue tr[data-protocol]")
    page.locator("[data-protocol] a").first.click()
    _fits(page, "occurrence")
    page.goto(f"{live_server.url}/beneficiarios/?q=beatriz")
    _rows_read_whole(page, "#results tr[data-card]")
    context.close()


def test_configuration_pages_fit_a_phone(browser, live_server, operator_a, catalog_a):
    from atende.catalog.models import ActionKind
    from atende.catalog.services import canned_reply_create, status_action_create
    from atende.tenancy.models import Role
    from atende.testing.factories import MembershipFactory
    from atende.testing.occurrences import status_named

    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    canned_reply_create(operator=operator_a, title="Documentação recebida", text="Olá")
    kind = catalog_a[REIMBURSEMENT]
    action = status_action_create(
        status=status_named(kind, "Em análise"),
        description="e-mail - em análise",
        kind=ActionKind.EMAIL,
        body_template="Olá",
    )
    context = browser.new_context(viewport=PHONE, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, configurator)
    base = f"/configuracao/{operator_a.pk}"
    for name, path in [
        ("canned-reply-new", f"{base}/respostas/novo/"),
        ("action", f"{base}/item/acao/{action.pk}/"),
        ("status", f"{base}/item/status/{action.status_id}/"),
    ]:
        page.goto(live_server.url + path)
        _fits(page, name)
    # Every page the configuration's menu leads to, and the pages those link to.
    page.goto(f"{live_server.url}{base}/")
    menu = _links_under(page, base)
    assert len(menu) >= 10, menu
    further = set()
    for path in menu:
        page.goto(live_server.url + path)
        _fits(page, path.strip("/").replace("/", "-"))
        further.update(_links_under(page, base))
    for path in sorted(further - set(menu)):
        if not path.endswith(".csv"):
            page.goto(live_server.url + path)
            _fits(page, path.strip("/").replace("/", "-"))
    context.close()


def _links_under(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        f'main a[href^="{base}/"]', "links => links.map(a => a.getAttribute('href'))"
    )
    return sorted(set(hrefs))


def test_the_portal_fits_a_phone(browser, live_server, operator_a, app_a, catalog_a, attendant_a):
    beneficiary_login_create(
        operator=operator_a, login="0001234", cpf=CPF, name="Beatriz", password=PASSWORD
    )
    for _ in range(3):
        new_occurrence(
            user=attendant_a,
            application=app_a,
            occurrence_type=catalog_a[REIMBURSEMENT],
            beneficiary_identifier=CPF,
        )
    context = browser.new_context(viewport=PHONE, locale="pt-BR")
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/{app_a.bundle}/entrar/")
    _fits(page, "portal-sign-in")
    page.get_by_label("CPF").fill(CPF)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{live_server.url}/portal/{app_a.bundle}/")
    _fits(page, "portal-list")
    _rows_read_whole(page, "main tbody tr")
    page.get_by_role("link", name="Nova solicitação").click()
    _fits(page, "portal-new")
    context.close()
