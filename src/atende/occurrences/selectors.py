"""Reads of occurrences, always scoped: a person sees the operators they work for (and,
when bound to units, those units' queues); an application's token sees that application's
occurrences only, so sandbox and production never mix."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from atende.core.db import PreparedRead
from atende.occurrences.models import (
    Attachment,
    Event,
    EventKind,
    Mode,
    Occurrence,
    ReportCode,
    State,
)
from atende.occurrences.services import Actor
from atende.tenancy.models import Application

# Joined in the query: what every row shows. The rest comes in one extra query each
# (a fixed number whatever the page size): more joins cost PostgreSQL more planning time
# than the extra round trips.
LIST_RELATED = ("occurrence_type", "subject", "status", "attendant", "unit")
LIST_PREFETCH = (
    "application",
    "protocol_type",
    "parent",
    "outcome_reason",
    # The call center's manifestation (absent from most occurrences).
    "classification__parent__parent",
    "procedure_group",
    "urgency",
    "sentiment",
    "priority",
)


def with_related(queryset: QuerySet[Occurrence]) -> QuerySet[Occurrence]:
    return queryset.select_related(*LIST_RELATED).prefetch_related(*LIST_PREFETCH)


def occurrences_visible_to(*, actors: Iterable[Actor]) -> QuerySet[Occurrence]:
    """What these people see (``actors_for_user``): each actor's rule, OR-ed."""
    scope = Q(pk__in=[])
    for actor in actors:
        scope |= actor.visible()
    return Occurrence.objects.filter(scope)


def occurrences_of_application(*, application: Application) -> QuerySet[Occurrence]:
    return Occurrence.objects.filter(operator_id=application.operator_id, application=application)


_by_operator_and_protocol = PreparedRead(
    lambda operator_id, protocol: Occurrence.objects.filter(
        operator_id=operator_id, protocol=protocol
    ),
    -101,
    "\x00protocol",
)


def occurrence_for_change(actors: list[Actor], protocol: str) -> Occurrence:
    """The occurrence with this protocol among those these people see, read alone (for a
    change: see ``occurrence_by_protocol``), or DoesNotExist. A person working for one
    operator, as most do, reads it with a statement made once and the rule for one row
    (``Actor.sees``)."""
    if len(actors) != 1:
        return occurrence_by_protocol(
            occurrences_visible_to(actors=actors), protocol, related=False
        )
    (actor,) = actors
    found = _by_operator_and_protocol(actor.operator_id, protocol.upper())
    if not found or not actor.sees(found[0]):
        raise Occurrence.DoesNotExist
    return found[0]


_by_application_and_protocol = PreparedRead(
    lambda operator_id, application_id, protocol: Occurrence.objects.filter(
        operator_id=operator_id, application_id=application_id, protocol=protocol
    ),
    -101,
    -102,
    "\x00protocol",
)


def occurrence_of_application(*, application: Application, protocol: str) -> Occurrence:
    """The occurrence of ``application`` with this protocol, read alone (for a change: see
    ``occurrence_by_protocol``), or DoesNotExist. The read every integrator's change makes,
    with its statement made once."""
    found = _by_application_and_protocol(application.operator_id, application.pk, protocol.upper())
    if not found:
        raise Occurrence.DoesNotExist
    return found[0]


def occurrence_by_protocol(
    queryset: QuerySet[Occurrence], protocol: str, *, related: bool = True
) -> Occurrence:
    """The occurrence with this protocol among those the caller sees, or DoesNotExist.
    ``related=False`` reads the row alone, for a change that attaches what it needs
    (``occurrence_relate``)."""
    queryset = queryset.filter(protocol=protocol.upper())
    if related:
        queryset = with_related(queryset)
    # A protocol is unique within an operator, so this is at most a row per operator the
    # caller sees; with the same number in two, the first operator's is taken. Read
    # without the ORDER BY that .first() would compile on every request.
    found = list(queryset.order_by())
    if not found:
        raise Occurrence.DoesNotExist
    return min(found, key=lambda o: o.operator_id)


@dataclass(frozen=True)
class OccurrenceFilters:
    occurrence_type: list[int] | None = None
    subject: list[int] | None = None
    status: list[int] | None = None
    state: list[int] | None = None
    unit: list[int] | None = None
    attendant: list[int] | None = None
    channel: list[str] | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    sla_breached: bool | None = None
    beneficiary: str | None = None
    mode: int | None = None


def occurrence_list(
    queryset: QuerySet[Occurrence],
    *,
    filters: OccurrenceFilters,
    after: int | None = None,
    limit: int = 50,
    newest_first: bool = True,
) -> list[Occurrence]:
    """One page, keyset-paginated on id (ids grow with creation): a fixed number of
    queries and an index range scan whatever page is asked for."""
    f = filters
    lookups = {
        "occurrence_type_id__in": f.occurrence_type,
        "subject_id__in": f.subject,
        "status_id__in": f.status,
        "state__in": f.state,
        "unit_id__in": f.unit,
        "attendant_id__in": f.attendant,
        "channel__in": f.channel,
        "registered_at__gte": f.registered_from,
        "registered_at__lte": f.registered_to,
        "beneficiary_identifier": f.beneficiary,
        "mode": f.mode,
    }
    queryset = queryset.filter(**{k: v for k, v in lookups.items() if v not in (None, [])})
    if f.sla_breached is not None:
        queryset = queryset.filter(sla_breached_at__isnull=not f.sla_breached)
    if after is not None:
        queryset = queryset.filter(pk__lt=after) if newest_first else queryset.filter(pk__gt=after)
    ordering = "-pk" if newest_first else "pk"
    return list(with_related(queryset).order_by(ordering)[:limit])


def occurrence_history(occurrence: Occurrence) -> QuerySet[Event]:
    return occurrence.events.select_related("outcome_reason").order_by("seq")


def _customer_events() -> QuerySet[Event]:
    return (
        Event.objects.filter(visible_in_history=True)
        .exclude(report_code=ReportCode.NONE)
        .select_related("status_after")
        .order_by("seq")
    )


def occurrence_customer_history(occurrence: Occurrence) -> QuerySet[Event]:
    """What the beneficiary sees: visible events of the report's kinds, in order."""
    return _customer_events().filter(occurrence=occurrence)


def beneficiary_occurrences(
    queryset: QuerySet[Occurrence], *, identifier: str
) -> QuerySet[Occurrence]:
    """The beneficiary's occurrences, newest first, each with its visible history in
    ``customer_events`` (one extra query for the whole page)."""
    return (
        # Drafts too: a request the beneficiary opened waits in the intake queue, and its
        # protocol is theirs to follow meanwhile.
        queryset.filter(beneficiary_identifier=identifier)
        .select_related("occurrence_type", "subject", "status", "outcome_reason")
        .prefetch_related(Prefetch("events", _customer_events(), to_attr="customer_events"))
        .order_by("-pk")
    )


@dataclass(frozen=True)
class CustomerView:
    """An occurrence as its beneficiary sees it: the last visible status's external
    description, and the outcome only once the closing is itself visible."""

    protocol: str
    occurrence_type: str
    subject: str | None
    status: str
    state: int
    registered_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None
    closed_at: datetime | None
    outcome_text: str | None
    outcome_reason: str | None
    resolved: bool | None
    history: list[Event]


def customer_view(o: Occurrence) -> CustomerView:
    history = getattr(o, "customer_events", None)
    if history is None:
        history = list(occurrence_customer_history(o))
    last = history[-1] if history else None
    closed = o.closed_at is not None and o.status.visible_in_history
    return CustomerView(
        protocol=o.protocol,
        occurrence_type=o.occurrence_type.name,
        subject=o.subject.name if o.subject_id else None,
        # Never visible yet: the protocol is still theirs to follow (RN 623), in neutral words.
        status=last.status_after.external_description if last else _("In progress"),
        state=last.state_after if last else o.state,
        registered_at=o.registered_at,
        updated_at=last.at if last else o.registered_at,
        sla_due_at=o.sla_due_at,
        closed_at=o.closed_at if closed else None,
        outcome_text=o.outcome_text if closed else None,
        outcome_reason=o.outcome_reason.description if closed and o.outcome_reason_id else None,
        resolved=o.resolved if closed else None,
        history=history,
    )


def conversation(occurrence: Occurrence) -> list[Event]:
    """The replies and the beneficiary's messages, oldest first, each with ``files`` (its
    attachments, as rows) for the pages that show them."""
    events = list(
        occurrence.events.filter(kind__in=[EventKind.REPLY, EventKind.CUSTOMER_MESSAGE]).order_by(
            "seq"
        )
    )
    tokens = [f["token"] for e in events for f in e.payload.get("files", [])]
    found = (
        {a.token: a for a in Attachment.objects.filter(occurrence=occurrence, token__in=tokens)}
        if tokens
        else {}
    )
    for event in events:
        event.files = [
            found[f["token"]] for f in event.payload.get("files", []) if f["token"] in found
        ]
        event.from_beneficiary = event.kind == EventKind.CUSTOMER_MESSAGE
    return events


def intake_queue(visible: QuerySet[Occurrence]) -> QuerySet[Occurrence]:
    """Drafts waiting for an attendant's analysis, oldest first: citizens' reports of the
    Registro de Atendimento (with their place: ``place`` is the registrations app's), a
    *Básico* type's self-service requests, an integrator's drafts."""
    return (
        visible.filter(mode=Mode.DRAFT)
        .exclude(state=State.CLOSED)
        .select_related("subject", "occurrence_type", "place")
        .order_by("registered_at", "pk")
    )
