"""DNS-SD on the loopback interface: an agent advertises itself; a registry is found.

Both sides bind to 127.0.0.1, so the multicast stays on ``lo`` (see the registry's mDNS
tests for why that works on Linux).
"""

from __future__ import annotations

import pytest

from woa_agents.mdns import AGENT_SERVICE_TYPE, find_registry
from woa_protocol import SigningKey

from .conftest import make_agent

LOOPBACK = ["127.0.0.1"]


@pytest.mark.req("AGT-073")
async def test_agent_advertises_itself_on_loopback() -> None:
    from woa_registry.mdns import discover

    agent = make_agent(mdns=True)
    async with agent.running() as running:
        found = await discover(
            timeout=8, interfaces=LOOPBACK, types=(AGENT_SERVICE_TYPE,), stop_when=1
        )
        mine = [s for s in found if s.properties.get("did") == agent.did]
        assert len(mine) == 1
        assert mine[0].properties["url"] == running.url
        assert mine[0].properties["path"] == "/.well-known/agent-card.json"
        assert mine[0].addresses == ("127.0.0.1",)


@pytest.mark.req("AGT-070")
async def test_find_registry_over_mdns() -> None:
    from woa_registry.mdns import RegistryAdvertiser

    did = SigningKey.generate().did
    advertiser = RegistryAdvertiser(did=did, version="1", host="127.0.0.1", port=18471)
    await advertiser.start()
    try:
        found = await find_registry(timeout=8, interfaces=LOOPBACK, did=did)
    finally:
        await advertiser.close()
    assert found is not None
    assert found.url == "http://127.0.0.1:18471"
    assert found.did == did
