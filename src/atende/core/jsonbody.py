"""Reading JSON that someone outside sent: the API's bodies and the portal's push
subscription. What Python cannot parse (nesting deep enough to exhaust its stack) or what
the database cannot store (a NUL character, which PostgreSQL's ``jsonb`` refuses) is a
clear refusal here, before any of it reaches a service."""

import json

from django.utils.translation import gettext as _


class JsonRefused(ValueError):
    """The body is not JSON that Atende accepts; the message says why, for the sender."""


def json_parse(raw: bytes | str) -> object:
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JsonRefused(_("The JSON is nested too deeply.")) from None
    except (ValueError, UnicodeDecodeError):
        raise JsonRefused(_("The body is not valid JSON.")) from None
    if _holds_nul(value):
        raise JsonRefused(_("The JSON holds a NUL character (\\u0000), which is not accepted."))
    return value


def _holds_nul(value: object) -> bool:
    # Iterative: the value may be nested almost as deep as the parser allowed.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
