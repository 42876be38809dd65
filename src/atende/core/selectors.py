from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from atende.core.models import WorkerHeartbeat


@dataclass(frozen=True)
class Health:
    database: str
    worker: str
    workers_alive: int

    @property
    def healthy(self) -> bool:
        return self.database == "ok"


def health_get() -> Health:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return Health(database="unavailable", worker="unknown", workers_alive=0)
    fresh_since = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(
        last_seen_at__gte=fresh_since, stopped_at__isnull=True
    ).count()
    if alive:
        worker = "ok"
    elif WorkerHeartbeat.objects.exists():
        worker = "stale"
    else:
        worker = "missing"
    return Health(database="ok", worker=worker, workers_alive=alive)
