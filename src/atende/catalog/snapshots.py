"""Per-process snapshots of an occurrence type: what creating or changing an occurrence
needs from the catalog (the type with its protocol type and SLA policy, its statuses, its
default status, its active subjects, its SLA clock with the calendar's days off, the
actions of each status), read once instead of on every request.

A snapshot is keyed by the operator's ``catalog_version`` — bumped in the transaction of
every catalog change — and by the operator fields a protocol or a deadline is made from
(ANS registration, time zone, state). The operator passed in must be read in the current
request, so a change is seen by the next request after it commits. Data read after a
concurrent change may be stored under the older version; it is newer, never staler.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from atende.catalog.calendars import sla_clock
from atende.catalog.models import (
    AttendanceTab,
    FormVersion,
    OccurrenceType,
    Status,
    StatusAction,
    Subject,
)
from atende.tenancy.models import Operator

CAPACITY = 1024


@dataclass(frozen=True)
class TypeSnapshot:
    occurrence_type: OccurrenceType
    default_status: Status | None
    # Every status of the type, active or not: an occurrence may sit in one since retired.
    statuses: dict[int, Status]
    subjects: dict[int, Subject]
    due: Callable[[datetime], datetime] | None
    # A specification's own deadline, overriding the type's, by subject.
    subject_due: dict[int, Callable[[datetime], datetime]]
    # The active actions of each status, so creating an occurrence reads none.
    actions: dict[int, list[StatusAction]]
    # The tab filled at opening (Solicitações) and its form's current version.
    opening_tab: AttendanceTab | None = None
    opening_version: FormVersion | None = None

    def due_for(self, subject_id: int | None) -> Callable[[datetime], datetime] | None:
        return self.subject_due.get(subject_id, self.due)


_cache: OrderedDict[tuple, TypeSnapshot | None] = OrderedDict()
_lock = threading.Lock()


def type_snapshot(*, operator: Operator, type_id: int) -> TypeSnapshot | None:
    """The active type ``type_id`` of ``operator``, or None."""
    snapshot = type_snapshot_any(operator=operator, type_id=type_id)
    if snapshot is None or not snapshot.occurrence_type.is_active:
        return None
    return snapshot


def type_snapshot_any(*, operator: Operator, type_id: int) -> TypeSnapshot | None:
    """The type ``type_id`` of ``operator``, active or not (its occurrences are still
    worked and read), or None."""
    key = (
        operator.pk,
        type_id,
        operator.catalog_version,
        operator.ans_registration,
        operator.time_zone,
        operator.state,
    )
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    snapshot = _load(operator, type_id)
    with _lock:
        _cache[key] = snapshot
        while len(_cache) > CAPACITY:
            _cache.popitem(last=False)
    return snapshot


def snapshots_clear() -> None:
    with _lock:
        _cache.clear()


def _load(operator: Operator, type_id: int) -> TypeSnapshot | None:
    occurrence_type = (
        OccurrenceType.objects.for_operator(operator)
        .filter(pk=type_id)
        .select_related("protocol_type", "sla_policy__calendar")
        .first()
    )
    if occurrence_type is None:
        return None
    # The protocol and the deadline are made from this operator's fields, the ones keyed.
    occurrence_type.operator = operator
    occurrence_type.protocol_type.operator = operator
    policy = occurrence_type.sla_policy
    actions: dict[int, list[StatusAction]] = {}
    for action in StatusAction.objects.filter(
        status__occurrence_type=occurrence_type, is_active=True
    ):
        actions.setdefault(action.status_id, []).append(action)
    statuses = {}
    for status in occurrence_type.statuses.all():
        status.occurrence_type = occurrence_type
        statuses[status.pk] = status
    subjects = {
        s.pk: s
        for s in occurrence_type.subjects.filter(is_active=True).select_related(
            "sla_policy__calendar", "default_unit"
        )
    }
    opening = (
        AttendanceTab.objects.filter(
            occurrence_type=occurrence_type, at_opening=True, is_active=True
        )
        .select_related("form")
        .first()
    )
    return TypeSnapshot(
        opening_tab=opening,
        opening_version=opening.form.versions.order_by("-number").first() if opening else None,
        actions=actions,
        occurrence_type=occurrence_type,
        statuses=statuses,
        default_status=next((s for s in statuses.values() if s.is_default and s.is_active), None),
        subjects=subjects,
        subject_due={
            s.pk: sla_clock(policy=s.sla_policy, time_zone=operator.time_zone, state=operator.state)
            for s in subjects.values()
            if s.sla_policy is not None
        },
        due=sla_clock(policy=policy, time_zone=operator.time_zone, state=operator.state)
        if policy is not None
        else None,
    )
