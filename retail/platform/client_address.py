"""The shopper's IP address as a request shows it: ``X-Forwarded-For`` is believed only as far
as our own proxies (``TRUSTED_PROXIES``) wrote it, and a caller's own address is never taken
for the shopper's."""

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address:
    """ValueError unless ``text`` is one IPv4 or IPv6 address without a zone (``%eth0``)."""
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            raise ValueError(f"{text!r} names a link-local zone")
        return address.ipv4_mapped or address  # ::ffff:203.0.113.9 is 203.0.113.9
    return address


def ip_normalize(text: str) -> str:
    """The address in its canonical spelling; ValueError if ``text`` is not an IP address."""
    return str(_address(text))


def forwarded_client_ip(
    remote_addr: str, forwarded_for: str, trusted_proxies: Iterable[str]
) -> str:
    """The client behind our proxies, or "" when the request does not tell.

    Only when ``remote_addr`` is a trusted proxy is ``forwarded_for`` read, from the right (each
    hop appends the address it was called from), skipping trusted proxies: the first untrusted
    address is the client. Everything left of it was written by the client and may be forged.
    An unreadable hop, or a chain of trusted proxies only, tells nothing.
    """
    networks = [ipaddress.ip_network(proxy) for proxy in trusted_proxies]

    def trusted(address: Address) -> bool:
        return any(address in network for network in networks)

    try:
        if not remote_addr or not trusted(_address(remote_addr)):
            return ""
        for hop in reversed(forwarded_for.split(",")):
            address = _address(hop)
            if not trusted(address):
                return str(address)
    except ValueError:
        return ""
    return ""


def request_client_ip(meta: Mapping[str, Any]) -> str:
    """``forwarded_client_ip`` of a request's ``META``, with the ``TRUSTED_PROXIES`` setting."""
    return forwarded_client_ip(
        meta.get("REMOTE_ADDR", ""),
        meta.get("HTTP_X_FORWARDED_FOR", ""),
        settings.TRUSTED_PROXIES,
    )
