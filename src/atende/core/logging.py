"""Keeps personal data and secrets out of the logs (LGPD): CPFs, CNPJs, e-mail addresses
and phone numbers are masked in every record before any handler writes it, and so are the
one-time tokens of password-reset links. Gunicorn's access log goes through the same
filter (``atende.core.gunicorn``)."""

import logging
import re

# A reset link is /senha/<user>/<token>/ (the panel's and the portal's): both parts go.
_RESET_LINK = re.compile(r"(/senha/)[^/\s?#\"]+/[^/\s?#\"]+")

_PATTERNS = [
    # CNPJ before CPF: a formatted CNPJ contains something CPF-shaped.
    re.compile(r"\b\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}\b"),
    re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"),
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"\+?\b55\s?\(?\d{2}\)?\s?9?\d{4}-?\d{4}\b"),
]
MASK = "[redacted]"


def redact(text: str) -> str:
    text = _RESET_LINK.sub(rf"\g<1>{MASK}", text)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
