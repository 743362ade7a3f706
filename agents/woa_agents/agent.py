"""``Agent``: declare typed skills with a decorator, get a signed, discoverable A2A agent.

    agent = Agent("echo", "Repeats what it is told.", key=SigningKey.generate())

    @agent.skill(family="classical", tags=["demo"])
    async def echo(request: EchoIn) -> EchoOut:
        return EchoOut(text=request.text)

    agent.run(port=8000, registry_url="http://127.0.0.1:8470")

The card lists each skill; the Web of Agents extension (``urn:woa:ext:agent-card:v1``)
carries the agent's DID and each skill's input/output JSON Schema, family, tags, examples
and idempotency; the card is signed (JWS over JCS) with the agent's key.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import inspect
import logging
import socket
import sys
import types
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Iterable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette

from woa_protocol import MessageSigner, ReplayPolicy, SigningKey, sign_card
from woa_protocol.headers import DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_FIELDS
from woa_protocol.keyfile import load_key
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    Modality,
    ModelFamily,
    WoaCardExtension,
    attach_extension,
)

from .card import clean_empty
from .context import Partial, Progress
from .jsonrpc import A2ARequestHandler
from .lifecycle import RegistryLifecycle
from .mdns import AgentAdvertiser
from .server import AGENT_CARD_PATH, build_app
from .signing import RequestVerifier, SignaturePolicy
from .skills import Handler, Skill
from .tasks import InMemoryTaskStore, TaskStore

__all__ = ["Agent", "RunningAgent"]

H = TypeVar("H", bound=Handler)


def _annotations(
    handler: Callable[..., Any], localns: dict[str, Any]
) -> tuple[Any | None, Any | None]:
    """The handler's input annotation (first parameter) and result annotation.

    For an async generator (``AsyncIterator[Progress | Partial | Out]``) the result is
    ``Out``: what is left once the progress and partial types are taken out (``Any`` when
    nothing is: the partial chunks are the result).
    """
    hints = getattr(handler, "__annotations__", {})
    with contextlib.suppress(NameError, TypeError):
        hints = typing.get_type_hints(handler, localns=localns)
    params = [n for n in inspect.signature(handler).parameters if n in hints]
    first = next(iter(inspect.signature(handler).parameters), None)
    in_hint = hints.get(first) if first in params else None
    ret = hints.get("return")
    if inspect.isasyncgenfunction(handler) and typing.get_origin(ret) in (
        AsyncIterator,
        AsyncGenerator,
        collections.abc.AsyncIterable,
    ):
        yielded = typing.get_args(ret)[0]
        members = typing.get_args(yielded) if typing.get_origin(yielded) in _UNIONS else ()
        kept = [m for m in members or (yielded,) if m not in (Progress, Partial)]
        ret = Any if not kept else kept[0] if len(kept) == 1 else typing.Union[tuple(kept)]  # noqa: UP007
    return in_hint, ret


_UNIONS = (typing.Union, types.UnionType)


def _union(lists: Iterable[list[str]]) -> list[str]:
    return list(dict.fromkeys(mode for modes in lists for mode in modes))


class Agent:
    """An A2A agent with typed skills, signed messaging and a registry life cycle."""

    def __init__(
        self,
        name: str,
        description: str,
        key: SigningKey | str | Path | None = None,
        registry_url: str | None = None,
        *,
        version: str = "1.0.0",
        policy: SignaturePolicy | None = None,
        store: TaskStore | None = None,
        provider: AgentProvider | None = None,
        lease_seconds: int = 60,
        heartbeat_interval: float | None = None,
        discover_registry: bool = False,
        mdns: bool = False,
        mdns_interfaces: list[str] | None = None,
        registry_did: str | None = None,
        max_body_bytes: int = 1024 * 1024,
        replay: ReplayPolicy | None = None,
        default_skill: str | None = None,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_header_fields: int = DEFAULT_MAX_HEADER_FIELDS,
    ) -> None:
        if not name or not description:
            raise ValueError("an agent needs a name and a description (A2A requires both)")
        if key is None:
            key = SigningKey.generate()
        elif not isinstance(key, SigningKey):
            key = load_key(Path(key))
        self.name = name
        self.description = description
        self.key = key
        self.registry_url = registry_url
        self.version = version
        self.policy = policy or SignaturePolicy()
        self.store = store or InMemoryTaskStore()
        self.provider = provider
        self.lease_seconds = lease_seconds
        self.heartbeat_interval = heartbeat_interval
        self.discover_registry = discover_registry
        self.mdns_interfaces = mdns_interfaces
        self.registry_did = registry_did
        self.mdns = mdns
        self.max_body_bytes = max_body_bytes
        self.header_limits = (max_header_bytes, max_header_fields)  # 431 beyond (MSG-013)
        self.replay = replay
        self.skills: dict[str, Skill] = {}
        self.default_skill = default_skill
        """The skill a message without ``woa.skill`` metadata goes to (AGT-019)."""

    @property
    def did(self) -> str:
        """The agent's did:key."""
        return self.key.did

    def skill(
        self,
        id: str | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        input: Any = None,
        output: Any = None,
        family: ModelFamily | str = ModelFamily.CLASSICAL,
        tags: Collection[str] = (),
        examples: Collection[tuple[Any, Any | None] | Any] = (),
        idempotent: bool = False,
        latency_ms: float | None = None,
        cost_per_call: float | None = None,
        input_modalities: Collection[Modality | str] | None = None,
        output_modalities: Collection[Modality | str] | None = None,
        input_modes: Collection[str] | None = None,
        output_modes: Collection[str] | None = None,
        plain_text: bool = True,
        default: bool = False,
    ) -> Callable[[H], H]:
        """Declare a skill; its input and result types default to the handler's annotations.

        The input is ``str`` (a text skill) or a pydantic model; the result a model, ``str``,
        ``File``, a list of these, or a ``Message``. ``input_modes`` lists accepted media
        types (default: derived from the input); ``plain_text=False`` refuses a text part
        for a model with one required ``str`` field; ``default=True`` routes messages that
        name no skill here.
        """
        localns = dict(sys._getframe(1).f_locals)  # models defined next to the handler

        def register(handler: H) -> H:
            skill_id = id or handler.__name__
            if skill_id in self.skills:
                raise ValueError(f"skill {skill_id!r} is declared twice")
            in_hint, out_hint = _annotations(handler, localns)
            in_model = input or in_hint
            out_model = output or out_hint
            if in_model is None or out_model is None:
                raise TypeError(
                    f"skill {skill_id!r}: give input=/output= types or annotate the handler "
                    "(input: str or a pydantic model; result: a model, str, File, Message)"
                )
            if default:
                if self.default_skill not in (None, skill_id):
                    raise ValueError(f"{self.default_skill!r} is already the default skill")
                self.default_skill = skill_id
            doc = (handler.__doc__ or "").strip()
            self.skills[skill_id] = Skill(
                id=skill_id,
                name=name or skill_id.replace("_", " "),
                description=description or doc or skill_id,
                handler=handler,
                input_model=in_model,
                output_model=out_model,
                family=ModelFamily(family),
                tags=list(tags),
                examples=[ex if isinstance(ex, tuple) else (ex, None) for ex in examples],
                idempotent=idempotent,
                latency_ms=latency_ms,
                cost_per_call=cost_per_call,
                input_modalities=None
                if input_modalities is None
                else [Modality(m) for m in input_modalities],
                output_modalities=None
                if output_modalities is None
                else [Modality(m) for m in output_modalities],
                plain_text=plain_text,
                input_modes=list(input_modes) if input_modes else None,
                output_modes=list(output_modes) if output_modes else None,
            )
            return handler

        return register

    # -- card and app --------------------------------------------------------------------

    def card(self, url: str) -> dict[str, Any]:
        """The signed agent card for an agent reachable at ``url`` (both A2A bindings).

        Built to CARD-005: no empty members, required members written, so that a2a-sdk's
        verifier accepts the signature as well as an RFC 8785 one does.
        """
        if not self.skills:
            raise ValueError(f"agent {self.name!r} declares no skills")
        if self.default_skill is not None and self.default_skill not in self.skills:
            raise ValueError(f"default skill {self.default_skill!r} is not declared")
        skills = list(self.skills.values())
        card = AgentCard(
            name=self.name,
            description=self.description,
            supported_interfaces=[
                AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0"),
                # REST paths are joined to it ("{url}/message:send"): no trailing slash
                AgentInterface(
                    url=url.rstrip("/"), protocol_binding="HTTP+JSON", protocol_version="1.0"
                ),
            ],
            version=self.version,
            capabilities=AgentCapabilities(
                streaming=True, push_notifications=False, extended_agent_card=False
            ),
            default_input_modes=_union(s.input_modes or [] for s in skills),
            default_output_modes=_union(s.output_modes or [] for s in skills),
            skills=[s.card_skill() for s in skills],
            provider=self.provider,
        )
        ext = WoaCardExtension(
            did=self.did, skills={sid: s.profile() for sid, s in self.skills.items()}
        )
        data = clean_empty(attach_extension(card, ext).to_json_dict())
        return sign_card(data, self.key)

    def app(
        self,
        url: str,
        *,
        lifecycle: RegistryLifecycle | None = None,
        public_url: str | None = None,
    ) -> Starlette:
        """The ASGI app serving this agent at ``url`` (with an optional registry life cycle)."""
        card = self.card(url)
        handler = A2ARequestHandler(self.skills, self.store, default_skill=self.default_skill)
        return build_app(
            card=card,
            handler=handler,
            signer=MessageSigner(self.key),
            verifier=RequestVerifier(self.policy, replay=self.replay),
            max_body_bytes=self.max_body_bytes,
            max_header_bytes=self.header_limits[0],
            max_header_fields=self.header_limits[1],
            public_url=public_url,
            on_startup=lifecycle.start if lifecycle else None,
            on_shutdown=lifecycle.stop if lifecycle else None,
        )

    # -- running -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        registry_url: str | None = None,
        public_url: str | None = None,
    ) -> AsyncIterator[RunningAgent]:
        """Serve on a real socket inside the current event loop (``port=0``: any free port)."""
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only
        # then; without it Nagle holds each response's body for the peer's delayed ACK
        # (about 40 ms a request on Linux)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound_port = sock.getsockname()[1]
        url = public_url or f"http://{host}:{bound_port}/"
        registry_url = registry_url or self.registry_url
        lifecycle: RegistryLifecycle | None = None
        advertiser = (
            AgentAdvertiser(
                name=self.name,
                did=self.did,
                host=host,
                port=bound_port,
                card_path=AGENT_CARD_PATH,
                url=url,
            )
            if self.mdns
            else None
        )
        if registry_url or self.discover_registry or advertiser:
            card = self.card(url)
            lifecycle = RegistryLifecycle(
                self.key,
                lambda: card,
                registry_url=registry_url,
                discover=self.discover_registry,
                mdns_interfaces=self.mdns_interfaces,
                registry_did=self.registry_did,
                lease_seconds=self.lease_seconds,
                heartbeat_interval=self.heartbeat_interval,
                advertiser=advertiser,
            )
        app = self.app(url, lifecycle=lifecycle, public_url=public_url)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=5,
            server_header=False,
            date_header=False,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        running = RunningAgent(self, url, server, serving, lifecycle, app.state.handler)
        try:
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("the agent's server stopped while starting")
                await asyncio.sleep(0.01)
            yield running
        finally:
            await running.stop()
            sock.close()

    def run(
        self, host: str = "127.0.0.1", port: int = 8000, *, registry_url: str | None = None
    ) -> None:
        """Serve until interrupted (Ctrl-C deregisters cleanly), on uvloop when installed.

        Prints where it serves and where it registered; warnings (a registry out of reach)
        go to stderr with their level unless the program configured logging itself.
        """
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")  # no-op if set up

        async def main() -> None:
            async with self.running(host, port, registry_url=registry_url) as agent:
                print(f"{self.name} ({self.did}) serving at {agent.url}", flush=True)
                announce = None
                if agent.lifecycle is not None and agent.lifecycle.registry_url is not None:
                    where = agent.lifecycle.registry_url
                    print(f"registering with {where}...", flush=True)
                    announce = asyncio.create_task(_announce(agent.lifecycle))
                elif agent.lifecycle is None:
                    print("no registry given (registry_url=): not discoverable", flush=True)
                await agent.wait()
                if announce is not None:
                    announce.cancel()

        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=_loop_factory()) as runner,
        ):
            runner.run(main())


async def _announce(lifecycle: RegistryLifecycle) -> None:
    """Print where the agent registered, once it has (``run`` is for people at a terminal)."""
    await lifecycle.registered.wait()
    print(
        f"registered with {lifecycle.registry_url}: `woa agents list -r"
        f" {lifecycle.registry_url}` shows it",
        flush=True,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop factory where it is installed (uvicorn[standard]), else None."""
    try:
        import uvloop
    except ImportError:  # e.g. on Windows, where uvicorn[standard] leaves it out
        return None
    return uvloop.new_event_loop


class RunningAgent:
    """An agent serving on a socket: its URL, and ways to stop it cleanly or abruptly."""

    def __init__(
        self,
        agent: Agent,
        url: str,
        server: uvicorn.Server,
        serving: asyncio.Task[None],
        lifecycle: RegistryLifecycle | None,
        handler: A2ARequestHandler,
    ) -> None:
        self.agent = agent
        self._handler = handler
        self.url = url
        self.server = server
        self.lifecycle = lifecycle
        self._serving = serving

    async def wait(self) -> None:
        """Wait until the server stops."""
        await self._serving

    async def stop(self) -> None:
        """Stop cleanly: cancel running tasks, answer open requests, deregister, unadvertise."""
        if self._serving.done():
            return
        await self._handler.runner.close()
        self.server.should_exit = True
        await self._serving

    async def kill(self) -> None:
        """Stop abruptly, as a crash would: connections dropped, no deregistration."""
        if self._serving.done():
            return
        if self.lifecycle is not None:
            self.lifecycle.deregister_on_stop = False
            if self.lifecycle._task is not None:
                self.lifecycle._task.cancel()
        for listener in self.server.servers:
            listener.close()
        for connection in list(self.server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        await self._handler.runner.close()
        self.server.force_exit = True
        self.server.should_exit = True
        await self._serving
