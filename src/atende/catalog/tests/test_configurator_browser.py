"""Issue flow in Chromium: a configurator builds a form (watching its live preview),
creates an occurrence type with three statuses and a tab with that form; an attendant
works an occurrence of the new type at once; another operator's attendant cannot reach it."""

import pytest

from atende.catalog.models import OccurrenceType
from atende.occurrences.models import Occurrence, State
from atende.occurrences.services import actor_for_application, occurrence_create
from atende.tenancy.models import Role
from atende.testing.browser import sign_in
from atende.testing.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = "test-artifacts"


def _page(browser, url, user):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
    page = context.new_page()
    sign_in(page, url, user)
    return page


def test_a_type_configured_on_screen_is_worked_at_once(
    browser, live_server, operator_a, app_a, catalog_a, attendant_a, attendant_b
):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    url = live_server.url
    page = _page(browser, url, configurator)
    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Configuração"
    ).click()

    page.get_by_role("link", name="Novo formulário").click()
    page.locator('[name="name"]').fill("Dados da visita")
    page.locator('[name="fields-0-label"]').fill("Data da visita")
    page.locator('[name="fields-0-key"]').fill("data_visita")
    page.locator('[name="fields-0-type"]').select_option("date")
    page.locator('[name="fields-0-required"]').check()
    # The preview redraws itself from the rows as they are typed.
    page.locator("#preview").get_by_label("Data da visita").wait_for()
    page.screenshot(path=f"{ARTIFACTS}/configurator-form-builder.png", full_page=True)
    page.get_by_role("button", name="Salvar formulário").click()
    assert "Versão 1 em uso" in page.locator("main").inner_text()
    # Changing a label (the blank row for a new field left untouched) makes version 2.
    page.locator('[name="fields-0-label"]').fill("Data da vistoria")
    page.get_by_role("button", name="Salvar formulário").click()
    assert "Versão 2 em uso" in page.locator("main").inner_text()

    page.get_by_role("link", name="Configuração").first.click()
    page.get_by_role("link", name="Novo tipo de ocorrência").click()
    page.locator('[name="name"]').fill("Vistoria técnica")
    page.locator('[name="protocol_type"]').select_option(label="Padrão ANS")
    page.locator('[name="subjects"]').fill("Vistoria inicial")
    rows = [
        ("Agendada", "Vistoria agendada", "#6e7781", "is_default", "none"),
        ("Em vistoria", "Técnico a caminho", "#1f6feb", "starts_attendance", "none"),
        ("Vistoria concluída", "Vistoria concluída", "#1a7f37", None, "resolved"),
    ]
    for n, (internal, external, colour, mark, closing) in enumerate(rows):
        page.locator(f'[name="status-{n}-internal_description"]').fill(internal)
        page.locator(f'[name="status-{n}-external_description"]').fill(external)
        page.locator(f'[name="status-{n}-color"]').fill(colour)
        if mark:
            page.locator(f'[name="status-{n}-{mark}"]').check()
        page.locator(f'[name="status-{n}-closing"]').select_option(closing)
    page.get_by_role("button", name="Salvar").click()
    page.get_by_role("heading", name="Vistoria técnica").wait_for()
    page.get_by_role("link", name="Incluir aba").click()
    page.locator('[name="name"]').fill("Visita")
    page.locator('[name="form"]').select_option(label="Dados da visita")
    page.locator('[name="required"]').check()
    page.get_by_role("button", name="Salvar").click()
    page.get_by_role("heading", name="Vistoria técnica").wait_for()
    page.screenshot(path=f"{ARTIFACTS}/configurator-new-type.png", full_page=True)

    # An app opens one at once (as the API does); the attendant works it in the panel.
    kind = OccurrenceType.objects.get(operator=operator_a, name="Vistoria técnica")
    occurrence = occurrence_create(
        actor=actor_for_application(application=app_a),
        application=app_a,
        occurrence_type=kind,
        subject=kind.subjects.get(),
        channel="appMobile",
        beneficiary_name="João Souza",
    )
    panel = _page(browser, url, attendant_a)
    panel.goto(f"{url}/painel/")
    panel.get_by_role("link", name=occurrence.protocol).click()
    panel.get_by_role("button", name="Iniciar atendimento").click()
    panel.get_by_text("Preencher").click()
    panel.get_by_label("Data da vistoria").fill("2026-11-25")
    panel.get_by_role("button", name="Salvar registro").click()
    panel.get_by_text("Encerrar com parecer").click()
    panel.get_by_label("Status de encerramento").select_option(label="Vistoria concluída")
    panel.get_by_label("Parecer (o beneficiário lê)").fill("Vistoria feita, sem pendências.")
    panel.get_by_role("button", name="Encerrar", exact=True).click()
    panel.get_by_role("status", name="Avisos").wait_for()
    panel.screenshot(path=f"{ARTIFACTS}/panel-new-type-closed.png", full_page=True)
    occurrence = Occurrence.objects.get(pk=occurrence.pk)
    assert occurrence.state == State.CLOSED
    assert occurrence.status.internal_description == "Vistoria concluída"
    assert occurrence.tab_entries.get().data == {"data_visita": "2026-11-25"}

    stranger = _page(browser, url, attendant_b)
    assert stranger.goto(f"{url}/painel/{occurrence.protocol}/").status == 404
    assert stranger.goto(f"{url}/configuracao/{operator_a.pk}/tipos/{kind.pk}/").status == 404
    for each in (page, panel, stranger):
        each.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_an_actions_page_names_its_status_and_shows_only_its_kinds_fields(
    browser, live_server, operator_a, catalog_a, width
):
    from atende.catalog.models import ActionKind
    from atende.catalog.services import status_action_create

    status = catalog_a["Ocorrencia - Reembolso"].statuses.get(internal_description="Aprovado")
    action = status_action_create(
        status=status, description="Aviso", kind=ActionKind.EMAIL, body_template="{{ status }}"
    )
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, configurator)
    page.goto(f"{live_server.url}/configuracao/{operator_a.pk}/item/acao/{action.pk}/")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "Aprovado" in heading and "Ocorrencia - Reembolso" in heading
    whatsapp = page.get_by_label("Nome do modelo do WhatsApp")
    subject = page.locator('[name="subject_template"]')
    assert subject.is_visible() and not whatsapp.is_visible()
    page.locator('[name="kind"]').select_option("whatsapp")
    assert whatsapp.is_visible() and not subject.is_visible()
    page.screenshot(path=f"{ARTIFACTS}/configurator-action-{width}.png", full_page=True)
    context.close()
