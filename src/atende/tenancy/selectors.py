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
