from datetime import timedelta

import pytest
from django.utils import timezone

from atende.core.models import WorkerHeartbeat


def _beat(seconds_ago: int) -> None:
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.create(
        worker_id=f"w{seconds_ago}", hostname="h", pid=1, started_at=moment, last_seen_at=moment
    )


@pytest.mark.django_db
def test_health_without_any_worker_says_missing(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "worker": "missing",
        "workers_alive": 0,
    }


@pytest.mark.django_db
def test_health_with_a_fresh_heartbeat_is_ok(client):
    _beat(5)
    body = client.get("/healthz").json()
    assert (body["status"], body["worker"], body["workers_alive"]) == ("ok", "ok", 1)


@pytest.mark.django_db
def test_health_with_only_old_heartbeats_says_stale(client, settings):
    _beat(settings.WORKER_HEARTBEAT_STALE_SECONDS + 30)
    body = client.get("/healthz").json()
    assert (body["status"], body["worker"]) == ("degraded", "stale")
