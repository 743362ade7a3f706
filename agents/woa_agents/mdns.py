"""DNS-SD/mDNS for agents (zeroconf): advertise ``_a2a._tcp.local.``, find a registry.

An agent advertises itself with TXT ``path`` (its card's path), ``did`` and ``url``. It
advertises on the address it listens on, so an agent bound to 127.0.0.1 stays on loopback.
:func:`find_registry` browses ``_woa-registry._tcp.local.`` (spec REG-090) and returns the
first registry it resolves; the caller then pins the DID from its TXT record (REG-091).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

__all__ = [
    "AGENT_SERVICE_TYPE",
    "REGISTRY_SERVICE_TYPE",
    "AgentAdvertiser",
    "FoundRegistry",
    "find_registry",
]

AGENT_SERVICE_TYPE = "_a2a._tcp.local."
REGISTRY_SERVICE_TYPE = "_woa-registry._tcp.local."


def _interfaces(host: str) -> list[str] | InterfaceChoice:
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - a comparison, not a bind
        return InterfaceChoice.All
    return [socket.gethostbyname(host)]


def _addresses(host: str) -> list[bytes]:
    """The addresses to announce: the bound one, or every IPv4 address for a wildcard."""
    if host not in ("0.0.0.0", "", "::"):  # noqa: S104 - a comparison, not a bind
        return [ipaddress.ip_address(socket.gethostbyname(host)).packed]
    found = {
        str(info[4][0])
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not str(info[4][0]).startswith("127.")
    }
    return [socket.inet_aton(a) for a in sorted(found)] or [socket.inet_aton("127.0.0.1")]


class AgentAdvertiser:
    """Announces one agent on DNS-SD until closed."""

    def __init__(
        self, *, name: str, did: str, host: str, port: int, card_path: str, url: str
    ) -> None:
        self._interfaces = _interfaces(host)
        addresses = _addresses(host)
        safe = "".join(c if c.isalnum() or c == "-" else "-" for c in name)[:40] or "agent"
        self.instance = f"{safe}-{did[-8:]}-{port}"
        self.info = AsyncServiceInfo(
            AGENT_SERVICE_TYPE,
            f"{self.instance}.{AGENT_SERVICE_TYPE}",
            addresses=addresses,
            port=port,
            properties={"path": card_path, "did": did, "url": url},
            server=f"{self.instance}.local.",
        )
        self._zc: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Register the service (probing for a unique name)."""
        self._zc = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.V4Only)
        await self._zc.async_register_service(self.info, allow_name_change=True)

    async def close(self) -> None:
        """Say goodbye and stop."""
        if self._zc is None:
            return
        try:
            await self._zc.async_unregister_service(self.info)
        finally:
            await self._zc.async_close()
            self._zc = None


@dataclass(frozen=True)
class FoundRegistry:
    """A registry seen on the LAN: its base URL and the DID its TXT record names."""

    url: str
    did: str | None


async def find_registry(
    timeout: float = 3.0, *, interfaces: list[str] | None = None, did: str | None = None
) -> FoundRegistry | None:
    """Browse for a registry for at most ``timeout`` seconds; return the first resolved.

    ``did``: only a registry whose TXT record names this DID.
    """
    azc = AsyncZeroconf(interfaces=interfaces or InterfaceChoice.All, ip_version=IPVersion.V4Only)
    names: asyncio.Queue[str] = asyncio.Queue()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            names.put_nowait(name)

    browser = AsyncServiceBrowser(azc.zeroconf, [REGISTRY_SERVICE_TYPE], handlers=[on_change])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while (remaining := deadline - loop.time()) > 0:
            try:
                name = await asyncio.wait_for(names.get(), remaining)
            except TimeoutError:
                return None
            info = AsyncServiceInfo(REGISTRY_SERVICE_TYPE, name)
            if not await info.async_request(azc.zeroconf, int(max(remaining, 0.1) * 1000)):
                continue
            addresses = info.parsed_addresses()
            if not addresses or not info.port:
                continue
            props = {k.decode(): (v or b"").decode() for k, v in (info.properties or {}).items()}
            if did is not None and props.get("did") != did:
                continue
            return FoundRegistry(f"http://{addresses[0]}:{info.port}", props.get("did") or None)
        return None
    finally:
        await browser.async_cancel()
        await azc.async_close()
