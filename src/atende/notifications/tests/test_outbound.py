"""The outbound guard: internal addresses are refused however they are written, IPv6 forms
that carry an internal IPv4 address inside them included."""

import pytest

from atende.notifications.outbound import OutboundRefused, url_check


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:0:7f00:1]",  # IPv4-translated
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of the metadata address
        "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
        "[64:ff9b:1::7f00:1]",  # NAT64, local-use prefix
        "[2002:a9fe:a9fe::1]",  # 6to4 of the metadata address
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
    ],
)
@pytest.mark.parametrize("resolve", [False, True])
def test_internal_addresses_are_refused_in_every_form(settings, host, resolve):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    with pytest.raises(OutboundRefused):
        url_check(f"https://{host}/hook", resolve=resolve)


@pytest.mark.parametrize("host", ["8.8.8.8", "[2606:4700::1111]", "[64:ff9b::808:808]"])
def test_public_addresses_pass(settings, host):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    url_check(f"https://{host}/hook", resolve=True)


def test_an_allowed_network_is_reachable_in_its_embedded_form_too(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    url_check("http://[::ffff:127.0.0.1]:8080/hook", resolve=True)
    url_check("http://[64:ff9b::7f00:1]:8080/hook", resolve=True)
