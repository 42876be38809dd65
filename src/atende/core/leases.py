"""Durable background work kept in rows (reports, beneficiary imports): a worker claims a
row with a conditional UPDATE that counts an attempt and sets a lease; only the attempt
still holding the lease may finish it. The scheduler re-drives what a dead worker left
(its lease ran out) or a lost task never started (queued for long), and fails what was
interrupted too often.

Such a model has ``state`` (queued, running, failed, …), ``attempts``, ``lease_until``,
``enqueued_at``, ``started_at``, ``finished_at`` and ``error``."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import F, Q

QUEUED, RUNNING, FAILED = "queued", "running", "failed"
# A queued row whose task has not started after this was lost with its task.
LOST_AFTER = timedelta(minutes=2)


def lease_claim(
    model: type[models.Model],
    pk: int,
    *,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
    **fields: object,
) -> bool:
    """Take the row for a new attempt (it is queued, or its lease ran out); ``fields`` are
    set with the claim. False when another attempt holds it or it is finished."""
    claimed = (
        model.objects.filter(pk=pk, attempts__lt=max_attempts)
        .filter(Q(state=QUEUED) | Q(state=RUNNING, lease_until__lt=now))
        .update(
            state=RUNNING,
            attempts=F("attempts") + 1,
            lease_until=now + lease,
            started_at=now,
            **fields,
        )
    )
    return claimed == 1


def stale_redrive(
    model: type[models.Model],
    *,
    now: datetime,
    max_attempts: int,
    exhausted_error: str,
    enqueue: Callable[[int], None],
) -> tuple[int, int]:
    """Fail the stale rows out of attempts and queue the others again (after the commit);
    returns (failed, queued again)."""
    stale = Q(state=RUNNING, lease_until__lt=now) | Q(
        state=QUEUED, enqueued_at__lt=now - LOST_AFTER
    )
    exhausted = model.objects.filter(stale, attempts__gte=max_attempts).update(
        state=FAILED, error=exhausted_error, finished_at=now, lease_until=None
    )
    again = list(model.objects.filter(stale).values_list("pk", flat=True)[:100])
    model.objects.filter(pk__in=again).update(enqueued_at=now)
    for pk in again:
        transaction.on_commit(lambda pk=pk: enqueue(pk))
    return exhausted, len(again)
