from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from atende.core.models import WorkerHeartbeat
from atende.core.scheduler import periodic

FINISHED_TASK_RETENTION = timedelta(days=14)
STOPPED_WORKER_RETENTION = timedelta(days=2)


@periodic(every=timedelta(hours=1), name="core.prune")
def prune() -> None:
    """Finished task rows and the heartbeats of long-gone workers are not kept forever."""
    now = timezone.now()
    DBTaskResult.objects.finished().filter(finished_at__lt=now - FINISHED_TASK_RETENTION).delete()
    WorkerHeartbeat.objects.filter(last_seen_at__lt=now - STOPPED_WORKER_RETENTION).delete()
