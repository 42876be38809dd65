"""A card's record as the operator's systems send it, checked and put in canonical form.

The file import and the API both hand ``record_clean`` a mapping of field → value (text,
or a list for phones, e-mails and addresses) and get a ``Record`` or the problems found,
each naming its field; the file import then names the column. See
``docs/beneficiary-import.md`` for the fields and the formats they accept."""

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.beneficiaries.models import ContractKind, Segmentation, Sex, Situation
from atende.tenancy.models import BRAZILIAN_STATES
from atende.tenancy.validators import cpf_parse, only_digits, phone_parse

CARD = re.compile(r"[0-9A-Za-z.\-/]{1,30}")
UF = {code for code, _name in BRAZILIAN_STATES}


def name_fold(value: str) -> str:
    """Lower case, no accents, one space between words: "  João  da SILVA" → "joao da silva"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class AddressRecord:
    street: str
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class Record:
    card: str
    cpf: str
    name: str
    social_name: str = ""
    cns: str = ""
    birth_date: date | None = None
    sex: str = ""
    mother_name: str = ""
    holder_card: str = ""
    product_code: str = ""
    product_name: str = ""
    product_registration: str = ""
    segmentation: str = ""
    contract_number: str = ""
    contract_kind: str = ""
    company: str = ""
    contract_start: date | None = None
    card_valid_until: date | None = None
    situation: str = Situation.ACTIVE
    situation_date: date | None = None
    situation_reason: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[AddressRecord, ...] = field(default=())

    @property
    def digest(self) -> str:
        values = [getattr(self, name) for name in _FIELDS[:-1]]
        values.append([tuple(vars(a).values()) for a in self.addresses])
        return hashlib.sha1(repr(values).encode(), usedforsecurity=False).hexdigest()

    @property
    def name_key(self) -> str:
        return name_fold(f"{self.name} {self.social_name}")


_FIELDS = [f.name for f in fields(Record)]  # "addresses" last

# The columns a beneficiary row has in the registry, as Record fields.
SCALARS = [
    "cpf",
    "name",
    "social_name",
    "cns",
    "birth_date",
    "sex",
    "mother_name",
    "holder_card",
    "contract_number",
    "contract_kind",
    "company",
    "contract_start",
    "card_valid_until",
    "situation",
    "situation_date",
    "situation_reason",
]


class Problems(Exception):
    """The record's problems: a list of (field, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


_BRAZILIAN_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def date_parse(value: str) -> date | None:
    """dd/mm/aaaa or aaaa-mm-dd; None for an empty value; ValueError otherwise (a day
    that does not exist included)."""
    value = (value or "").strip()
    if not value:
        return None
    if found := _BRAZILIAN_DATE.fullmatch(value):
        day, month, year = found.groups()
    elif found := _ISO_DATE.fullmatch(value):
        year, month, day = found.groups()
    else:
        raise ValueError(value)
    return date(int(year), int(month), int(day))


class _Checker:
    def __init__(self, data: dict) -> None:
        self.data = data
        self.problems: list[tuple[str, str]] = []

    def text(self, name: str, *, limit: int, required: bool = False) -> str:
        value = self.data.get(name)
        value = "" if value is None else str(value).strip()
        if "\x00" in value:
            self.problems.append((name, _("Contains a NUL character.")))
            return ""
        if required and not value:
            self.problems.append((name, _("Required.")))
        elif len(value) > limit:
            self.problems.append((name, _("At most %(max)d characters.") % {"max": limit}))
            return ""
        return value

    def date(self, name: str) -> date | None:
        try:
            return date_parse(self.text(name, limit=10))
        except ValueError:
            self.problems.append((name, _("Not a date: use dd/mm/aaaa.")))
            return None

    def choice(self, name: str, choices: type, default: str = "") -> str:
        value = self.text(name, limit=30).lower()
        if not value:
            return default
        allowed = _allowed(choices)
        if value not in allowed:
            listed = ", ".join(v for v in choices.values if v)
            self.problems.append(
                (name, _("Unknown value; use one of: %(values)s.") % {"values": listed})
            )
            return default
        return allowed[value]

    def many(self, name: str) -> list:
        value = self.data.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split("|") if part.strip()]
        if isinstance(value, list | tuple):
            return list(value)
        self.problems.append((name, _("Expected a list.")))
        return []


@functools.cache
def _allowed(choices: type) -> dict[str, str]:
    return {str(c).lower(): str(c) for c in choices.values}


def phones_parse(values: Iterable[object]) -> tuple[list[str], list[str]]:
    """A card's phones in E.164, in the order given, each once; and a problem for each
    value that is not a phone."""
    phones, problems = [], []
    for number in values:
        parsed = phone_parse(str(number))
        if parsed is None:
            problems.append(_("Not a valid phone number: %(n)s.") % {"n": number})
        elif parsed not in phones:
            phones.append(parsed)
    return phones, problems


def emails_parse(values: Iterable[object]) -> tuple[list[str], list[str]]:
    """A card's e-mail addresses in lower case, in the order given, each once; and a
    problem for each value that is not an address."""
    emails, problems = [], []
    for value in values:
        address = str(value).strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            problems.append(_("Not a valid e-mail address."))
            continue
        if address not in emails:
            emails.append(address)
    return emails, problems


def record_clean(data: dict) -> Record:
    """A Record from the values sent, or Problems naming each wrong field."""
    check = _Checker(data)
    card = check.text("card", limit=30, required=True).upper()
    if card and not CARD.fullmatch(card):
        check.problems.append(("card", _("Letters, digits, '.', '-' and '/' only.")))
    raw_cpf = check.text("cpf", limit=14, required=True)
    cpf = cpf_parse(raw_cpf) if raw_cpf else ""
    if raw_cpf and cpf is None:
        check.problems.append(("cpf", _("Invalid CPF: check the 11 digits.")))
    cns = only_digits(check.text("cns", limit=20))
    if cns and len(cns) != 15:
        check.problems.append(("cns", _("The CNS has 15 digits.")))
    holder = check.text("holder_card", limit=30).upper()
    phones, problems = phones_parse(check.many("phones"))
    check.problems += [("phones", problem) for problem in problems]
    emails, problems = emails_parse(check.many("emails"))
    check.problems += [("emails", problem) for problem in problems]
    addresses = []
    for item in check.many("addresses"):
        if not isinstance(item, dict):
            check.problems.append(("addresses", _("Each address is an object.")))
            continue
        addresses.append(_address(check, item))
    record = Record(
        card=card,
        cpf=cpf or "",
        name=check.text("name", limit=200, required=True),
        social_name=check.text("social_name", limit=200),
        cns=cns,
        birth_date=check.date("birth_date"),
        sex=check.choice("sex", Sex).upper(),
        mother_name=check.text("mother_name", limit=200),
        holder_card="" if holder == card else holder,
        product_code=check.text("product_code", limit=30),
        product_name=check.text("product_name", limit=200),
        product_registration=only_digits(check.text("product_registration", limit=20)),
        segmentation=check.choice("segmentation", Segmentation),
        contract_number=check.text("contract_number", limit=30),
        contract_kind=check.choice("contract_kind", ContractKind),
        company=check.text("company", limit=200),
        contract_start=check.date("contract_start"),
        card_valid_until=check.date("card_valid_until"),
        situation=check.choice("situation", Situation, default=Situation.ACTIVE),
        situation_date=check.date("situation_date"),
        situation_reason=check.text("situation_reason", limit=200),
        phones=tuple(phones),
        emails=tuple(emails),
        addresses=tuple(addresses),
    )
    if record.birth_date and record.birth_date > timezone.localdate():
        check.problems.append(("birth_date", _("The birth date is in the future.")))
    if record.product_name and not record.product_code:
        check.problems.append(("product_code", _("A product needs its code.")))
    if record.situation != Situation.ACTIVE and not record.situation_date:
        check.problems.append(("situation_date", _("A suspension or cancellation needs its date.")))
    if check.problems:
        raise Problems(check.problems)
    return record


def _address(check: _Checker, item: dict) -> AddressRecord:
    sub = _Checker(item)
    state = sub.text("state", limit=2).upper()
    if state and state not in UF:
        sub.problems.append(("state", _("Unknown state (UF).")))
    postal = only_digits(sub.text("postal_code", limit=9))
    if postal and len(postal) != 8:
        sub.problems.append(("postal_code", _("The CEP has 8 digits.")))
    address = AddressRecord(
        street=sub.text("street", limit=200, required=True),
        number=sub.text("number", limit=20),
        complement=sub.text("complement", limit=100),
        district=sub.text("district", limit=100),
        city=sub.text("city", limit=100),
        state=state,
        postal_code=postal,
    )
    check.problems += [(f"addresses.{name}", reason) for name, reason in sub.problems]
    return address
