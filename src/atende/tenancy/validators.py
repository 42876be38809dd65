import re
import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from validate_docbr import CNPJ, CPF

_ANS = re.compile(r"\d{6}")
# Reverse-domain application id as the app stores publish it: br.com.mobilesaude.rannyzyzz
_BUNDLE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+", re.IGNORECASE)


def validate_ans_registration(value: str) -> None:
    if not _ANS.fullmatch(value or ""):
        raise ValidationError(
            _("The ANS registration has exactly 6 digits (e.g. 417505)."), code="ans"
        )


def only_digits(value: str) -> str:
    """A CPF, CNPJ or phone as typed (dots, dashes, slashes) reduced to its digits."""
    return re.sub(r"\D", "", value or "")


def normalize_cnpj(value: str) -> str:
    return only_digits(value)


def validate_cnpj(value: str) -> None:
    digits = normalize_cnpj(value)
    if len(digits) != 14 or not CNPJ().validate(digits):
        raise ValidationError(
            _("Invalid CNPJ: check the 14 digits and the check digits."), code="cnpj"
        )


def validate_bundle(value: str) -> None:
    if len(value or "") > 150 or not _BUNDLE.fullmatch(value or ""):
        raise ValidationError(
            _(
                "The bundle is the application's identifier in reverse-domain form, "
                "e.g. br.com.operadora.app (letters, digits, '_' and '-', parts separated by dots)."
            ),
            code="bundle",
        )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("Unknown time zone %(zone)s; use an IANA name such as America/Sao_Paulo."),
            params={"zone": value},
            code="time_zone",
        )


def phone_parse(value: str) -> str | None:
    """A phone number as typed, read as Brazilian unless it starts with +, in E.164; None
    when it is not a valid number."""
    try:
        number = phonenumbers.parse(value, "BR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def cpf_parse(value: str) -> str | None:
    """A CPF as typed, with or without punctuation, as its 11 digits; None when the check
    digits do not match."""
    digits = only_digits(value or "")
    return digits if len(digits) == 11 and CPF().validate(digits) else None


def document_display(value: str) -> str:
    """A stored CPF or CNPJ (its digits) as people read it: "529.982.247-25",
    "11.222.333/0001-81"; anything else (a card code, a document that does not check) as
    it is."""
    if value and value.isdigit():
        if len(value) == 11 and CPF().validate(value):
            return CPF().mask(value)
        if len(value) == 14 and CNPJ().validate(value):
            return CNPJ().mask(value)
    return value


def postal_code_display(value: str) -> str:
    """A stored CEP (its eight digits) as people read it, "01310-100"; anything else as
    it is."""
    if value and len(value) == 8 and value.isdigit():
        return f"{value[:5]}-{value[5:]}"
    return value


def phone_display(e164: str) -> str:
    """A stored E.164 number as people read it: national for Brazil ("(11) 98765-4321"),
    international otherwise; the value itself when it does not parse."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 55
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
