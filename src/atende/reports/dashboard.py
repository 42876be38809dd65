"""The supervisor dashboard's figures for one operator and period, each a few grouped
queries: open backlog by state and unit, SLA compliance by day, volume by channel and type,
open backlog by age, and closures by attendant."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.callcenter.selectors import indicators
from atende.occurrences.models import Channel, Event, EventKind, Occurrence, State

AGE_BUCKETS = [(0, 1), (1, 3), (3, 7), (7, 30), (30, None)]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    share: float  # of the largest bar, 0 to 100, for drawing
    detail: str = ""


def bars(pairs: list[tuple[str, float]], details: list[str] | None = None) -> list[Bar]:
    top = max((v for _, v in pairs), default=0) or 1
    details = details or [""] * len(pairs)
    return [
        Bar(label, value, 100 * value / top, d)
        for (label, value), d in zip(pairs, details, strict=True)
    ]


def dashboard(*, operator_id: int, start: date, end: date) -> dict:
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    mine = Occurrence.objects.filter(operator_id=operator_id)
    created = mine.filter(registered_at__gte=since, registered_at__lt=until)
    open_now = mine.exclude(state=State.CLOSED)
    return {
        "backlog": _backlog(open_now),
        "sla": _sla_by_day(mine, since=since, until=until),
        "channels": bars(
            [
                (Channel(c).label, n)
                for c, n in created.values_list("channel").annotate(n=Count("pk")).order_by("-n")
            ]
        ),
        "types": bars(
            list(
                created.values_list("occurrence_type__name").annotate(n=Count("pk")).order_by("-n")
            )
        ),
        "ages": _ages(open_now),
        "throughput": _throughput(operator_id, since, until),
        "created": created.count(),
        "call_center": indicators(operator_id=operator_id, since=since, until=until),
    }


def _backlog(open_now: QuerySet[Occurrence]) -> dict:
    """Open occurrences now by unit (rows) and state (columns)."""
    cells = open_now.values_list("unit__name", "state").annotate(n=Count("pk"))
    states = [State.NEW, State.OPEN, State.IN_ATTENDANCE]
    rows: dict[str, dict[int, int]] = {}
    for unit, state, n in cells:
        rows.setdefault(unit or _("No unit"), {})[state] = n
    return {
        "states": [State(s).label for s in states],
        "rows": [
            (unit, [counts.get(s, 0) for s in states], sum(counts.values()))
            for unit, counts in sorted(rows.items())
        ],
    }


def _sla_by_day(mine: QuerySet[Occurrence], *, since: datetime, until: datetime) -> list[Bar]:
    """For each day, of the occurrences decided that day — closed that day, or still open
    with their deadline past on that day — the share closed within the deadline. An open
    occurrence past its deadline is a breach already, on the day its deadline passed."""
    tz = timezone.get_current_timezone()
    counts: dict[date, list[int]] = {}
    closed = (
        mine.filter(closed_at__gte=since, closed_at__lt=until, sla_due_at__isnull=False)
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values_list("day")
        .annotate(total=Count("pk"), within=Count("pk", filter=Q(closed_at__lte=F("sla_due_at"))))
    )
    for day, total, within in closed:
        counts[day] = [total, within]
    overdue = (
        mine.filter(
            closed_at__isnull=True,
            sla_due_at__gte=since,
            sla_due_at__lt=min(until, timezone.now()),
        )
        .annotate(day=TruncDate("sla_due_at", tzinfo=tz))
        .values_list("day")
        .annotate(total=Count("pk"))
    )
    for day, total in overdue:
        counts.setdefault(day, [0, 0])[0] += total
    return [
        Bar(
            day.strftime("%d/%m"),
            round(100 * within / total, 1),
            100 * within / total,
            f"{within}/{total}",
        )
        for day, (total, within) in sorted(counts.items())
    ]


def _ages(open_now: QuerySet[Occurrence]) -> list[Bar]:
    now = timezone.now()
    buckets = {}
    for low, high in AGE_BUCKETS:
        condition = Q(registered_at__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(registered_at__gt=now - timedelta(days=high))
        buckets[f"b{low}"] = Count("pk", filter=condition)
    counts = open_now.aggregate(**buckets)
    labels = [
        _("up to 1 day"),
        _("1 to 3 days"),
        _("3 to 7 days"),
        _("7 to 30 days"),
        _("over 30 days"),
    ]
    return bars(
        [
            (label, counts[f"b{low}"])
            for label, (low, _high) in zip(labels, AGE_BUCKETS, strict=True)
        ]
    )


def _throughput(operator_id: int, since: datetime, until: datetime) -> list[Bar]:
    """Closures in the period by who closed them (the event's actor)."""
    rows = (
        Event.objects.filter(
            operator_id=operator_id, kind=EventKind.CLOSED, at__gte=since, at__lt=until
        )
        .exclude(actor__isnull=True)
        .values_list("actor_name")
        .annotate(n=Count("pk"))
        .order_by("-n")[:20]
    )
    return bars(list(rows))
