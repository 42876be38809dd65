"""Every HTTP request Atende makes to an address a configurator or a beneficiary typed
(hooks, gateways, push endpoints) goes through ``outbound_post``.

It resolves the host once, refuses private, loopback, link-local, shared, reserved and cloud
metadata addresses unless the platform administrator allowed their network
(``ATENDE_OUTBOUND_ALLOW_NETWORKS``), then connects to the address it checked — not to a
second resolution a DNS rebinding could change — with TLS still verified against the host
name. Redirects are never followed."""

import ipaddress
import socket
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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
    parts, address = _resolve(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    if parts.port:
        host = f"{host}:{parts.port}"
    pinned = urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))
    headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return _client().post(
        pinned, content=content, headers=headers, timeout=timeout, extensions=extensions
    )


@cache
def _client() -> httpx.Client:
    return httpx.Client(follow_redirects=False, trust_env=False)


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
