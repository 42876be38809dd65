"""Critiques (críticas) and waiting periods (carências): derived from a card's record on
the day asked, never typed.

A waiting period of N days counts from the contract start: the start day is its first
day, so the card is in carência through start + N - 1 and covered from start + N (24
hours for urgency is one day: covered from the day after the start)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from atende.beneficiaries.models import (
    Beneficiary,
    CardWaitingPeriod,
    Invoice,
    ProcedureGroup,
    RegistrySettings,
    Situation,
    WaitingPeriod,
)


class Code:
    SUSPENDED = "contrato_suspenso"
    CANCELLED = "contrato_cancelado"
    OVERDUE = "fatura_vencida"
    CARD_EXPIRED = "carteirinha_vencida"
    WAITING = "em_carencia"


@dataclass(frozen=True)
class Critique:
    code: str
    message: str
    blocks: bool


@dataclass(frozen=True)
class Waiting:
    """A card's waiting period for one procedure group."""

    group: ProcedureGroup
    days: int
    ends_on: date | None  # the last day in carência; None without a contract start

    def in_force(self, today: date) -> bool:
        return self.ends_on is not None and today <= self.ends_on

    @property
    def above_ceiling(self) -> bool:
        return self.days > self.group.ceiling_days

    def describe(self, today: date) -> str:
        if self.ends_on is None:
            return _("no contract start known")
        if self.in_force(today):
            return _("in carência until %(date)s") % {"date": date_format(self.ends_on, "d/m/Y")}
        return _("fulfilled")


def registry_settings(operator_id: int) -> RegistrySettings:
    found = RegistrySettings.objects.filter(operator_id=operator_id).first()
    return found or RegistrySettings(operator_id=operator_id)


def waiting_periods(beneficiary: Beneficiary) -> list[Waiting]:
    """Every group the card's product (or the card itself) sets a waiting period for; the
    card's own days replace its product's."""
    days = {}
    if beneficiary.product_id:
        for period in WaitingPeriod.objects.filter(
            product_id=beneficiary.product_id
        ).select_related("group"):
            days[period.group_id] = (period.group, period.days)
    for period in CardWaitingPeriod.objects.filter(beneficiary=beneficiary).select_related("group"):
        days[period.group_id] = (period.group, period.days)
    start = beneficiary.contract_start
    periods = [
        Waiting(group, n, start + timedelta(days=n - 1) if start else None)
        for group, n in days.values()
    ]
    return sorted(periods, key=lambda w: w.group.name)


def oldest_unpaid(beneficiaries: list[Beneficiary]) -> dict[int, date]:
    """Card id → due date of its oldest unpaid invoice, for those that have one."""
    rows = (
        Invoice.objects.filter(beneficiary__in=beneficiaries, paid_on__isnull=True)
        .values("beneficiary_id")
        .annotate(due=Min("due_on"))
    )
    return {row["beneficiary_id"]: row["due"] for row in rows}


def critiques(
    beneficiary: Beneficiary,
    *,
    today: date,
    settings: RegistrySettings,
    unpaid_since: date | None,
    waiting: Waiting | None = None,
) -> list[Critique]:
    found = []
    when = date_format(beneficiary.situation_date, "d/m/Y") if beneficiary.situation_date else "—"
    reason = beneficiary.situation_reason
    if beneficiary.situation == Situation.SUSPENDED:
        message = _("Contract suspended since %(date)s.") % {"date": when}
        found.append(Critique(Code.SUSPENDED, _join(message, reason), settings.suspended_blocks))
    elif beneficiary.situation == Situation.CANCELLED:
        message = _("Contract cancelled on %(date)s.") % {"date": when}
        found.append(Critique(Code.CANCELLED, _join(message, reason), settings.cancelled_blocks))
    if unpaid_since is not None:
        late = (today - unpaid_since).days
        if late > settings.overdue_days:
            message = _("Invoice overdue for %(days)d days (due on %(date)s).") % {
                "days": late,
                "date": date_format(unpaid_since, "d/m/Y"),
            }
            found.append(Critique(Code.OVERDUE, message, settings.overdue_blocks))
    if beneficiary.card_valid_until is not None and beneficiary.card_valid_until < today:
        message = _("Card expired on %(date)s.") % {
            "date": date_format(beneficiary.card_valid_until, "d/m/Y")
        }
        found.append(Critique(Code.CARD_EXPIRED, message, settings.card_expired_blocks))
    if waiting is not None and waiting.in_force(today):
        message = _("In carência for %(group)s until %(date)s.") % {
            "group": waiting.group.name,
            "date": date_format(waiting.ends_on, "d/m/Y"),
        }
        found.append(Critique(Code.WAITING, message, settings.waiting_blocks))
    return found


def _join(message: str, reason: str) -> str:
    return f"{message} {_('Reason')}: {reason}." if reason else message


def beneficiary_critiques(
    beneficiary: Beneficiary, *, today: date, group: ProcedureGroup | None = None
) -> list[Critique]:
    """The card's critiques today, for a request of ``group`` when one is named."""
    waiting = None
    if group is not None:
        waiting = next((w for w in waiting_periods(beneficiary) if w.group.pk == group.pk), None)
    return critiques(
        beneficiary,
        today=today,
        settings=registry_settings(beneficiary.operator_id),
        unpaid_since=oldest_unpaid([beneficiary]).get(beneficiary.pk),
        waiting=waiting,
    )


def request_check(
    beneficiary: Beneficiary, *, today: date, group: ProcedureGroup | None = None
) -> list[Critique]:
    """Refuse a request for a card with a blocking critique, with the critique's message;
    the critiques that do not block are returned for the screen to show."""
    found = beneficiary_critiques(beneficiary, today=today, group=group)
    blocking = [c for c in found if c.blocks]
    if blocking:
        raise ValidationError(" ".join(c.message for c in blocking), code=blocking[0].code)
    return found
