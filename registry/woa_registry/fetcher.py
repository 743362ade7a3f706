"""Fetching a plain A2A agent's card by URL, with SSRF protection.

The host is resolved once; every address it resolves to must be public (not private,
loopback, link-local, multicast, reserved or unspecified) unless it lies in an allowlisted
network. The request then goes to the checked address itself (``Host`` and TLS SNI keep the
name), so a second DNS answer cannot redirect it (DNS rebinding). Redirects are not
followed, the time is bounded and the body is read up to a size limit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from woa_protocol import WoaError, strict_json

from .problems import CardFetchError, UnsafeUrlError

__all__ = ["AGENT_CARD_PATH", "card_url", "check_address", "fetch_agent_card", "resolve_checked"]

AGENT_CARD_PATH = "/.well-known/agent-card.json"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def card_url(url: str) -> str:
    """Return where the agent's card lives: ``url`` itself if it names the card, else below it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrlError(f"only absolute http(s) URLs can be fetched, not {url!r}")
    if parts.username or parts.password:
        raise UnsafeUrlError("URLs with credentials are refused")
    if parts.path.endswith(AGENT_CARD_PATH):
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path.rstrip("/") + AGENT_CARD_PATH, "", "")
    )


def check_address(address: IPAddress, allowlist: list[Network]) -> None:
    """Raise :class:`UnsafeUrlError` unless ``address`` is public or allowlisted."""
    if any(address in network for network in allowlist):
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        check_address(address.ipv4_mapped, allowlist)
        return
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        raise UnsafeUrlError(f"address {address} is not public; refusing to fetch from it")


async def resolve_checked(host: str, port: int, allowlist: list[Network]) -> IPAddress:
    """Resolve ``host`` and check every address; return the first one."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except socket.gaierror as exc:
        raise CardFetchError(f"cannot resolve {host!r}: {exc.strerror}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise CardFetchError(f"{host!r} resolves to no address")
    for address in addresses:
        check_address(address, allowlist)
    return addresses[0]


async def fetch_agent_card(
    url: str,
    *,
    allowlist: list[str],
    timeout: float,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[dict[str, Any], str]:
    """Fetch and parse the agent card reachable from ``url``; return it and its URL."""
    target = card_url(url)
    parts = urlsplit(target)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    networks = [ipaddress.ip_network(n, strict=False) for n in allowlist]
    address = await resolve_checked(parts.hostname, port, networks)
    host = f"[{address}]" if address.version == 6 else str(address)
    direct = urlunsplit((parts.scheme, f"{host}:{port}", parts.path, "", ""))
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    try:
        async with (
            httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, transport=transport
            ) as client,
            client.stream(
                "GET",
                direct,
                headers={"host": parts.netloc, "accept": "application/json"},
                extensions=extensions,
            ) as response,
        ):
            if response.status_code != 200:
                raise CardFetchError(f"{target} answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise CardFetchError(f"{target}: card exceeds {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise CardFetchError(f"cannot fetch {target}: {type(exc).__name__}: {exc}") from exc
    try:
        card = strict_json.loads(b"".join(chunks))
    except WoaError as exc:
        raise CardFetchError(f"{target} did not return I-JSON: {exc.detail}") from exc
    if not isinstance(card, dict):
        raise CardFetchError(f"{target} did not return a JSON object")
    return card, target
