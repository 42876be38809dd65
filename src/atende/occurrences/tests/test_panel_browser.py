"""Two attendants in Chromium on the same occurrence: when the first starts attending it,
the second's open page says so without a reload, and the second's click is told plainly."""

import pytest

from atende.catalog.presets import REIMBURSEMENT
from atende.tenancy.models import Role
from atende.testing.browser import sign_in
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import new_occurrence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_second_attendant_sees_that_the_first_took_the_occurrence(
    browser, live_server, attendant_a, unit_a, app_a, catalog_a, operator_a
):
    second = MembershipFactory(operator=operator_a, role=Role.ATTENDANT, user__full_name="Bruna")
    second.units.add(unit_a)
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_name="Maria da Silva",
    )
    pages = []
    for user in (attendant_a, second.user):
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
        page = context.new_page()
        sign_in(page, live_server.url, user)
        page.get_by_role("link", name="Painel de atendimento").click()
        page.get_by_role("link", name=occurrence.protocol).click()
        pages.append(page)
    first, late = pages
    first.get_by_role("button", name="Iniciar atendimento").click()
    assert (
        "Agora você está atendendo esta ocorrência."
        in first.get_by_role("status", name="Avisos").inner_text()
    )
    # The second page polls the occurrence's version every 5 s.
    notice = late.locator('[data-changed="true"]')
    notice.wait_for(timeout=15_000)
    assert "alterou esta ocorrência" in notice.inner_text()
    late.screenshot(path="test-artifacts/panel-second-attendant-told.png", full_page=True)
    late.get_by_role("button", name="Iniciar atendimento").click()
    told = late.get_by_role("status", name="Avisos").inner_text()
    assert "foi alterado por outra pessoa" in told
    assert "em atendimento por" in late.locator('[data-refusal="start"]').inner_text()
    for page in pages:
        page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_queue_is_worked_from_the_keyboard(
    browser, live_server, attendant_a, app_a, catalog_a, width
):
    from atende.occurrences.models import Occurrence, State

    made = [
        new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
        )
        for _ in range(3)
    ]
    newest_first = [o.protocol for o in reversed(made)]
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="pt-BR")
    page = context.new_page()
    sign_in(page, live_server.url, attendant_a)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Painel").click()
    page.locator("#queue tr[data-protocol]").first.wait_for()
    page.locator("html[data-shortcuts=on]").wait_for(state="attached")

    def focused() -> str:
        return page.evaluate("document.activeElement.textContent.trim()")

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.locator("h1").click()  # out of the search box
    page.keyboard.press("j")
    assert focused() == newest_first[0]
    page.keyboard.press("j")
    assert focused() == newest_first[1]
    page.keyboard.press("k")
    assert focused() == newest_first[0]
    page.keyboard.press("a")  # opens it with its start button in focus
    page.wait_for_url(f"**/painel/{newest_first[0]}/#assumir")
    page.wait_for_function("document.activeElement.textContent.includes('Iniciar atendimento')")
    page.keyboard.press("Enter")
    page.get_by_role("status", name="Avisos").wait_for()
    taken = Occurrence.objects.get(protocol=newest_first[0])
    assert (taken.state, taken.attendant_id) == (State.IN_ATTENDANCE, attendant_a.pk)
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_status_is_offered_only_to_who_may_set_it_and_the_queue_sorts(
    browser, live_server, attendant_a, supervisor_a, app_a, catalog_a, width
):
    from playwright.sync_api import expect

    from atende.catalog.services import status_update
    from atende.occurrences.services import actor_for_user, occurrence_start_attendance
    from atende.testing.occurrences import status_named

    kind = catalog_a[REIMBURSEMENT]
    status_update(status=status_named(kind, "Aguardando documentos"), allowed_roles=["supervisor"])
    occurrence = new_occurrence(user=attendant_a, application=app_a, occurrence_type=kind)
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=app_a.operator_id),
        occurrence=occurrence,
        expected_version=occurrence.version,
    )
    for user, offered in ((attendant_a, False), (supervisor_a, True)):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="pt-BR")
        page = context.new_page()
        sign_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/painel/?order=prazo")
        expect(page.locator('th[aria-sort="ascending"] [data-sort="sla"]')).to_be_visible()
        page.get_by_role("link", name=occurrence.protocol).click()
        choices = page.get_by_label("Novo status").locator("option").all_inner_texts()
        assert ("Aguardando documentos" in choices) is offered
        if offered:
            page.get_by_label("Novo status").select_option(label="Aguardando documentos")
            page.get_by_role("button", name="Alterar status").click()
            expect(page.get_by_role("status", name="Avisos")).to_contain_text("Status alterado")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
    occurrence.refresh_from_db()
    assert occurrence.status.internal_description == "Aguardando documentos"
