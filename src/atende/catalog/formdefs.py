"""Form builder field definitions: how a version's field list is checked when saved, and
how an entry is validated against the version it was made with (netbox ``CustomField``).

A field is a dict: ``{"key", "label", "type", "required", "options"}``. Entries are JSON
with the cleaned values, so they read the same whatever version the form is at now.
"""

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from validate_docbr import CPF

from atende.tenancy.validators import only_digits, phone_parse


class FieldType(models.TextChoices):
    TEXT = "text", gettext_lazy("Text")
    LONG_TEXT = "long_text", gettext_lazy("Long text")
    NUMBER = "number", gettext_lazy("Number")
    MONEY = "money", gettext_lazy("Money")
    DATE = "date", gettext_lazy("Date")
    SELECT = "select", gettext_lazy("Select")
    MULTI_SELECT = "multi_select", gettext_lazy("Multiple select")
    CHECKBOX = "checkbox", gettext_lazy("Checkbox")
    CPF = "cpf", "CPF"
    PHONE = "phone", gettext_lazy("Phone")
    EMAIL = "email", gettext_lazy("E-mail")
    FILE = "file", gettext_lazy("File")


WITH_OPTIONS = {FieldType.SELECT, FieldType.MULTI_SELECT}
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
TEXT_MAX = 500
LONG_TEXT_MAX = 10_000


def fields_clean(fields: object) -> list[dict]:
    """The field list of a new form version, normalised; refused with the field at fault."""
    if not isinstance(fields, list) or not fields:
        raise ValidationError(_("A form needs at least one field."), code="no_fields")
    cleaned, seen = [], set()
    for position, raw in enumerate(fields, start=1):
        try:
            if not isinstance(raw, dict):
                raise ValidationError(_("Field %(n)d is not valid.") % {"n": position})
            key = str(raw.get("key", "")).strip()
            label = str(raw.get("label", "")).strip()
            kind = raw.get("type")
            where = {"n": position, "label": label or key}
            if not _KEY.fullmatch(key):
                raise ValidationError(
                    _(
                        "Field %(n)d: the key must start with a letter and use only lowercase "
                        "letters, digits and _ (up to 40)."
                    )
                    % where
                )
            if key in seen:
                raise ValidationError(
                    _("Field %(n)d: the key %(key)s is repeated.") % {**where, "key": key}
                )
            if not label:
                raise ValidationError(_("Field %(n)d: give it a label.") % where)
            if kind not in FieldType.values:
                raise ValidationError(_("Field %(n)d (%(label)s): unknown type.") % where)
            options: list[str] = []
            if kind in WITH_OPTIONS:
                options = [str(o).strip() for o in raw.get("options") or [] if str(o).strip()]
                if len(options) < 1 or len(set(options)) != len(options):
                    raise ValidationError(
                        _("Field %(n)d (%(label)s): list its options, without repeats.") % where
                    )
            seen.add(key)
            cleaned.append(
                {
                    "key": key,
                    "label": label,
                    "type": kind,
                    "required": bool(raw.get("required")),
                    "options": options,
                }
            )
        except ValidationError as error:
            error.position = position  # the builder shows it on that field's row
            raise
    return cleaned


def entry_clean(fields: list[dict], data: object) -> dict:
    """Validate an entry against a version's fields; every error is keyed by field."""
    if not isinstance(data, dict):
        raise ValidationError(_("The entry must be an object of field values."))
    unknown = set(data) - {f["key"] for f in fields}
    errors: dict[str, list[str]] = {}
    for key in sorted(unknown):
        errors[key] = [_("This form has no such field.")]
    cleaned: dict[str, object] = {}
    for field in fields:
        value = data.get(field["key"])
        if _is_empty(value):
            if field["required"]:
                errors[field["key"]] = [_("Required.")]
            continue
        if "\x00" in str(value):
            errors[field["key"]] = [_("Remove the invisible NUL characters.")]
            continue
        try:
            cleaned[field["key"]] = _CLEANERS[field["type"]](value, field)
        except ValidationError as exc:
            errors[field["key"]] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value is False


def _text(value: object, field: dict) -> str:
    limit = LONG_TEXT_MAX if field["type"] == FieldType.LONG_TEXT else TEXT_MAX
    text = str(value).strip()
    if len(text) > limit:
        raise ValidationError(_("At most %(max)d characters.") % {"max": limit})
    return text


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(_("Type a number."))
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Type a number.")) from None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise ValidationError(_("Type a number."))
    return number


def _number(value: object, field: dict) -> str:
    return str(_decimal(value).normalize())


def _money(value: object, field: dict) -> str:
    amount = _decimal(value)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_("Type an amount with up to 2 decimal places, not negative."))
    return str(amount.quantize(Decimal("0.01")))


def _date(value: object, field: dict) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationError(_("Type a date as YYYY-MM-DD.")) from None


def _select(value: object, field: dict) -> str:
    if str(value) not in field["options"]:
        raise ValidationError(_("Choose one of the options."))
    return str(value)


def _multi_select(value: object, field: dict) -> list[str]:
    values = value if isinstance(value, list) else [value]
    chosen = [str(v) for v in values]
    if any(v not in field["options"] for v in chosen):
        raise ValidationError(_("Choose among the options."))
    return [o for o in field["options"] if o in chosen]


def _checkbox(value: object, field: dict) -> bool:
    if value in (True, "true", "1", "on", 1):
        return True
    raise ValidationError(_("Tick it or leave it empty."))


def _cpf(value: object, field: dict) -> str:
    digits = only_digits(str(value))
    if not CPF().validate(digits):
        raise ValidationError(_("Invalid CPF: check the 11 digits."))
    return digits


def _phone(value: object, field: dict) -> str:
    number = phone_parse(str(value))
    if number is None:
        raise ValidationError(_("Invalid phone number: include the area code (DDD)."))
    return number


def _email(value: object, field: dict) -> str:
    text = str(value).strip()
    validate_email(text)
    return text.lower()


def _file(value: object, field: dict) -> int:
    # The attachment id; the occurrence service checks it belongs to the occurrence.
    if isinstance(value, bool) or not str(value).isdigit():
        raise ValidationError(_("Attach a file to the occurrence and choose it here."))
    return int(value)


_CLEANERS: dict[str, Callable[[object, dict], object]] = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.MONEY: _money,
    FieldType.DATE: _date,
    FieldType.SELECT: _select,
    FieldType.MULTI_SELECT: _multi_select,
    FieldType.CHECKBOX: _checkbox,
    FieldType.CPF: _cpf,
    FieldType.PHONE: _phone,
    FieldType.EMAIL: _email,
    FieldType.FILE: _file,
}
