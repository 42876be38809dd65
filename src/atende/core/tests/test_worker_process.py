"""The real ``atende worker`` process: sends what a web request asked for, and stops
cleanly on SIGTERM."""

import email
import signal

import pytest

from atende.core.models import WorkerHeartbeat
from atende.notifications.models import Delivery, DeliveryState
from atende.testing.processes import atende, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_sends_a_delivery_made_by_a_request_and_stops_on_sigterm(
    client, attendant_a, settings
):
    response = client.post("/conta/senha/", {"email": attendant_a.email})
    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    # The reset token is made by the worker at send time; it never sits in a row.
    assert delivery.payload == {"user_id": attendant_a.pk}

    worker = atende("worker", "--interval", "0.2")
    try:
        wait_until(
            lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED,
            timeout=60,
        )
        assert WorkerHeartbeat.objects.filter(stopped_at__isnull=True).count() == 1
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert WorkerHeartbeat.objects.get().stopped_at is not None

    sent = list((settings.DATA_DIR / "mail").glob("*.log"))
    assert len(sent) == 1
    message = email.message_from_string(sent[0].read_text().split("\n-----", 1)[0])
    assert message["To"] == attendant_a.email
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "http://127.0.0.1:8000/conta/senha/" in body
    assert "Alguém pediu para redefinir a senha" in body
