"""The approximate place of a client: the network its address belongs to, never the address.

Consent events keep it (as proof of where a decision came from) and sessions show it (as
the place a sign-in came from): an IPv4 /24 or an IPv6 /48, with an IPv4 address written
as IPv6 (``::ffff:203.0.113.9``) read as the IPv4 address it is.
"""

from __future__ import annotations

import ipaddress

IPV4_PREFIX, IPV6_PREFIX = 24, 48


def approximate_network(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The /24 or /48 of ``address``; None for what is not an IP address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    prefix = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return ipaddress.ip_network(f"{parsed}/{prefix}", strict=False)
