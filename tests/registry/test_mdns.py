"""LAN discovery for real: multicast DNS on the loopback interface of this machine.

The advertiser and the browser both bind to 127.0.0.1 (zeroconf ``interfaces``), so the
multicast packets stay on ``lo``: nothing leaves the machine. Linux delivers multicast sent
through ``lo`` to sockets that joined the group on ``lo`` even though ``lo`` lacks the
MULTICAST flag, which is what these tests rely on; they fail (not skip) if that breaks.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from woa_agents import RegistryClient
from woa_protocol import SigningKey
from woa_registry import REGISTRY_VERSION
from woa_registry.mdns import (
    AGENT_SERVICE_TYPE,
    REGISTRY_SERVICE_TYPE,
    RegistryAdvertiser,
    discover,
    interfaces_for_host,
)

from ._support import REGISTRY_KEY, LiveServer

LOOPBACK = ["127.0.0.1"]


@pytest.mark.req("REG-090")
async def test_advertise_then_discover_on_loopback() -> None:
    key = SigningKey.generate()
    advertiser = RegistryAdvertiser(did=key.did, version="9.9.9", host="127.0.0.1", port=18470)
    await advertiser.start()
    try:
        found = await discover(
            timeout=8, interfaces=LOOPBACK, types=(REGISTRY_SERVICE_TYPE,), stop_when=1
        )
    finally:
        await advertiser.close()
    mine = [s for s in found if s.properties.get("did") == key.did]
    assert len(mine) == 1
    service = mine[0]
    assert service.kind == "registry"
    assert service.properties == {"path": "/v1", "did": key.did, "version": "9.9.9"}
    assert service.addresses == ("127.0.0.1",)
    assert service.port == 18470
    assert service.url == "http://127.0.0.1:18470/v1"


@pytest.mark.req("REG-091")
async def test_discover_lists_a2a_agents_too() -> None:
    zc = AsyncZeroconf(interfaces=LOOPBACK, ip_version=IPVersion.V4Only)
    info = AsyncServiceInfo(
        AGENT_SERVICE_TYPE,
        f"test-agent-{SigningKey.generate().did[-8:]}.{AGENT_SERVICE_TYPE}",
        addresses=[socket.inet_aton("127.0.0.1")],
        port=18999,
        properties={"path": "/.well-known/agent-card.json"},
        server="test-agent.local.",
    )
    await zc.async_register_service(info)
    try:
        found = await discover(timeout=8, interfaces=LOOPBACK, stop_when=1)
    finally:
        await zc.async_unregister_service(info)
        await zc.async_close()
    agents = [s for s in found if s.name == info.name]
    assert len(agents) == 1
    assert agents[0].kind == "agent"
    assert agents[0].port == 18999


@pytest.mark.req("REG-090")
@pytest.mark.req("REG-091")
async def test_running_registry_is_discovered_and_verified(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(mdns_enabled=True)
    found = await discover(
        timeout=8, interfaces=LOOPBACK, types=(REGISTRY_SERVICE_TYPE,), stop_when=1
    )
    ours = [s for s in found if s.port == server.port]
    assert len(ours) == 1
    txt = ours[0].properties
    assert txt["did"] == REGISTRY_KEY.did
    assert txt["version"] == REGISTRY_VERSION
    # trust only after the registry's answers verify against the advertised DID
    base = f"http://{ours[0].addresses[0]}:{ours[0].port}"
    async with RegistryClient(base, None, registry_did=txt["did"]) as client:
        assert (await client.search())["agents"] == []
    server.stop()
    # goodbye packets: after shutdown the registry is no longer listed
    found = await discover(timeout=1.5, interfaces=LOOPBACK, types=(REGISTRY_SERVICE_TYPE,))
    assert [s for s in found if s.port == server.port] == []


def test_interfaces_follow_the_listening_address() -> None:
    from zeroconf import InterfaceChoice

    assert interfaces_for_host("127.0.0.1") == ["127.0.0.1"]
    assert interfaces_for_host("0.0.0.0") == InterfaceChoice.All
    assert interfaces_for_host("localhost") == ["127.0.0.1"]
