"""Periodic and re-driven work run by the worker's scheduler loop.

Apps register jobs in their ``tasks`` module with ``@periodic(every=...)``. The tasks
framework has no retries and forgets a task whose worker died, so durable work keeps its
own state in rows and a periodic job here re-drives whatever is due or stale.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from atende.core.models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: Callable[[], object]


_jobs: dict[str, Job] = {}


def periodic(*, every: timedelta, name: str | None = None) -> Callable:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        job_name = name or f"{func.__module__}.{func.__qualname__}"
        _jobs[job_name] = Job(name=job_name, every=every, func=func)
        return func

    return register


def registered_jobs() -> list[Job]:
    autodiscover_modules("tasks")
    return sorted(_jobs.values(), key=lambda job: job.name)


def run_due_jobs() -> list[str]:
    """Run every job whose time has come; returns the names this process ran."""
    ran = []
    for job in registered_jobs():
        if _claim(job):
            _run(job)
            ran.append(job.name)
    return ran


def _claim(job: Job) -> bool:
    now = timezone.now()
    ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    claimed = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.every, last_started_at=now, runs=F("runs") + 1
    )
    return claimed == 1


def _run(job: Job) -> None:
    error = ""
    try:
        with transaction.atomic():
            job.func()
    except Exception as exc:
        # One failing job must not stop the others nor the worker; the error is kept on the
        # job's row for the operators and retried at the next period.
        logger.exception("Scheduled job %s failed", job.name)
        error = f"{type(exc).__name__}: {exc}"
    ScheduledJob.objects.filter(name=job.name).update(
        last_finished_at=timezone.now(), last_error=error
    )
