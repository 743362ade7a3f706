"""LAN discovery over DNS-SD/mDNS with ``zeroconf``: advertise a registry, browse for services.

The registry advertises :data:`REGISTRY_SERVICE_TYPE` with TXT ``path``, ``did`` and
``version``. :func:`discover` browses for registries and for A2A agents
(:data:`AGENT_SERVICE_TYPE`). Both take the interfaces to use: by default the advertiser
uses the address the server listens on, so a registry on 127.0.0.1 announces itself on
loopback only and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

__all__ = [
    "AGENT_SERVICE_TYPE",
    "REGISTRY_SERVICE_TYPE",
    "DiscoveredService",
    "RegistryAdvertiser",
    "discover",
    "interfaces_for_host",
]

REGISTRY_SERVICE_TYPE = "_woa-registry._tcp.local."
"""DNS-SD service type of a Web of Agents registry (spec REG-080)."""
AGENT_SERVICE_TYPE = "_a2a._tcp.local."
"""DNS-SD service type of an A2A agent."""

Interfaces = list[str] | InterfaceChoice


def interfaces_for_host(host: str) -> Interfaces:
    """Interfaces matching a listening address: all for a wildcard, else that address."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a comparison, not a bind
        return InterfaceChoice.All
    try:
        ipaddress.ip_address(host)
    except ValueError:
        host = socket.gethostbyname(host)
    return [host]


def _addresses(host: str) -> list[bytes]:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104
        found = {
            str(info[4][0])
            for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
            if not str(info[4][0]).startswith("127.")
        }
        return [socket.inet_aton(a) for a in sorted(found)] or [socket.inet_aton("127.0.0.1")]
    address = ipaddress.ip_address(socket.gethostbyname(host))
    return [address.packed]


class RegistryAdvertiser:
    """Announces one registry instance until closed."""

    def __init__(
        self,
        *,
        did: str,
        version: str,
        host: str,
        port: int,
        path: str = "/v1",
        interfaces: list[str] | None = None,
        instance: str | None = None,
    ) -> None:
        self.did = did
        self.port = port
        self.host = host
        self._interfaces: Interfaces = interfaces or interfaces_for_host(host)
        suffix = did.rsplit(":", 1)[-1][-12:]
        self.instance = instance or f"woa-registry-{suffix}-{port}"
        self.info = AsyncServiceInfo(
            REGISTRY_SERVICE_TYPE,
            f"{self.instance}.{REGISTRY_SERVICE_TYPE}",
            addresses=_addresses(host),
            port=port,
            properties={"path": path, "did": did, "version": version},
            server=f"{self.instance}.local.",
        )
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Register the service (probing for a unique name first)."""
        self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.V4Only)
        await self._zeroconf.async_register_service(self.info, allow_name_change=True)

    async def close(self) -> None:
        """Send goodbye packets and stop."""
        if self._zeroconf is None:
            return
        try:
            await self._zeroconf.async_unregister_service(self.info)
        finally:
            await self._zeroconf.async_close()
            self._zeroconf = None


@dataclass(frozen=True)
class DiscoveredService:
    """A service seen on the LAN."""

    kind: str
    """``registry`` or ``agent``."""
    name: str
    addresses: tuple[str, ...]
    port: int
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str | None:
        """``http://address:port<path>`` for the first address, when there is one."""
        if not self.addresses:
            return None
        return f"http://{self.addresses[0]}:{self.port}{self.properties.get('path', '')}"


def _decode(props: dict[bytes, bytes | None]) -> dict[str, str]:
    return {
        k.decode("utf-8", "replace"): (v or b"").decode("utf-8", "replace")
        for k, v in props.items()
    }


async def discover(
    timeout: float = 3.0,
    *,
    interfaces: list[str] | None = None,
    types: tuple[str, ...] = (REGISTRY_SERVICE_TYPE, AGENT_SERVICE_TYPE),
    stop_when: int | None = None,
) -> list[DiscoveredService]:
    """Browse for ``types`` for at most ``timeout`` seconds; resolve and return what was seen.

    ``stop_when``: return as soon as that many services were resolved.
    """
    azc = AsyncZeroconf(interfaces=interfaces or InterfaceChoice.All, ip_version=IPVersion.V4Only)
    seen: dict[str, str] = {}
    changed = asyncio.Event()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            seen[name] = service_type
            changed.set()

    browser = AsyncServiceBrowser(azc.zeroconf, list(types), handlers=[on_change])
    results: dict[str, DiscoveredService] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            for name, service_type in list(seen.items()):
                if name in results:
                    continue
                info = AsyncServiceInfo(service_type, name)
                remaining = max(0.1, deadline - loop.time())
                if await info.async_request(azc.zeroconf, int(min(remaining, 3.0) * 1000)):
                    results[name] = DiscoveredService(
                        kind="registry" if service_type == REGISTRY_SERVICE_TYPE else "agent",
                        name=name,
                        addresses=tuple(info.parsed_addresses()),
                        port=info.port or 0,
                        properties=_decode(info.properties),
                    )
            if stop_when is not None and len(results) >= stop_when:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                break
    finally:
        await browser.async_cancel()
        await azc.async_close()
    return sorted(results.values(), key=lambda s: (s.kind, s.name))
