"""Reading the call center: contacts with their derived status, a contact's protocols, and
the calls waiting for an attendant or missed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Case, Count, Exists, Min, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from atende.callcenter.models import (
    Call,
    CallCenterSettings,
    Contact,
    ContactOccurrence,
    ContactStatus,
)
from atende.core.db import PreparedRead
from atende.occurrences.models import Channel, Occurrence, State
from atende.occurrences.services import Actor

# The screen pop offers a call for this long at most, whatever an operator configured.
CALLS_WINDOW = timedelta(hours=1)


def with_status(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Each contact's status, derived in the query: abandoned, in attendance while not
    finished, pending while one of its pendencies is open, concluded otherwise."""
    open_pendency = ContactOccurrence.objects.filter(
        contact=OuterRef("pk"), is_pendency=True
    ).exclude(occurrence__state=State.CLOSED)
    return contacts.annotate(
        status=Case(
            When(abandoned_at__isnull=False, then=Value(ContactStatus.ABANDONED)),
            When(finished_at__isnull=True, then=Value(ContactStatus.IN_PROGRESS)),
            When(Exists(open_pendency), then=Value(ContactStatus.PENDING)),
            default=Value(ContactStatus.CONCLUDED),
        )
    )


def contacts_visible_to(actors: list[Actor]) -> QuerySet[Contact]:
    """Supervisors see their operators' contacts; attendants their own (the rule of
    ``Contact.worked_by``, for a query)."""
    supervised = [a.operator_id for a in actors if a.is_supervisor]
    attended = [a.operator_id for a in actors if not a.is_supervisor]
    user = actors[0].user if actors else None

    scope = Q(operator_id__in=supervised) | Q(operator_id__in=attended, attendant=user)
    return Contact.objects.filter(scope)


# A contact page's two reads, compiled once (``PreparedRead``): the contact with its
# status, person and people, and its protocols with their manifestations.
_contact_read = PreparedRead(
    lambda pk: with_status(Contact.objects.filter(pk=pk)).select_related(
        "beneficiary__product", "operator", "attendant", "attendant_operator"
    ),
    -101,
)
_items_read = PreparedRead(
    lambda contact_id: (
        ContactOccurrence.objects.filter(contact_id=contact_id)
        .select_related(
            "occurrence__status",
            "occurrence__unit",
            "occurrence__occurrence_type",
            "occurrence__classification__parent__parent",
            "occurrence__procedure_group",
            "occurrence__urgency",
            "occurrence__sentiment",
            "occurrence__priority",
        )
        .order_by("occurrence_id")
    ),
    -101,
)


def contact_for(actors: list[Actor], pk: int) -> Contact | None:
    """The contact with its status, if these people see it (``contacts_visible_to``'s rule
    for one row)."""
    found = _contact_read(pk)
    if not found:
        return None
    contact = found[0]
    return contact if any(contact.worked_by(actor) for actor in actors) else None


def contact_status(contact: Contact) -> str:
    return with_status(Contact.objects.filter(pk=contact.pk)).values_list("status", flat=True)[0]


@dataclass
class Item:
    occurrence: Occurrence
    pendencies: list[Occurrence]


def contact_items(contact: Contact) -> list[Item]:
    """The contact's manifestations, each with its pendencies, in the order issued."""
    links = _items_read(contact.pk)
    items, by_id = [], {}
    for link in links:
        if link.is_pendency:
            by_id[link.occurrence.parent_id].pendencies.append(link.occurrence)
        else:
            item = Item(link.occurrence, [])
            by_id[link.occurrence_id] = item
            items.append(item)
    return items


def _windows(operator_ids: set[int]) -> dict[int, timedelta]:
    return {
        s.operator_id: timedelta(seconds=s.missed_after_seconds)
        for s in CallCenterSettings.objects.filter(operator_id__in=operator_ids)
    }


def calls_waiting(user: object, *, now: datetime | None = None) -> list[Call]:
    """Calls announced to ``user`` that nobody registered, within their operator's time."""
    now = now or timezone.now()
    calls = list(
        Call.objects.filter(
            attendant=user, received_at__gte=now - CALLS_WINDOW, contact__isnull=True
        )
        .select_related("operator")
        .order_by("-received_at")[:20]
    )
    windows = _windows({c.operator_id for c in calls})
    return [c for c in calls if c.received_at >= now - windows.get(c.operator_id, CALLS_WINDOW)]


def calls_missed(operator_ids: list[int], *, now: datetime | None = None) -> QuerySet[Call]:
    """Calls nobody registered within their operator's time, newest first."""
    now = now or timezone.now()
    windows = _windows(set(operator_ids))

    late = Q(pk__in=[])
    for operator_id in operator_ids:
        limit = now - windows.get(operator_id, CALLS_WINDOW)
        late |= Q(operator_id=operator_id, received_at__lt=limit)
    return (
        Call.objects.filter(late, contact__isnull=True)
        .select_related("attendant")
        .order_by("-received_at")
    )


def indicators(*, operator_id: int, since: datetime, until: datetime) -> dict:
    """The call center's figures for the supervisor's dashboard: contacts started in the
    period by status (Abandonado included) and by channel, their manifestations by type and
    category, the customer sentiment by day (the mean rank of its scale), and the
    pendencies open now by unit with their age."""
    from atende.reports.dashboard import bars  # the dashboard's drawing, not its queries

    contacts = Contact.objects.filter(
        operator_id=operator_id, started_at__gte=since, started_at__lt=until
    )
    statuses = dict(with_status(contacts).values_list("status").annotate(n=Count("pk")).order_by())
    manifestations = ContactOccurrence.objects.filter(
        contact__in=contacts, is_pendency=False, occurrence__classification__isnull=False
    )
    kinds = (
        manifestations.values_list(
            "occurrence__classification__parent__parent__name",
            "occurrence__classification__parent__name",
        )
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    tz = timezone.get_current_timezone()
    sentiment = (
        manifestations.annotate(day=TruncDate("occurrence__registered_at", tzinfo=tz))
        .values_list("day")
        .annotate(mean=Avg("occurrence__sentiment__rank"), n=Count("pk"))
        .order_by("day")
    )
    now = timezone.now()
    pending = (
        ContactOccurrence.objects.filter(contact__operator_id=operator_id, is_pendency=True)
        .exclude(occurrence__state=State.CLOSED)
        .values_list("occurrence__unit__name")
        .annotate(n=Count("pk"), oldest=Min("occurrence__registered_at"))
        .order_by("-n")
    )
    return {
        "contacts": sum(statuses.values()),
        "contact_statuses": bars(
            [(label, statuses.get(value, 0)) for value, label in ContactStatus.choices]
        ),
        "contact_channels": bars(
            [
                (Channel(c).label, n)
                for c, n in contacts.values_list("channel").annotate(n=Count("pk")).order_by("-n")
            ]
        ),
        "manifestation_kinds": bars([(f"{kind} / {category}", n) for kind, category, n in kinds]),
        "sentiment": bars(
            [(day.strftime("%d/%m"), round(mean, 2)) for day, mean, _n in sentiment],
            [f"n = {n}" for _day, _mean, n in sentiment],
        ),
        "pendencies": [(unit or "—", n, (now - oldest).days) for unit, n, oldest in pending],
    }
