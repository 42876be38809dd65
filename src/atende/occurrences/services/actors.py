"""Who changes an occurrence (a person of the operator or an application) and the errors
they meet."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

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
        return ""

    def sees(self, occurrence: Occurrence) -> bool:
        if occurrence.operator_id != self.operator_id:
            return False
        # Members bound to units see their units' queues and the occurrences of no unit.
        return (
            not self.unit_ids or occurrence.unit_id is None or occurrence.unit_id in self.unit_ids
        )


WORKING_ROLES = {Role.ATTENDANT, Role.SUPERVISOR}


def actor_for_user(*, user: object, operator: Operator | int) -> Actor:
    operator_id = operator if isinstance(operator, int) else operator.pk
    membership = (
        Membership.objects.filter(
            user=user, operator_id=operator_id, is_active=True, operator__is_active=True
        )
        .prefetch_related("units")
        .first()
    )
    if membership is None or membership.role not in WORKING_ROLES or not user.is_active:
        raise NotAllowed(_("Only the operator's attendants and supervisors work occurrences."))
    return Actor(
        operator_id=operator_id,
        role=membership.role,
        user=user,
        unit_ids=frozenset(u.pk for u in membership.units.all()),
    )


def actor_for_application(*, application: Application) -> Actor:
    return Actor(operator_id=application.operator_id, role="system", application=application)
