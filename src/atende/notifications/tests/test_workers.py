"""Real ``atende worker`` processes: a worker killed with SIGKILL in the middle of a send,
and two workers draining the same deliveries."""

import signal
import threading
import time
from collections import Counter

import pytest

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create
from atende.notifications.models import Delivery, DeliveryAttempt, DeliveryState
from atende.notifications.services import deliveries_drain
from atende.testing.deliveries import hook_deliveries
from atende.testing.loopback import HttpReceiver
from atende.testing.occurrences import status_named
from atende.testing.processes import atende, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_ENV = {"ATENDE_OUTBOUND_ALLOW_NETWORKS": "127.0.0.0/8", "ATENDE_DELIVERY_LEASE_SECONDS": "5"}


def stop(*workers) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.communicate(timeout=30)


def test_a_worker_killed_mid_send_loses_nothing_and_the_receiver_sees_one_id(reimbursement):
    first_arrived = threading.Event()
    release = threading.Event()

    def slow_first(request):
        if not first_arrived.is_set():
            first_arrived.set()
            release.wait(30)  # the worker is killed while it waits for this answer
        return 200, {}, b"{}"

    receiver = HttpReceiver(slow_first)
    action = status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="hook",
        kind=ActionKind.HOOK,
        recipient=receiver.url + "/hook",
    )
    [delivery] = hook_deliveries(action, 1)
    doomed = atende("worker", "--interval", "0.1", **WORKER_ENV)
    survivor = None
    try:
        assert first_arrived.wait(60), "the first worker never sent"
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        release.set()
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENDING
        survivor = atende("worker", "--interval", "0.1", **WORKER_ENV)
        wait_until(
            lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED,
            timeout=60,
        )
    finally:
        release.set()
        stop(doomed, *([survivor] if survivor else []))
        receiver.close()
    delivery.refresh_from_db()
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert ids == [delivery.message_id, delivery.message_id]
    assert delivery.attempts == 2
    # The killed attempt left no row; the one that got through is number 2.
    assert list(delivery.attempt_log.values_list("number", "outcome")) == [(2, "delivered")]


def test_two_workers_send_each_of_a_thousand_deliveries_once(reimbursement):
    receiver = HttpReceiver(lambda request: (200, {}, b"{}"))
    action = status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="hook",
        kind=ActionKind.HOOK,
        recipient=receiver.url + "/hook",
    )
    made = hook_deliveries(action, 1000)
    workers = [atende("worker", "--interval", "0.1", **WORKER_ENV) for _ in range(2)]
    try:
        wait_until(
            lambda: not Delivery.objects.exclude(state=DeliveryState.DELIVERED).exists(),
            timeout=240,
            interval=0.5,
        )
    finally:
        stop(*workers)
        receiver.close()
    seen = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert set(seen) == {d.message_id for d in made}
    assert max(seen.values()) == 1, [i for i, n in seen.items() if n > 1][:5]
    assert DeliveryAttempt.objects.count() == 1000
    by_worker = Counter(DeliveryAttempt.objects.values_list("worker", flat=True))
    assert len(by_worker) == 2, f"both workers took part: {by_worker}"


def test_a_batch_slower_than_its_lease_is_not_taken_by_another_worker(reimbursement, settings):
    settings.DELIVERY_LEASE_SECONDS = 1
    settings.DELIVERY_PER_OPERATOR = 6  # the whole batch in one operator's lane
    sending = threading.Event()

    def slow(request):
        sending.set()
        time.sleep(0.4)
        return 200, {}, b"{}"

    receiver = HttpReceiver(slow)
    action = status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="hook",
        kind=ActionKind.HOOK,
        recipient=receiver.url + "/hook",
    )
    made = hook_deliveries(action, 6)  # 2.4 s of sends under a 1 s lease
    first = threading.Thread(target=deliveries_drain, kwargs={"worker": "slow"})
    first.start()
    assert sending.wait(30), "the first worker never sent"
    try:
        # A second worker keeps asking for due deliveries while the first one sends.
        while first.is_alive():
            deliveries_drain(worker="eager")
            time.sleep(0.05)
    finally:
        first.join(30)
        receiver.close()
    seen = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert set(seen) == {d.message_id for d in made}
    assert max(seen.values()) == 1
    assert set(DeliveryAttempt.objects.values_list("worker", flat=True)) == {"slow"}
