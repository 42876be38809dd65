"""Reading the registry: finding a person, and a card's whole record for its page."""

import re
from dataclasses import dataclass
from datetime import date

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from atende.beneficiaries.critiques import (
    Critique,
    critiques,
    oldest_unpaid,
    registry_settings,
    waiting_periods,
)
from atende.beneficiaries.models import Beneficiary, Contact, Invoice, Situation
from atende.beneficiaries.records import CARD, date_parse, name_fold
from atende.core.db import PreparedRead
from atende.tenancy.models import Membership, Operator, Role
from atende.tenancy.validators import cpf_parse, only_digits, phone_parse

READERS = {Role.ATTENDANT, Role.SUPERVISOR}
RESULTS_MAX = 50
_NUMBERISH = re.compile(r"[\d.\-/() +]+")


def beneficiaries_for_user(user: object) -> QuerySet[Beneficiary]:
    """The cards of the operators the person attends or supervises."""
    return Beneficiary.objects.filter(operator_id__in=reading_operators(user))


# A search's first read, compiled once (``core.db.PreparedRead``).
_reading_memberships = PreparedRead(
    lambda user_id: Membership.objects.filter(
        user_id=user_id, is_active=True, role__in=sorted(READERS)
    ).only("operator_id"),
    -102,
)


def reading_operators(user: object) -> list[int]:
    """The operators whose cards the person may read. A search names them as values: the
    planner then uses the card's own indexes, which it would not behind a subquery."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return sorted({m.operator_id for m in _reading_memberships(user.pk)})


def supervises(user: object, operator_id: int) -> bool:
    """Whether the person is an active supervisor of the operator."""
    supervised = Operator.objects.for_user(user, roles={Role.SUPERVISOR})
    return supervised.filter(pk=operator_id).exists()


@dataclass(frozen=True)
class Found:
    beneficiary: Beneficiary
    critiques: list[Critique]


def search_filter(text: str, birth_date: date | None, operators: list[int]) -> Q | None:
    """What a search box's text means: a CPF (with or without punctuation), a card, a
    phone, a birth date, or words of a name (accents and case ignored; each word must
    appear, anywhere in the name or social name). None when there is nothing to search."""
    text = (text or "").strip()
    found = Q(operator_id__in=operators)
    if text:
        digits = only_digits(text)
        if _NUMBERISH.fullmatch(text):
            try:
                day = date_parse(text) if "/" in text and len(digits) == 8 else None
            except ValueError:
                day = None
            if day is not None:
                found &= Q(birth_date=day)
            else:
                found &= Q(pk__in=_exact(operators, text, digits))
        else:
            by_name = Q()
            for word in name_fold(text).split():
                by_name &= Q(name_key__contains=word)
            if CARD.fullmatch(text) and any(c.isdigit() for c in text):
                by_name |= Q(pk__in=_exact(operators, text, ""))
            found &= by_name
    elif birth_date is None:
        return None
    if birth_date is not None:
        found &= Q(birth_date=birth_date)
    return found


def _exact(operators: list[int], text: str, digits: str) -> QuerySet:
    """The ids of the cards whose code, CPF or phone is the text, as a subquery: each
    looked up by its own index (one query with their OR would scan the registry on
    SQLite), their union read with the cards."""
    cards = Beneficiary.objects.filter(operator_id__in=operators)
    parts = [cards.filter(card__in={text.upper(), digits} - {""}).values_list("pk", flat=True)]
    if cpf_parse(digits):
        parts.append(cards.filter(cpf=digits).values_list("pk", flat=True))
    phone = phone_parse(text) if len(digits) >= 10 else None
    if phone is not None:
        parts.append(
            Contact.objects.filter(operator_id__in=operators, value=phone)
            .order_by()
            .values_list("beneficiary_id", flat=True)
        )
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def beneficiary_search(
    *,
    user: object,
    text: str = "",
    birth_date: date | None = None,
    limit: int = RESULTS_MAX,
    operator_id: int | None = None,
) -> list[Found]:
    """Up to ``limit`` cards matching, by name, with their critiques of today; of one of
    the user's operators when ``operator_id`` names it."""
    operators = reading_operators(user)
    if operator_id is not None:
        operators = [o for o in operators if o == operator_id]
    condition = search_filter(text, birth_date, operators) if operators else None
    if condition is None:
        return []
    rows = list(
        Beneficiary.objects.filter(condition)
        .annotate(unpaid_since=UNPAID_SINCE)
        .select_related("product")
        .order_by("name_key", "card")[:limit]
    )
    return with_critiques(rows)


# The due date of a card's oldest unpaid invoice, read with the card.
UNPAID_SINCE = Subquery(
    Invoice.objects.filter(beneficiary=OuterRef("pk"), paid_on__isnull=True)
    .order_by("due_on")
    .values("due_on")[:1]
)


def with_critiques(rows: list[Beneficiary]) -> list[Found]:
    """Each card with its critiques of today (the oldest unpaid invoice read with the card
    when annotated as ``unpaid_since``, else in one query for all). The operator's critique
    settings are read only for a card that may have a critique."""
    today = timezone.localdate()
    if all(hasattr(row, "unpaid_since") for row in rows):
        unpaid = {row.pk: row.unpaid_since for row in rows}
    else:
        unpaid = oldest_unpaid(rows)
    settings = {}
    found = []
    for row in rows:
        since = unpaid.get(row.pk)
        expired = row.card_valid_until is not None and row.card_valid_until < today
        if row.situation == Situation.ACTIVE and not expired and since is None:
            found.append(Found(row, []))
            continue
        if row.operator_id not in settings:
            settings[row.operator_id] = registry_settings(row.operator_id)
        found.append(
            Found(
                row,
                critiques(row, today=today, settings=settings[row.operator_id], unpaid_since=since),
            )
        )
    return found


@dataclass(frozen=True)
class Record:
    """What a card's page shows."""

    beneficiary: Beneficiary
    critiques: list[Critique]
    waiting: list
    others: list[Beneficiary]  # the person's other cards (same CPF)
    holder: Beneficiary | None
    dependents: list[Beneficiary]
    occurrences: list
    logins: list
    today: date
    unpaid_since: date | None  # the due date of the oldest unpaid invoice


def beneficiary_record(*, beneficiary: Beneficiary, occurrences_limit: int = 200) -> Record:
    from atende.occurrences.models import Occurrence
    from atende.portal.models import BeneficiaryLogin

    today = timezone.localdate()
    operator_cards = Beneficiary.objects.filter(operator_id=beneficiary.operator_id)
    others = list(
        operator_cards.filter(cpf=beneficiary.cpf)
        .exclude(pk=beneficiary.pk)
        .select_related("product")
    )
    holder = (
        operator_cards.filter(card=beneficiary.holder_card).first()
        if beneficiary.holder_card
        else None
    )
    dependents = list(operator_cards.filter(holder_card=beneficiary.card).order_by("name_key"))
    identifiers = {beneficiary.cpf, beneficiary.card, *(o.card for o in others)}
    occurrences = list(
        Occurrence.objects.filter(
            operator_id=beneficiary.operator_id, beneficiary_identifier__in=identifiers
        )
        .select_related("occurrence_type", "status")
        .order_by("-registered_at", "-id")[:occurrences_limit]
    )
    logins = list(
        BeneficiaryLogin.objects.filter(operator_id=beneficiary.operator_id).filter(
            Q(beneficiary=beneficiary) | Q(beneficiary=None, cpf=beneficiary.cpf)
        )
    )
    beneficiary.unpaid_since = oldest_unpaid([beneficiary]).get(beneficiary.pk)
    return Record(
        beneficiary=beneficiary,
        critiques=with_critiques([beneficiary])[0].critiques,
        waiting=waiting_periods(beneficiary),
        others=others,
        holder=holder,
        dependents=dependents,
        occurrences=occurrences,
        logins=logins,
        today=today,
        unpaid_since=beneficiary.unpaid_since,
    )


def card_of_identifier(*, operator_id: int, identifier: str) -> Beneficiary | None:
    """The registry's card an occurrence's beneficiary identifier names (a CPF, or a card
    code), for the occurrence's page to link; None when the registry has none."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    cards = Beneficiary.objects.filter(operator_id=operator_id)
    if len(identifier) == 11 and identifier.isdigit():
        return cards.filter(cpf=identifier).order_by("card").first()
    return cards.filter(card=identifier.upper()).first()
