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
        in first.get_by_role("status").first.inner_text()
    )
    # The second page polls the occurrence's version every 5 s.
    notice = late.locator('[data-changed="true"]')
    notice.wait_for(timeout=15_000)
    assert "alterou esta ocorrência" in notice.inner_text()
    late.screenshot(path="test-artifacts/panel-second-attendant-told.png", full_page=True)
    late.get_by_role("button", name="Iniciar atendimento").click()
    told = late.get_by_role("status").first.inner_text()
    assert "foi alterado por outra pessoa" in told
    assert "em atendimento por" in late.locator('[data-refusal="start"]').inner_text()
    for page in pages:
        page.context.close()
