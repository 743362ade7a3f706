"""An agent's life with a registry: register, heartbeat, re-register, deregister, mDNS.

On start the agent finds its registry (the configured URL, or the first one mDNS finds),
registers its signed card with a lease, and heartbeats well before the lease ends. A
heartbeat answered ``404`` means the registry lost the agent (a restart on a fresh store,
or a lapsed lease): the agent registers again. A registry that cannot be reached is
retried with backoff; the agent keeps serving meanwhile. A clean stop deregisters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from woa_protocol import SigningKey, WoaError

from .mdns import AgentAdvertiser, find_registry
from .registry_client import RegistryClient, RegistryError

__all__ = ["WARN_EVERY_SECONDS", "RegistryLifecycle"]

log = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 15.0
"""While the registry stays out of reach, the WARNING is repeated at most this often."""


class RegistryLifecycle:
    """Keeps one agent registered with one registry while it runs."""

    def __init__(
        self,
        key: SigningKey,
        card: Callable[[], dict[str, Any]],
        *,
        registry_url: str | None = None,
        discover: bool = False,
        mdns_interfaces: list[str] | None = None,
        registry_did: str | None = None,
        lease_seconds: int = 60,
        heartbeat_interval: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        advertiser: AgentAdvertiser | None = None,
    ) -> None:
        if registry_url is None and not discover and advertiser is None:
            raise ValueError("give a registry_url, discover=True or an advertiser")
        self.key = key
        self._card = card
        self.registry_url = registry_url
        self.discover = discover
        self.mdns_interfaces = mdns_interfaces
        self.registry_did = registry_did
        self.lease_seconds = lease_seconds
        self.heartbeat_interval = heartbeat_interval or max(lease_seconds / 3, 0.05)
        self._transport = transport
        self.advertiser = advertiser
        self.client: RegistryClient | None = None
        self.registrations = 0
        """How many times the card was (re-)registered: 1 after start, more after restarts."""
        self.registered = asyncio.Event()
        self.deregister_on_stop = True
        """Cleared by a simulated crash (``RunningAgent.kill``): stop without deregistering."""
        self._task: asyncio.Task[None] | None = None
        self._last_warning: float | None = None

    async def start(self) -> None:
        """Advertise on mDNS (if configured) and start the registration loop."""
        if self.advertiser is not None:
            await self.advertiser.start()
        if self.registry_url is None and self.discover:
            found = await find_registry(interfaces=self.mdns_interfaces, did=self.registry_did)
            if found is None:
                log.warning("no registry found on the LAN; serving without one")
            else:
                self.registry_url = found.url
                self.client = RegistryClient(
                    found.url, self.key, self._transport, registry_did=found.did
                )
        elif self.registry_url is not None:
            self.client = RegistryClient(
                self.registry_url, self.key, self._transport, registry_did=self.registry_did
            )
        if self.client is not None:
            self._task = asyncio.create_task(self._run(), name="woa-registry-lifecycle")

    async def _register(self, client: RegistryClient) -> None:
        await client.register(self._card(), self.lease_seconds)
        self.registrations += 1
        self.registered.set()
        if self._last_warning is not None:  # say as loudly that it is over
            log.warning("registered with %s after retrying", client.base_url)
            self._last_warning = None
        else:
            log.info("registered with %s", client.base_url)

    def _warn(self, message: str, *args: object) -> None:
        """Log a failure at WARNING: the first of a run, then at most every 15 s."""
        now = time.monotonic()
        if self._last_warning is None or now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning(message, *args)
        else:
            log.info(message, *args)

    async def _run(self) -> None:
        client = self.client
        assert client is not None
        backoff = 0.1
        need_register = True
        while True:
            try:
                if need_register:
                    await self._register(client)
                    need_register = False
                else:
                    await client.heartbeat(self.lease_seconds)
                backoff = 0.1
                await asyncio.sleep(self.heartbeat_interval)
            except RegistryError as exc:
                if exc.status == 404:
                    need_register = True  # the registry forgot us: register again at once
                    continue
                self._warn("the registry at %s refused this agent: %s", client.base_url, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.heartbeat_interval)
            except (httpx.HTTPError, OSError, WoaError) as exc:
                reason = getattr(exc, "detail", None) or str(exc) or "no answer"
                self._warn(
                    "cannot reach the registry at %s (%s: %s); still serving, retrying every"
                    " %.0f s at most",
                    client.base_url,
                    type(exc).__name__,
                    reason,
                    max(self.heartbeat_interval, 0.1),
                )
                need_register = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.heartbeat_interval)

    async def stop(self, *, deregister: bool = True) -> None:
        """Stop heartbeating, deregister (unless told not to), stop advertising."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.client is not None:
            if deregister and self.deregister_on_stop and self.registered.is_set():
                with contextlib.suppress(RegistryError, httpx.HTTPError, OSError, WoaError):
                    await self.client.deregister()
            await self.client.aclose()
            self.client = None
        if self.advertiser is not None:
            await self.advertiser.close()
