"""In-memory testing: ``async with connect(agent) as client:`` — no sockets, real protocol.

The agent's app runs in-process behind ``httpx.ASGITransport``; the client signs, the agent
verifies, the answers are signed and checked, exactly as over a network.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from woa_protocol import SigningKey

from .agent import Agent
from .client import AgentClient

__all__ = ["connect"]


@contextlib.asynccontextmanager
async def connect(
    agent: Agent,
    *,
    key: SigningKey | None = None,
    url: str | None = None,
    allow_unsigned: bool = False,
    timeout: float = 30.0,
) -> AsyncIterator[AgentClient]:
    """Serve ``agent`` in memory and yield a client whose calls go to it by default.

    ``key`` is the caller's key (a fresh one by default); ``key=None`` with
    ``allow_unsigned``-style agents is expressed by passing an agent policy instead.
    """
    base = url or f"http://{agent.did[-12:].lower()}.agent.test/"
    app = agent.app(base)
    async with app.router.lifespan_context(app):
        client = AgentClient(
            key or SigningKey.generate(),
            transport=httpx.ASGITransport(app=app),
            allow_unsigned=allow_unsigned,
            timeout=timeout,
        )
        try:
            client.default_agent = await client.agent(base)
            yield client
        finally:
            await client.aclose()
