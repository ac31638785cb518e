"""Who the client is: its address as told by trusted proxies, and the key it is rate-limited by.

``X-Forwarded-For`` is only believed when the connection comes from a proxy on the allow-list
(``ADMISSIONS_WEB_TRUSTED_PROXIES``). Every line of the header counts, in order, and the chain
is read from the right: each trusted proxy appended the address it was talking to, so the
client is the rightmost hop that is not one of ours. Anything left of it was written by the
client and is ignored. IPv6 clients are limited by their /64, which one subscriber usually
holds whole (rotating addresses inside it must not buy new limits).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = "127.0.0.0/8,::1"  # the proxy trusted when only ADMISSIONS_WEB_TRUST_PROXY is on
IPV6_BUCKET_PREFIX = 64


@functools.lru_cache(maxsize=16)
def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks; ValueError names the one that is wrong."""
    networks: list[Network] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {part!r}") from None
    return tuple(networks)


def parse_ip(value: str | None) -> IPAddress | None:
    """The address in one hop (``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``), or None."""
    if not value:
        return None
    text = value.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def forwarded_hops(lines: Iterable[str]) -> list[str]:
    """All hops of every ``X-Forwarded-For`` line, left to right."""
    return [hop.strip() for line in lines for hop in line.split(",") if hop.strip()]


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[Network, ...]
) -> str | None:
    """The client's address: the rightmost untrusted hop, when ``peer`` is a trusted proxy.

    A connection from anywhere else is its own client, whatever headers it sends.
    """
    peer_ip = parse_ip(peer)
    if peer_ip is None or not _trusted(peer_ip, trusted):
        return peer
    client = str(peer_ip)
    for hop in reversed(forwarded_hops(forwarded_for)):
        ip = parse_ip(hop)
        if ip is None:  # not written by one of our proxies: stop at the last one that was
            return client
        client = str(ip)
        if not _trusted(ip, trusted):
            return client
    return client  # every hop is one of ours: the leftmost is as far as we can see


def is_trusted_peer(peer: str | None, trusted: tuple[Network, ...]) -> bool:
    """True when the connection itself comes from a proxy on the allow-list."""
    ip = parse_ip(peer)
    return ip is not None and _trusted(ip, trusted)


def bucket(address: str | None) -> str:
    """The rate-limit key of a client address: IPv4 as it is, IPv6 by its /64."""
    ip = parse_ip(address)
    if ip is None:
        return (address or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((ip, IPV6_BUCKET_PREFIX), strict=False)
        return str(network)
    return str(ip)
