"""A supervisor in Chromium: finds a failed message among the failures, opens it, sends it
again, and sees the new attempt once the pipeline has sent it."""

import pytest
from django.utils import timezone

from atende.notifications.models import Channel, Delivery, DeliveryState, Purpose
from atende.notifications.services import deliveries_drain
from atende.testing.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_resends_a_failed_message(page, live_server, supervisor_a, operator_a, smtp):
    now = timezone.now()
    failed = Delivery.objects.create(
        operator=operator_a,
        purpose=Purpose.ACTION,
        channel=Channel.EMAIL,
        recipient="maria@example.com",
        protocol="41750520261122000007",
        subject="Sua solicitação foi atualizada",
        body="Reembolso aprovado.",
        key="browser:1",
        created_at=now,
        next_attempt_at=now,
        state=DeliveryState.FAILED,
        last_error="O servidor de e-mail falhou: conexão recusada",
    )
    sign_in(page, live_server.url, supervisor_a)
    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Central de entregas"
    ).click()
    page.get_by_role("link", name="Mensagens com falha").click()
    row = page.locator(f'tr[data-delivery="{failed.pk}"]')
    assert "conexão recusada" in row.inner_text()
    row.get_by_role("link", name=str(failed.pk)).click()
    page.get_by_role("button", name="Enviar novamente").click()
    assert "será enviada novamente" in page.get_by_role("status", name="Avisos").inner_text()
    assert deliveries_drain() == 1
    page.reload()
    assert page.locator("dd[data-state]").inner_text() == "Entregue"
    assert page.locator('tr[data-attempt="1"]').is_visible()
    assert smtp.messages[0]["Subject"] == "Sua solicitação foi atualizada"
