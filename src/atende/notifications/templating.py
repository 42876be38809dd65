"""Configurator templates: text with ``{{ placeholder }}`` and nothing else.

A template sees only the values named in ``PLACEHOLDERS``: no attribute access, no filters,
no tags, no code, so a configurator cannot reach anything the message does not carry.
``template_check`` refuses a broken template when it is saved, naming its line;
``template_render`` fills one in."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PLACEHOLDERS = {
    "protocolo": gettext_lazy("protocol number"),
    "tipo": gettext_lazy("occurrence type"),
    "assunto": gettext_lazy("subject"),
    "status": gettext_lazy("status as the beneficiary sees it (external description)"),
    "beneficiario": gettext_lazy("beneficiary's name"),
    "prazo_sla": gettext_lazy("SLA due date"),
    "link_portal": gettext_lazy("link to the occurrence in the portal"),
}

_TAG = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"\s*([a-z_]+)\s*\Z")


def template_check(text: str) -> None:
    """Raise ``ValidationError`` naming the first bad line; a valid template passes."""
    for number, line in enumerate(text.splitlines() or [""], start=1):
        rest = _TAG.sub(lambda match, line_number=number: _tag_check(match, line_number), line)
        if "{{" in rest or "}}" in rest:
            raise ValidationError(
                _("Line %(line)d: a placeholder is opened or closed without its pair.")
                % {"line": number},
                code="template",
            )
        if "{%" in rest:
            raise ValidationError(
                _("Line %(line)d: only placeholders like {{ protocolo }} are allowed.")
                % {"line": number},
                code="template",
            )


def _tag_check(match: re.Match, line: int) -> str:
    name = _NAME.match(match.group(1))
    if name is None or name.group(1) not in PLACEHOLDERS:
        raise ValidationError(
            _("Line %(line)d: unknown placeholder {{%(name)s}}. Use one of: %(names)s.")
            % {"line": line, "name": match.group(1), "names": ", ".join(PLACEHOLDERS)},
            code="template",
        )
    return ""


def template_render(text: str, values: dict[str, str]) -> str:
    """Fill a checked template; a value missing from ``values`` renders empty."""
    return _TAG.sub(lambda match: str(values.get(match.group(1).strip(), "")), text)
