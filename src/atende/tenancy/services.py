"""Writes of the tenancy domain. Each validates fully before saving, so a refused change
leaves nothing half-written."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from atende.tenancy.models import Application, Instance, Membership, Operator, Role, Unit


def operator_create(
    *,
    name: str,
    ans_registration: str = "",
    cnpj: str = "",
    time_zone: str = "America/Sao_Paulo",
    state: str = "",
    municipality: str = "",
) -> Operator:
    operator = Operator(
        name=name.strip(),
        ans_registration=ans_registration.strip(),
        cnpj=cnpj,
        time_zone=time_zone,
        state=state,
        municipality=municipality,
    )
    operator.full_clean()
    operator.save()
    return operator


def application_create(
    *, operator: Operator, name: str, bundle: str, instance: Instance
) -> Application:
    application = Application(operator=operator, name=name, bundle=bundle, instance=instance)
    application.full_clean()
    application.save()
    return application


def unit_create(*, operator: Operator, name: str, code: str = "") -> Unit:
    unit = Unit(operator=operator, name=name.strip(), code=code.strip())
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def membership_grant(
    *, user: object, operator: Operator, role: Role, units: Iterable[Unit] = ()
) -> Membership:
    units = list(units)
    membership_check_units(operator=operator, units=units)
    membership = Membership(user=user, operator=operator, role=role)
    membership.full_clean()
    membership.save()
    membership.units.set(units)
    return membership


def membership_check_units(*, operator: Operator, units: Iterable[Unit]) -> None:
    foreign = [unit.name for unit in units if unit.operator_id != operator.pk]
    if foreign:
        raise ValidationError(
            {
                "units": _("Units of another operator cannot be assigned: %(units)s")
                % {"units": ", ".join(foreign)}
            }
        )
