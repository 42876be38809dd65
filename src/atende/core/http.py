import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address. Behind the trusted proxies (``ATENDE_BEHIND_PROXY``), the
    one the outermost of them saw: each proxy appends the address it was reached from to
    ``X-Forwarded-For``, so of the ``ATENDE_PROXY_COUNT`` rightmost entries the first is
    the client. Whatever stands to its left the client wrote itself, and is ignored."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.BEHIND_PROXY:
        return remote
    entries = [e.strip() for e in request.headers.get("X-Forwarded-For", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < settings.PROXY_COUNT:
        return remote
    candidate = entries[-settings.PROXY_COUNT]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
