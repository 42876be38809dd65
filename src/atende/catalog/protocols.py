"""Issuing protocol numbers.

A number comes from one row of ``ProtocolSequence`` incremented with ``UPDATE … RETURNING``
inside the caller's transaction: the row lock is held only until that transaction commits,
so numbers are gapless and never repeated, and only creations that share a sequence (the
same operator, scheme and day or year) wait for each other.
"""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from atende.catalog.models import ProtocolScheme, ProtocolSequence, ProtocolType

ANS_SEQUENCE_MAX = 999_999
GSAN_SEQUENCE_MAX = 999_999_999
PREFIX_SEQUENCE_MAX = 999_999
MANUAL_MAX_LENGTH = 30


class ProtocolExhausted(ValidationError):
    """The sequence of the period has no number left; a wrong number is never issued."""


def protocol_issue(*, protocol_type: ProtocolType, at: datetime, manual_number: str = "") -> str:
    """The next protocol of ``protocol_type`` for a contact at ``at``. Call inside a
    transaction that also stores the number."""
    if protocol_type.scheme == ProtocolScheme.MANUAL:
        return protocol_manual_clean(manual_number)
    return protocol_block(protocol_type=protocol_type, at=at, count=1)[0]


def protocol_block(*, protocol_type: ProtocolType, at: datetime, count: int) -> list[str]:
    """``count`` consecutive protocols of the period of ``at``, reserved in one statement
    (the bulk generator's way; the numbers are as unique as those issued one by one)."""
    key, period, maximum, render = _sequence_of(protocol_type, at)
    last = _next_value(protocol_type.operator_id, key, period, maximum, count)
    return [render(value) for value in range(last - count + 1, last + 1)]


def _sequence_of(
    protocol_type: ProtocolType, at: datetime
) -> tuple[str, str, int, Callable[[int], str]]:
    operator = protocol_type.operator
    local = at.astimezone(ZoneInfo(operator.time_zone))
    scheme = protocol_type.scheme
    if scheme == ProtocolScheme.ANS:
        if not operator.ans_registration:
            raise ValidationError(
                _("The ANS standard needs the operator's ANS registration."), code="no_ans"
            )
        day = local.strftime("%Y%m%d")
        head = f"{operator.ans_registration}{day}"
        return "ans", day, ANS_SEQUENCE_MAX, lambda value: f"{head}{value:06d}"
    year = local.strftime("%Y")
    if scheme == ProtocolScheme.GSAN:
        digit = protocol_type.origin_digit
        return f"gsan{digit}", year, GSAN_SEQUENCE_MAX, lambda value: f"{year}{digit}{value:09d}"
    if scheme == ProtocolScheme.PREFIX_YEARLY:
        prefix = protocol_type.prefix.upper()
        return (
            f"prefix:{prefix}",
            year,
            PREFIX_SEQUENCE_MAX,
            lambda value: f"{prefix}{year}{value:06d}",
        )
    raise ValidationError(_("Manual protocols are typed, not issued."), code="manual")


def protocol_manual_clean(number: str) -> str:
    number = (number or "").strip()
    if not number or len(number) > MANUAL_MAX_LENGTH or not number.replace("-", "").isalnum():
        raise ValidationError(
            {
                "protocol": _("Type the protocol number: up to %(max)d letters, digits or hyphens.")
                % {"max": MANUAL_MAX_LENGTH}
            },
            code="manual_protocol",
        )
    return number.upper()


_INCREMENT = (
    "UPDATE catalog_protocolsequence SET last_value = last_value + %s"
    " WHERE operator_id = %s AND key = %s AND period = %s RETURNING last_value"
)


def _next_value(operator_id: int, key: str, period: str, maximum: int, count: int = 1) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_INCREMENT, [count, operator_id, key, period])
        row = cursor.fetchone()
        if row is None:
            # First number of the period: create the row (a concurrent creator may win;
            # either way exactly one row exists), then increment it like everyone else.
            ProtocolSequence.objects.bulk_create(
                [ProtocolSequence(operator_id=operator_id, key=key, period=period)],
                ignore_conflicts=True,
            )
            cursor.execute(_INCREMENT, [count, operator_id, key, period])
            row = cursor.fetchone()
    value = row[0]
    if value > maximum:
        raise ProtocolExhausted(
            _(
                "The protocol sequence of %(period)s is exhausted (%(max)d numbers issued). "
                "No number can be issued until the next period."
            )
            % {"period": period, "max": maximum},
            code="protocol_exhausted",
        )
    return value
