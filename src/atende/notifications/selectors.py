"""Reads of deliveries: supervisors see their operators' deliveries; configurators and
supervisors see the actions they may test."""

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from atende.catalog.models import StatusAction
from atende.notifications.models import Delivery
from atende.occurrences.selectors import occurrence_by_protocol, occurrences_visible_to
from atende.occurrences.services import actors_for_user
from atende.tenancy.models import Operator, Role

DELIVERY_ROLES = {Role.SUPERVISOR}
ACTION_TEST_ROLES = {Role.SUPERVISOR, Role.CONFIGURATOR}


def deliveries_visible_to(*, user: object) -> QuerySet[Delivery]:
    return Delivery.objects.for_user(user, roles=DELIVERY_ROLES)


def deliveries_filter(
    deliveries: QuerySet[Delivery],
    *,
    channel: str = "",
    state: str = "",
    protocol: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Delivery]:
    """The Central's filters; the period is whole local days, end included."""
    if channel:
        deliveries = deliveries.filter(channel=channel)
    if state:
        deliveries = deliveries.filter(state=state)
    if protocol:
        deliveries = deliveries.filter(protocol=protocol.strip())
    if start:
        deliveries = deliveries.filter(created_at__gte=_local_midnight(start))
    if end:
        deliveries = deliveries.filter(created_at__lt=_local_midnight(end + timedelta(days=1)))
    return deliveries.order_by("-created_at", "-id")


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def operators_delivering(*, user: object) -> QuerySet[Operator]:
    """The operators whose deliveries this person follows."""
    return Operator.objects.for_user(user, roles=DELIVERY_ROLES)


def operators_testing_actions(*, user: object) -> QuerySet[Operator]:
    return Operator.objects.for_user(user, roles=ACTION_TEST_ROLES)


def actions_testable_by(*, user: object) -> QuerySet[StatusAction]:
    return StatusAction.objects.for_user(user, roles=ACTION_TEST_ROLES).select_related(
        "status__occurrence_type"
    )


def occurrence_deliveries(*, user: object, protocol: str) -> tuple[object, list[Delivery]]:
    """The messages sent about one occurrence, for whoever sees the occurrence (attendants
    included): its deliveries in the order they were made. Raises ``DoesNotExist`` for an
    occurrence the person does not see."""
    actors = actors_for_user(user=user)
    occurrence = occurrence_by_protocol(occurrences_visible_to(actors=actors), protocol)
    deliveries = list(Delivery.objects.filter(occurrence_id=occurrence.pk).order_by("pk"))
    return occurrence, deliveries
