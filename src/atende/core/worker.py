"""``atende worker``: the task worker of django-tasks-db plus Atende's scheduler loop.

One loop per process: run due scheduled jobs, claim and run one task, send a batch of due
deliveries, sleep when idle.
A heartbeat thread keeps the worker's row fresh even while a long task runs. SIGTERM or
SIGINT finishes the task in hand and exits 0; a second signal exits at once.
"""

import logging
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

from django.db import close_old_connections, connection
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from atende.core import scheduler
from atende.core.models import WorkerHeartbeat
from atende.notifications.services import deliveries_drain

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0


class AtendeWorker(Worker):
    def __init__(self, *, scheduler_interval: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.scheduler_interval = scheduler_interval
        self._stop = threading.Event()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            logger.warning("%s again: stopping now.", signal.strsignal(signum))
            self.reset_signals()
            sys.exit(1)
        logger.info("%s: finishing the current task, then stopping.", signal.strsignal(signum))
        self.running = False
        self._stop.set()

    def run(self) -> None:
        logger.info("Worker %s started (pid %s)", self.worker_id, os.getpid())
        heartbeat_start(self.worker_id)
        beating = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        beating.start()
        next_tick = 0.0
        try:
            while self.running:
                close_old_connections()
                if time.monotonic() >= next_tick:
                    scheduler.run_due_jobs()
                    next_tick = time.monotonic() + self.scheduler_interval
                ran = self._run_one_task()
                # Deliveries live in their own rows (no task each): every turn of the loop
                # claims a batch of the due ones.
                ran = deliveries_drain(worker=self.worker_id) > 0 or ran
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    break
                if self.batch and not ran:
                    break
                if not ran:
                    self._stop.wait(self.interval)
        finally:
            self._stop.set()
            beating.join(timeout=HEARTBEAT_SECONDS)
            heartbeat_stop(self.worker_id)
            logger.info("Worker %s stopped", self.worker_id)

    def _run_one_task(self) -> bool:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                task_result = None
        if task_result is None:
            return False
        self.run_task(task_result)
        return True

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                heartbeat_touch(self.worker_id)
        finally:
            connection.close()


def heartbeat_start(worker_id: str) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": now,
            "last_seen_at": now,
            "stopped_at": None,
        },
    )


def heartbeat_touch(worker_id: str) -> None:
    try:
        WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen_at=timezone.now())
    except OperationalError:
        # A busy database delays one beat; the next one catches up.
        logger.warning("Worker heartbeat delayed by a busy database")


def heartbeat_stop(worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
        last_seen_at=timezone.now(), stopped_at=timezone.now()
    )
