"""Rebuilding an occurrence's current fields from its events alone: the proof that the row
is only a cache of the log, and what the report uses to see an occurrence as of a moment."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from atende.occurrences.models import Event, EventKind


@dataclass
class Replayed:
    status_id: int | None = None
    state: int | None = None
    attendant_id: int | None = None
    unit_id: int | None = None
    closed_at: datetime | None = None
    outcome_text: str = ""
    outcome_attachment_url: str = ""
    outcome_reason_id: int | None = None
    resolved: bool | None = None
    updated_at: datetime | None = None
    sla_breached: bool = False
    awaiting_since: datetime | None = None
    version: int = 0
    last_seq: int = 0


def occurrence_replay(events: Iterable[Event]) -> Replayed:
    """Fold events (in ``seq`` order) into the fields they imply."""
    result = Replayed()
    for event in events:
        result.status_id = event.status_after_id
        result.state = event.state_after
        result.attendant_id = event.attendant_after_id
        result.unit_id = event.unit_after_id
        result.last_seq = event.seq
        if event.kind == EventKind.SLA_BREACHED:
            result.sla_breached = True
            continue
        result.version += 1
        result.updated_at = event.at
        if event.kind == EventKind.CUSTOMER_MESSAGE:
            result.awaiting_since = result.awaiting_since or event.at
        elif event.kind == EventKind.REPLY:
            result.awaiting_since = None
        if event.kind == EventKind.CLOSED:
            result.awaiting_since = None
            result.closed_at = event.at
            result.outcome_text = event.outcome_text
            result.outcome_attachment_url = event.outcome_attachment_url
            result.outcome_reason_id = event.outcome_reason_id
            result.resolved = event.resolved
        elif event.kind == EventKind.REOPENED:
            result.closed_at = None
            result.outcome_text = result.outcome_attachment_url = ""
            result.outcome_reason_id = result.resolved = None
    return result
