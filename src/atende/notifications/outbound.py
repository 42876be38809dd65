"""Every HTTP request Atende makes to an address a configurator or a beneficiary typed
(hooks, gateways, push endpoints, an operator's management system) goes through
``outbound_request``.

It resolves the host once, refuses private, loopback, link-local, shared, reserved and cloud
metadata addresses unless the platform administrator allowed their network
(``ATENDE_OUTBOUND_ALLOW_NETWORKS``), then connects to the address it checked — not to a
second resolution a DNS rebinding could change — with TLS still verified against the host
name. Redirects are never followed.

A receiver cannot hold a send: each has one deadline for everything (connecting, the TLS
handshake, writing, waiting and reading, ``DELIVERY_SEND_SECONDS``) that every socket
operation is bounded by, however slowly the other side trickles its bytes, and no more
than ``RESPONSE_CAP`` bytes of an answer are read."""

import contextvars
import ipaddress
import socket
import time
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# What a provider answers is kept for the attempt's log; more than this is never read.
RESPONSE_CAP = 64 * 1024


class OutboundRefused(Exception):
    """The address may not be reached; retrying cannot help."""


def url_check(url: str, *, resolve: bool = True) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a forbidden address.
    Without ``resolve`` only what the URL itself says is checked (a literal address, a
    local name); the send checks again after resolving."""
    if resolve:
        _resolve(url)
        return
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise OutboundRefused(_("Use an http:// or https:// address."))
    host = parts.hostname.rstrip(".").lower()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if (
        host == "localhost"
        or host.endswith((".localhost", ".internal", ".local"))
        or (literal is not None and not _allowed(literal))
    ):
        raise OutboundRefused(
            _("The address %(host)s points to an internal network and may not be used.")
            % {"host": parts.hostname}
        )


def outbound_post(
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.Response:
    """POST and return the answer, its body cut at ``RESPONSE_CAP``. Raises an
    ``httpx.TimeoutException`` once ``DELIVERY_SEND_SECONDS`` have passed, whatever the
    receiver is doing."""
    return outbound_request("POST", url, content=content, headers=headers, timeout=timeout)


def outbound_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes = b"",
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    seconds: float | None = None,
) -> httpx.Response:
    """Any request, under the same rules; ``seconds`` bounds the whole of it (by default
    ``DELIVERY_SEND_SECONDS``)."""
    parts, address = _resolve(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    if parts.port:
        host = f"{host}:{parts.port}"
    pinned = urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))
    headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    seconds = settings.DELIVERY_SEND_SECONDS if seconds is None else seconds
    deadline = _deadline.set(time.monotonic() + seconds)
    try:
        with _client().stream(
            method,
            pinned,
            content=content or None,
            headers=headers,
            timeout=timeout,
            extensions=extensions,
        ) as response:
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if len(body) >= RESPONSE_CAP:
                    break
    finally:
        _deadline.reset(deadline)
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=bytes(body[:RESPONSE_CAP]),
        request=response.request,
    )


# When the send under way must be over (a monotonic time), for the sockets below it.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "outbound_deadline", default=None
)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """A socket operation's timeout, cut to what is left of the send's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired(_("The receiver took longer than the send's deadline."))
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: object, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream)

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.NetworkStream:
        stream = super().connect_tcp(
            host, port, _bounded(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose sockets obey the send's deadline.
    httpx does not take a network backend, so the pool it built is replaced by the same
    pool with ours (the one place that reaches into httpx's ``_pool``)."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits()  # httpx's defaults, as the pool it built had them
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


@cache
def _client() -> httpx.Client:
    return httpx.Client(follow_redirects=False, trust_env=False, transport=_DeadlineTransport())


def _resolve(url: str) -> tuple:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise OutboundRefused(_("Use an http:// or https:// address."))
    if parts.username or parts.password:
        raise OutboundRefused(_("Do not put a user or password in the address."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise OutboundRefused(
            _("The host %(host)s was not found.") % {"host": parts.hostname}
        ) from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not _allowed(address):
            raise OutboundRefused(
                _("The address %(host)s points to an internal network and may not be used.")
                % {"host": parts.hostname}
            )
    return parts, addresses[0]


# IPv6 ranges whose last 32 bits are an IPv4 address that the packets end up at (or that a
# host may treat so): IPv4-compatible, IPv4-mapped, IPv4-translated, and NAT64's well-known
# and local-use prefixes. Such an address is judged by the IPv4 address inside it.
_EMBEDDING_IPV4 = [
    ipaddress.ip_network(n)
    for n in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
]


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if any(address in network for network in _allowed_networks()):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _allowed(embedded)
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _allowed_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in settings.OUTBOUND_ALLOW_NETWORKS]
