"""Issuing protocol numbers.

A number comes from one row of ``ProtocolSequence`` incremented with ``UPDATE … RETURNING``
inside the caller's transaction: the row lock is held only until that transaction commits,
so numbers are gapless and never repeated, and only creations that share a sequence (the
same operator, scheme and day or year) wait for each other.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from atende.catalog.models import ProtocolScheme, ProtocolSequence, ProtocolType
from atende.tenancy.timezones import operator_clock

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


def protocol_issue_into(*, protocol_type: ProtocolType, at: datetime, table: str, pk: int) -> str:
    """Issue the next protocol and write it into the ``protocol`` column of row ``pk`` of
    ``table``. On PostgreSQL one statement does both, so the sequence row, locked until the
    commit, waits one round trip less (with threads, a round trip can also wait for the
    interpreter lock); elsewhere, or for a period's first number, two statements."""
    quoted = connection.ops.quote_name(table)
    if connection.vendor == "postgresql":
        key, period, maximum, head, width = _sequence_of(protocol_type, at)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH n AS ({_INCREMENT}) UPDATE {quoted} SET protocol = %s || lpad("  # noqa: S608
                f"n.last_value::text, %s, '0') FROM n WHERE {quoted}.id = %s AND "
                f"n.last_value <= %s RETURNING {quoted}.protocol",
                [1, protocol_type.operator_id, key, period, head, width, pk, maximum],
            )
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        # No sequence row yet, or none left: the plain path creates it or refuses.
    protocol = protocol_issue(protocol_type=protocol_type, at=at)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quoted} SET protocol = %s WHERE id = %s", [protocol, pk])  # noqa: S608
    return protocol


def protocol_block(*, protocol_type: ProtocolType, at: datetime, count: int) -> list[str]:
    """``count`` consecutive protocols of the period of ``at``, reserved in one statement
    (the bulk generator's way; the numbers are as unique as those issued one by one)."""
    head, width, first = protocol_reserve(protocol_type=protocol_type, at=at, count=count)
    return [f"{head}{value:0{width}d}" for value in range(first, first + count)]


def protocol_reserve(
    *, protocol_type: ProtocolType, at: datetime, count: int
) -> tuple[str, int, int]:
    """Reserve ``count`` numbers of the period of ``at``: the protocols are ``head``
    followed by ``first`` … ``first + count - 1`` zero-padded to ``width`` digits."""
    key, period, maximum, head, width = _sequence_of(protocol_type, at)
    last = _next_value(protocol_type.operator_id, key, period, maximum, count)
    return head, width, last - count + 1


def _sequence_of(protocol_type: ProtocolType, at: datetime) -> tuple[str, str, int, str, int]:
    operator = protocol_type.operator
    local = operator_clock(at, operator.time_zone)
    scheme = protocol_type.scheme
    if scheme == ProtocolScheme.ANS:
        if not operator.ans_registration:
            raise ValidationError(
                _("The ANS standard needs the operator's ANS registration."), code="no_ans"
            )
        day = local.strftime("%Y%m%d")
        return "ans", day, ANS_SEQUENCE_MAX, f"{operator.ans_registration}{day}", 6
    year = local.strftime("%Y")
    if scheme == ProtocolScheme.GSAN:
        digit = protocol_type.origin_digit
        return f"gsan{digit}", year, GSAN_SEQUENCE_MAX, f"{year}{digit}", 9
    if scheme == ProtocolScheme.PREFIX_YEARLY:
        prefix = protocol_type.prefix.upper()
        return f"prefix:{prefix}", year, PREFIX_SEQUENCE_MAX, f"{prefix}{year}", 6
    raise ValidationError(_("Manual protocols are typed, not issued."), code="manual")


def protocol_period_format(protocol_type: ProtocolType) -> str:
    """How the sequence's period is written (PostgreSQL ``to_char`` pattern)."""
    return "YYYYMMDD" if protocol_type.scheme == ProtocolScheme.ANS else "YYYY"


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
