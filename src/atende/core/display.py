"""Stored values (JSON: text, numbers, yes/no, ISO dates, lists) as a person reads them."""

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _


def stored_shown(value: object, *, is_date: bool = False, empty: str = "") -> str:
    """Yes/no in words, an ISO date as dd/mm/aaaa, a list joined by commas."""
    if value is None or value == "" or value == []:
        return empty
    if isinstance(value, list):
        return ", ".join(stored_shown(item, is_date=is_date) for item in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if is_date:
        try:
            return date_format(date.fromisoformat(str(value)), "d/m/Y")
        except ValueError:
            return str(value)
    return str(value)
