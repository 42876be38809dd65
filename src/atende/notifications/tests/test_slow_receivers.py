"""A slow or hostile receiver cannot hold a worker: every send has one deadline however the
other side trickles its answer, no more than a small part of an answer is read, and one
operator's slow receiver does not hold back another operator's deliveries."""

import contextlib
import socket
import threading
import time

import pytest

from atende.catalog.models import ActionKind
from atende.catalog.presets import install_health_catalog
from atende.catalog.services import status_action_create
from atende.notifications.models import Delivery, DeliveryState
from atende.notifications.outbound import RESPONSE_CAP
from atende.notifications.services import deliveries_drain
from atende.testing.deliveries import hook_deliveries
from atende.testing.factories import OperatorFactory
from atende.testing.loopback import HttpReceiver
from atende.testing.occurrences import status_named
from atende.testing.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


class RawReceiver:
    """A TCP server that reads a request and then answers as ``answer(sock)`` likes,
    counting the bytes it managed to send before the client went away."""

    def __init__(self, answer) -> None:
        self.answer, self.sent = answer, 0
        self.server = socket.create_server(("127.0.0.1", free_port()))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"

    def _serve(self) -> None:
        with self.server:
            connection, _ = self.server.accept()
            with connection:
                connection.recv(65536)
                # OSError: the client closed, and what it read is all it wanted.
                with contextlib.suppress(OSError):
                    self.answer(connection, self)

    def send(self, connection: socket.socket, data: bytes) -> None:
        connection.sendall(data)
        self.sent += len(data)


def _hook(reimbursement, url: str):
    return status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="hook",
        kind=ActionKind.HOOK,
        recipient=url,
    )


def test_a_receiver_trickling_its_answer_is_cut_at_the_send_deadline(reimbursement, settings):
    settings.DELIVERY_SEND_SECONDS = 2

    def trickle(connection, receiver) -> None:
        receiver.send(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        for _ in range(600):  # 30 s of one kilobyte every 50 ms
            receiver.send(connection, b"x" * 1024)
            time.sleep(0.05)

    receiver = RawReceiver(trickle)
    [delivery] = hook_deliveries(_hook(reimbursement, receiver.url), 1)

    deliveries_drain()

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING  # a timeout may pass: retried later
    attempt = delivery.attempt_log.get()
    assert "não respondeu a tempo" in attempt.error
    assert attempt.duration_ms < 10_000, attempt.duration_ms


def test_a_receiver_that_drips_its_headers_is_cut_at_the_deadline_too(reimbursement, settings):
    settings.DELIVERY_SEND_SECONDS = 2

    def drip(connection, receiver) -> None:
        receiver.send(connection, b"HTTP/1.1 200 OK\r\n")
        for _ in range(60):
            receiver.send(connection, b"X")
            time.sleep(0.5)

    receiver = RawReceiver(drip)
    [delivery] = hook_deliveries(_hook(reimbursement, receiver.url), 1)

    deliveries_drain()

    attempt = Delivery.objects.get(pk=delivery.pk).attempt_log.get()
    assert attempt.duration_ms < 10_000, attempt.duration_ms


def test_no_more_than_a_small_part_of_a_huge_answer_is_read(reimbursement):
    def flood(connection, receiver) -> None:
        receiver.send(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n")
        block = b"y" * 65536
        for _ in range(3200):  # 200 MB
            receiver.send(connection, block)

    receiver = RawReceiver(flood)
    [delivery] = hook_deliveries(_hook(reimbursement, receiver.url), 1)

    deliveries_drain()

    receiver.thread.join(30)
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED
    # What the kernel's buffers took on top of what was read, and nothing like 200 MB.
    assert receiver.sent < RESPONSE_CAP + 32 * 1024 * 1024, receiver.sent


def test_one_operators_slow_receiver_does_not_hold_back_another_operators(reimbursement):
    other_arrived = threading.Event()
    seen_while_slow: list[bool] = []

    def slow(request):
        # Answers as soon as the other operator's message has arrived, or after 10 s.
        seen_while_slow.append(other_arrived.wait(10))
        return 200, {}, b"{}"

    def fast(request):
        other_arrived.set()
        return 200, {}, b"{}"

    slow_receiver, fast_receiver = HttpReceiver(slow), HttpReceiver(fast)
    try:
        hook_deliveries(_hook(reimbursement, slow_receiver.url + "/hook"), 3, prefix="slow")
        other = install_health_catalog(OperatorFactory(name="Outra", ans_registration="123456"))
        hook_deliveries(
            _hook(other["Ocorrencia - Reembolso"], fast_receiver.url + "/hook"), 1, prefix="fast"
        )

        deliveries_drain()
    finally:
        slow_receiver.close()
        fast_receiver.close()

    assert seen_while_slow[0] is True
    assert len(fast_receiver.requests) == 1
    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == 3
