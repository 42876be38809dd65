"""Marking SLA breaches."""

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from atende.occurrences.models import (
    EventKind,
    Occurrence,
    State,
)
from atende.occurrences.services.actors import Actor
from atende.occurrences.services.core import _change


def sla_breaches_mark(*, now: datetime | None = None, batch: int = 500) -> int:
    """Mark the open occurrences past their SLA due date; returns how many were marked.

    The mark is an event of the system that does not bump ``version``: an attendant
    working the occurrence is not told someone else changed it.
    """
    now = now or timezone.now()
    marked = 0
    due = (
        Occurrence.objects.filter(
            sla_due_at__lt=now, sla_breached_at__isnull=True, closed_at__isnull=True
        )
        .exclude(state=State.CLOSED)
        .order_by("sla_due_at")
        .values_list("pk", "operator_id")[:batch]
    )
    for pk, operator_id in due:
        occurrence = Occurrence(pk=pk, operator_id=operator_id)
        actor = Actor(operator_id=operator_id, role="system")
        try:
            _change(
                occurrence,
                actor=actor,
                kind=EventKind.SLA_BREACHED,
                expected_version=None,
                check=_mark_breach(now),
                at=now,
                bump_version=False,
            )
        except (_AlreadyMarked, ValidationError, Occurrence.DoesNotExist):
            continue
        marked += 1
    return marked


class _AlreadyMarked(Exception):
    pass


def _mark_breach(now: datetime) -> Callable[[Occurrence], None]:
    def check(current: Occurrence) -> None:
        if current.sla_breached_at is not None or current.sla_due_at is None:
            raise _AlreadyMarked
        current.sla_breached_at = current.sla_due_at

    return check
