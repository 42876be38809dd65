from django.db.models import QuerySet

from atende.tenancy.models import Membership, Operator


def memberships_for_user(*, user: object) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, operator__is_active=True)
        .select_related("operator")
        .prefetch_related("units")
        .order_by("operator__name")
    )


def operators_for_user(*, user: object) -> QuerySet[Operator]:
    return Operator.objects.for_user(user).filter(is_active=True)


def time_zone_for_user(*, user: object) -> str | None:
    """The time zone of the operators the person works for, when they share one (the
    screens show times in it); None when they work for none, or for operators in
    different zones (then the platform's default)."""
    zones = set(
        Membership.objects.filter(user=user, is_active=True, operator__is_active=True)
        .values_list("operator__time_zone", flat=True)
        .distinct()
    )
    return zones.pop() if len(zones) == 1 else None
