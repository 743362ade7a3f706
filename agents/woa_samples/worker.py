"""``ModelWorker``: load a model once and run it on its own thread, off the event loop.

The model loads lazily on the first call (or at start, with :meth:`ModelWorker.warm`), in
the worker thread. Calls run one at a time on that thread, so the event loop keeps
serving. Cancelling the awaiting task drops a call that has not started; one that has
started finishes in its thread and its result is dropped; a streamed call stops before
its next item.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

__all__ = ["ModelWorker"]

M = TypeVar("M")
R = TypeVar("R")


class ModelWorker(Generic[M]):
    """One model, loaded once by ``load``, used from one worker thread."""

    def __init__(self, load: Callable[[], M], name: str) -> None:
        self.name = name
        self._load = load
        self._model: M | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    def model(self) -> M:
        """The model, loaded on first use (thread-safe; blocks while it loads)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    async def warm(self) -> None:
        """Load the model now (in the worker thread)."""
        await self.run(lambda _model: None)

    async def run(self, fn: Callable[[M], R]) -> R:
        """Run ``fn(model)`` on the worker thread; return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self.model()))

    async def stream(self, fn: Callable[[M, threading.Event], Iterator[R]]) -> AsyncIterator[R]:
        """Run ``fn(model, stop)`` on the worker thread; yield its items as they come.

        ``stop`` is set when the consumer goes away (cancellation or an early exit); the
        producer stops before its next item.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, value: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        def produce() -> None:
            try:
                for item in fn(self.model(), stop):
                    if stop.is_set():
                        break
                    put("item", item)
            except BaseException as exc:  # handed over to the consumer
                put("error", exc)
            else:
                put("end", None)

        future = loop.run_in_executor(self._executor, produce)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "item":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    break
        finally:
            stop.set()
            future.cancel()

    def close(self) -> None:
        """Stop the worker thread once its current call ends."""
        self._executor.shutdown(wait=False, cancel_futures=True)
