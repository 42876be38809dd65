"""Who changes an occurrence (a person of the operator or an application) and the errors
they meet."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q, StringAgg, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from atende.core.db import PreparedRead
from atende.occurrences.models import (
    Occurrence,
)
from atende.tenancy.models import Application, Membership, Operator, Role


class Conflict(Exception):
    """Someone else changed the occurrence since it was read."""

    def __init__(self, occurrence: Occurrence) -> None:
        self.current_version = occurrence.version
        super().__init__(
            _(
                "Protocol %(protocol)s was changed by someone else in the meantime. "
                "Reload it to see its current state and try again."
            )
            % {"protocol": occurrence.protocol}
        )


class NotAllowed(PermissionDenied):
    """The actor may see the occurrence but not make this change."""


@dataclass(frozen=True)
class Actor:
    """A person of the operator (attendant or supervisor) or an application (the system)."""

    operator_id: int
    role: str
    user: object | None = None
    application: Application | None = None
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    # The operator as read in this request (its catalog version keys the catalog
    # snapshots), when the caller read it.
    operator: Operator | None = field(default=None, compare=False, repr=False)
    # The person an application writes for (the beneficiary in the portal), named on the
    # events it makes.
    speaks_for: str = ""

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR or self.is_system

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.full_name or self.user.email
        return self.speaks_for

    # Members bound to units see their units' queues and the occurrences of no unit. The
    # rule is written twice, for one row and for a query, side by side here.

    def sees(self, occurrence: Occurrence) -> bool:
        if occurrence.operator_id != self.operator_id:
            return False
        return (
            not self.unit_ids or occurrence.unit_id is None or occurrence.unit_id in self.unit_ids
        )

    def visible(self) -> Q:
        scope = Q(operator_id=self.operator_id)
        if self.unit_ids:
            scope &= Q(unit_id__in=self.unit_ids) | Q(unit__isnull=True)
        return scope


WORKING_ROLES = {Role.ATTENDANT, Role.SUPERVISOR}

# Read on every request of a person: the memberships with their operator, and their units
# aggregated into a text of ids (a prefetch would be a second query and its machinery).
_working_memberships = PreparedRead(
    lambda user_id: (
        Membership.objects.filter(
            user_id=user_id,
            is_active=True,
            operator__is_active=True,
            role__in=sorted(WORKING_ROLES),
        )
        .select_related("operator")
        .annotate(unit_list=StringAgg(Cast("units__id", CharField()), Value(",")))
    ),
    -101,
)


def actors_for_user(*, user: object) -> list[Actor]:
    """One actor per operator where the user works occurrences (one query, with units)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    memberships = _working_memberships(user.pk)
    return [
        Actor(
            operator_id=m.operator_id,
            role=m.role,
            user=user,
            unit_ids=frozenset(int(u) for u in (m.unit_list or "").split(",") if u),
            operator=m.operator,
        )
        for m in memberships
    ]


def actor_for_user(*, user: object, operator: Operator | int) -> Actor:
    operator_id = operator if isinstance(operator, int) else operator.pk
    return actor_among(actors_for_user(user=user), operator_id=operator_id)


def actor_among(actors: list[Actor], *, operator_id: int) -> Actor:
    for actor in actors:
        if actor.operator_id == operator_id:
            return actor
    raise NotAllowed(_("Only the operator's attendants and supervisors work occurrences."))


def actor_for_application(*, application: Application) -> Actor:
    operator = application.operator if Application.operator.is_cached(application) else None
    return Actor(
        operator_id=application.operator_id,
        role="system",
        application=application,
        operator=operator,
    )
