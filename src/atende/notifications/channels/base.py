"""What every channel adapter shares: its result and the two errors that tell the pipeline
whether a retry can help (hc ``transports.py``)."""

from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

RESPONSE_KEEP = 2000


@dataclass(frozen=True)
class Sent:
    status_code: int | None = None
    response: str = ""


class DeliveryError(Exception):
    permanent = False

    def __init__(self, message: str, *, status_code: int | None = None, response: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.response = response[:RESPONSE_KEEP]


class Transient(DeliveryError):
    """The provider or the network failed for now: retry later."""


class Permanent(DeliveryError):
    """Retrying cannot fix it (a refused request, an invalid number, a forbidden address)."""

    permanent = True


# Statuses a retry may fix; any other 4xx is the request's fault.
_RETRYABLE = {408, 409, 425, 429}


def http_result(response: httpx.Response) -> Sent:
    """Classify a provider's HTTP answer: 2xx is sent; 408/409/425/429 and 5xx are
    transient; a redirect (never followed) or another 4xx is permanent."""
    text = response.text[:RESPONSE_KEEP]
    code = response.status_code
    if 200 <= code < 300:
        return Sent(status_code=code, response=text)
    if code in _RETRYABLE or code >= 500:
        raise Transient(
            _("The receiver answered %(code)d.") % {"code": code}, status_code=code, response=text
        )
    if 300 <= code < 400:
        raise Permanent(
            _("The receiver answered a redirect (%(code)d), which is not followed.")
            % {"code": code},
            status_code=code,
            response=text,
        )
    raise Permanent(
        _("The receiver refused the message (%(code)d).") % {"code": code},
        status_code=code,
        response=text,
    )


def transport_error(error: Exception) -> Transient:
    if isinstance(error, httpx.TimeoutException):
        return Transient(
            _("The receiver did not answer in time (a send may take at most %(seconds)d s).")
            % {"seconds": settings.DELIVERY_SEND_SECONDS}
        )
    return Transient(
        _("Could not reach the receiver: %(error)s") % {"error": error or type(error).__name__}
    )
