"""Writes of the tenancy domain. Each validates fully before saving, so a refused change
leaves nothing half-written."""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.core.db import PreparedRead
from atende.tenancy.models import (
    ApiToken,
    Application,
    Instance,
    Membership,
    Operator,
    Role,
    Scope,
    Unit,
)


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


def unit_update(*, unit: Unit, name: str, code: str, is_active: bool) -> Unit:
    unit.name, unit.code, unit.is_active = name.strip(), code.strip(), is_active
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


# --- API tokens ------------------------------------------------------------------------

TOKEN_PREFIX = "atd"  # noqa: S105 - the visible prefix of every token, not a secret


def api_token_create(
    *, application: Application, name: str, scopes: Iterable[str], created_by: object = None
) -> tuple[ApiToken, str]:
    """A new token for ``application``; the plain token is returned once and never stored."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Scope.values]
    if not scopes or unknown:
        raise ValidationError(
            {"scopes": _("Choose one or more of: %(s)s") % {"s": ", ".join(Scope.values)}}
        )
    prefix = secrets.token_hex(6)
    plain = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        application=application,
        name=name.strip(),
        prefix=prefix,
        key_hash=api_token_hash(plain),
        scopes=scopes,
        created_by=created_by,
    )
    token.full_clean()
    token.save()
    return token, plain


def api_token_hash(plain: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(plain.encode()).hexdigest()


# Read on every API request, with its application and operator (the prefix is unique).
_token_by_prefix = PreparedRead(
    lambda prefix: ApiToken.objects.select_related("application__operator").filter(
        prefix=prefix, revoked_at__isnull=True
    ),
    "\x00prefix",
)


def api_token_authenticate(plain: str) -> ApiToken | None:
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = next(iter(_token_by_prefix(parts[1])), None)
    if token is None or not hmac.compare_digest(token.key_hash, api_token_hash(plain)):
        return None
    application = token.application
    if not application.is_active or not application.operator.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


TOKEN_TOUCH_EVERY = timedelta(minutes=5)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
    return token
