"""``Sample``: a built sample agent with its model worker(s), and how to serve it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from woa_agents import Agent

__all__ = ["Sample", "serve"]

log = logging.getLogger("woa_samples")


@dataclass
class Sample:
    """A sample agent, and the model workers behind its skills."""

    agent: Agent
    workers: Sequence[Any] = field(default_factory=tuple)
    """Objects with ``async warm()`` and ``close()`` (e.g. :class:`ModelWorker`)."""

    async def warm(self) -> None:
        """Load every model now (each in its worker thread)."""
        for worker in self.workers:
            await worker.warm()

    def close(self) -> None:
        """Stop the workers' threads."""
        for worker in self.workers:
            worker.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] leaves it out on some platforms
        return None
    return uvloop.new_event_loop


def serve(
    sample: Sample,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    registry_url: str | None = None,
    preload: bool = True,
    echo: Callable[[str], None] | None = None,
    public_url: str | None = None,
) -> None:
    """Load the models (unless ``preload`` is False), serve and register until Ctrl-C.

    ``echo`` prints progress lines (default: ``print``, flushed); ``public_url`` is the
    URL the card names when it differs from the bound address (a container behind a name).
    """
    say = echo or (lambda line: print(line, flush=True))

    async def main() -> None:
        if preload:
            say(f"{sample.agent.name}: loading the model...")
            await sample.warm()
        async with sample.agent.running(
            host, port, registry_url=registry_url, public_url=public_url
        ) as running:
            where = f", registering with {registry_url}" if registry_url else ""
            say(f"{sample.agent.name} ({sample.agent.did}) serving at {running.url}{where}")
            await running.wait()

    try:
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=_loop_factory()) as runner,
        ):
            runner.run(main())
    finally:
        sample.close()
