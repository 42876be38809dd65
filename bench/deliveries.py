"""The delivery pipeline on PostgreSQL.

1. Hook throughput: N hook deliveries drained by 4 ``atende worker`` processes into a
   loopback receiver; prints deliveries per second (first send to last) and checks that the
   receiver saw every message id exactly once. Target: at least 200 per second.
2. The cost of a status change that triggers 3 actions against one that triggers none
   (the deliveries are written in the change's transaction, not sent). Target: within 20 %.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter

import common

os.environ.setdefault("ATENDE_OUTBOUND_ALLOW_NETWORKS", "127.0.0.0/8")


def throughput(count: int, workers: int) -> None:

    from atende.catalog.models import ActionKind, StatusAction
    from atende.catalog.presets import REIMBURSEMENT
    from atende.catalog.services import status_action_create, status_action_update
    from atende.notifications.models import Delivery, DeliveryAttempt
    from atende.synth.occurrences import synth_target
    from atende.testing.deliveries import hook_deliveries
    from atende.testing.loopback import HttpReceiver

    operator, _ = synth_target(seed=1)
    status = operator.occurrence_types.get(name=REIMBURSEMENT).statuses.get(
        internal_description="Em análise"
    )
    receiver = HttpReceiver(lambda request: (200, {}, b"{}"))
    for old in StatusAction.objects.filter(status=status, is_active=True):
        status_action_update(action=old, is_active=False)
    action = status_action_create(
        status=status, description="bench hook", kind=ActionKind.HOOK, recipient=receiver.url
    )
    made = hook_deliveries(action, count, prefix=f"bench:{time.time_ns()}")
    ids = [d.pk for d in made]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "atende", "worker", "--interval", "0.05"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + 600
        while Delivery.objects.filter(pk__in=ids).exclude(state="delivered").exists():
            if time.monotonic() > deadline:
                sys.exit("the deliveries did not finish in 10 minutes")
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        receiver.close()
    attempts = DeliveryAttempt.objects.filter(delivery_id__in=ids)
    first = min(attempts.values_list("started_at", flat=True))
    last = max(a.started_at.timestamp() + a.duration_ms / 1000 for a in attempts)
    seconds = last - first.timestamp()
    seen = Counter(request.headers["webhook-id"] for request in receiver.requests)
    repeats = sum(n - 1 for n in seen.values())
    print(
        f"hooks: {count} deliveries, {workers} workers, {seconds:.2f} s = "
        f"{count / seconds:,.0f}/s; received {len(seen)} distinct ids, {repeats} repeats"
    )


def change_cost(changes: int) -> None:
    from django.test import Client

    from atende.catalog.models import ActionKind, StatusAction
    from atende.catalog.presets import REIMBURSEMENT
    from atende.catalog.services import status_action_create, status_action_update
    from atende.occurrences.models import Channel
    from atende.occurrences.services import (
        actor_for_application,
        occurrence_change_status,
        occurrence_create,
    )
    from atende.synth.occurrences import synth_target
    from atende.tenancy.models import Scope
    from atende.tenancy.services import api_token_create

    operator, application = synth_target(seed=1)
    kind = operator.occurrence_types.get(name=REIMBURSEMENT)
    one, two = (
        kind.statuses.get(internal_description=name)
        for name in ("Em análise", "Aguardando documentos")
    )
    actor = actor_for_application(application=application)
    for action in StatusAction.objects.filter(status__in=[one, two], is_active=True):
        status_action_update(action=action, is_active=False)

    def switch(actions: list, active: bool) -> None:
        # Through the service: it bumps the catalog version the snapshots are keyed by.
        for action in actions:
            status_action_update(action=action, is_active=active)

    _, token = api_token_create(
        application=application, name="bench deliveries", scopes=[Scope.OCCURRENCES_WRITE]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")

    def timed(rounds: int) -> tuple[list[float], list[float]]:
        """Service call alone, then the same change as ``POST .../status`` through the
        whole request stack (middleware, token, django-ninja, JSON)."""
        occurrence = occurrence_create(
            actor=actor, application=application, occurrence_type=kind, channel=Channel.PHONE
        )
        service, api = [], []
        for n in range(rounds):
            started = time.perf_counter()
            occurrence_change_status(
                actor=actor,
                occurrence=occurrence,
                status=two if n % 2 else one,
                expected_version=None,
            )
            service.append((time.perf_counter() - started) * 1000)
        for n in range(rounds):
            started = time.perf_counter()
            response = client.post(
                f"/api/v1/occurrences/{occurrence.protocol}/status",
                {"status_id": (two if n % 2 else one).pk, "version": occurrence.version},
                content_type="application/json",
            )
            api.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            occurrence.version = response.json()["version"]
        return service, api

    timed(50)  # warm-up
    none, three, none_api, three_api = [], [], [], []
    actions = []
    for _ in range(5):  # alternate to spread drift evenly
        switch(actions, False)
        service, api = timed(changes // 5)
        none += service
        none_api += api
        if not actions:
            actions = [
                status_action_create(
                    status=status,
                    description=f"hook {n}",
                    kind=ActionKind.HOOK,
                    recipient="http://127.0.0.1:9/",
                )
                for status in (one, two)
                for n in range(3)
            ]
        switch(actions, True)
        service, api = timed(changes // 5)
        three += service
        three_api += api
    switch(actions, False)
    for label, base_ms, loaded_ms in (
        ("service call", none, three),
        ("POST .../status", none_api, three_api),
    ):
        base, loaded = statistics.median(base_ms), statistics.median(loaded_ms)
        print(
            f"status change, {label}, median of {len(base_ms)}: no action {base:.2f} ms "
            f"(p95 {common.percentile(base_ms, 0.95):.2f}), 3 actions {loaded:.2f} ms "
            f"(p95 {common.percentile(loaded_ms, 0.95):.2f}): +{(loaded / base - 1) * 100:.1f} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--changes", type=int, default=1000)
    args = parser.parse_args()
    common.setup()
    print(common.machine())
    change_cost(args.changes)
    throughput(args.deliveries, args.workers)


if __name__ == "__main__":
    main()
