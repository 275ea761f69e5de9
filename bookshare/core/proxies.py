"""The client's address, taking X-Forwarded-For only from proxies we trust.

ACCOUNTS_TRUSTED_PROXIES lists the addresses or networks (CIDR) of the reverse proxies
in front of the site. When the peer (REMOTE_ADDR) is one of them, X-Forwarded-For is
read from the right: each trusted proxy's entry is skipped, and the first address that
is not a trusted proxy is the client. Anything a client sends further left is ignored.
A request from anyone else is judged by REMOTE_ADDR alone, whatever headers it carries.
An entry that is not an IP address where the client should be makes the request a 400
(BadForwardedFor is a SuspiciousOperation): a trusted proxy never sends one.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation

UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder address, nothing binds to it


class BadForwardedFor(SuspiciousOperation):
    """A trusted proxy passed an X-Forwarded-For entry that is not an IP address."""


@functools.cache
def _networks(spec: tuple[str, ...]):
    networks = []
    for item in spec:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"ACCOUNTS_TRUSTED_PROXIES: {item!r} is not an IP address or network"
            ) from exc
    return tuple(networks)


def trusted_networks():
    return _networks(tuple(getattr(settings, "ACCOUNTS_TRUSTED_PROXIES", ()) or ()))


def parse_ip(value: str):
    """An ipaddress object for `value`, or None. Accepts '[::1]' and IPv4-mapped IPv6."""
    value = (value or "").strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address, networks) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_ip(request) -> str:
    """The client's IP address as text (computed once per request)."""
    cached = getattr(request, "_bookshare_client_ip", None)
    if cached is not None:
        return cached
    peer = parse_ip(request.META.get("REMOTE_ADDR", ""))
    result = str(peer) if peer is not None else UNKNOWN
    networks = trusted_networks()
    if peer is not None and networks and _is_trusted(peer, networks):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",")][:64]
        for hop in reversed(hops):
            if not hop:
                continue
            address = parse_ip(hop)
            if address is None:
                raise BadForwardedFor("X-Forwarded-For entry is not an IP address")
            result = str(address)
            if not _is_trusted(address, networks):
                break
    request._bookshare_client_ip = result
    return result


def client_ip_for_axes(request) -> str:
    """AXES_CLIENT_IP_CALLABLE: the same address the site's own limits use."""
    try:
        return client_ip(request)
    except BadForwardedFor:
        return UNKNOWN
