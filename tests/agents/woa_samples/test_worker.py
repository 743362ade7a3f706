"""ModelWorker: one load, calls off the event loop, cancellation of runs and streams."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from woa_samples import ModelWorker


class Model:
    def __init__(self) -> None:
        self.thread = threading.current_thread().name
        self.produced = 0


async def test_loads_once_in_the_worker_thread() -> None:
    loads: list[Model] = []

    def load() -> Model:
        loads.append(Model())
        return loads[-1]

    worker = ModelWorker(load, "probe")
    assert not worker.loaded
    names = await asyncio.gather(
        *(worker.run(lambda m: threading.current_thread().name) for _ in range(5))
    )
    assert len(loads) == 1
    assert worker.loaded
    assert loads[0].thread.startswith("model-probe")
    assert set(names) == {loads[0].thread}  # every call on the one worker thread
    await worker.warm()
    assert len(loads) == 1
    worker.close()


@pytest.mark.req("SMP-004")
async def test_the_event_loop_keeps_serving_while_the_model_works() -> None:
    worker = ModelWorker(Model, "busy")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    beat = asyncio.create_task(ticker())
    await worker.run(lambda m: time.sleep(0.5))  # a blocking model call
    beat.cancel()
    assert ticks >= 20  # the loop ran about 50 ticks meanwhile
    worker.close()


@pytest.mark.req("SMP-004")
async def test_a_cancelled_call_that_has_not_started_never_runs() -> None:
    worker = ModelWorker(Model, "queue")
    ran: list[str] = []
    first = asyncio.create_task(worker.run(lambda m: (time.sleep(0.3), ran.append("first"))))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(worker.run(lambda m: ran.append("second")))
    await asyncio.sleep(0.05)
    second.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    await worker.run(lambda m: None)
    assert ran == ["first"]
    worker.close()


@pytest.mark.req("SMP-004")
async def test_a_stream_stops_before_its_next_item_when_its_consumer_leaves() -> None:
    worker = ModelWorker(Model, "stream")

    def produce(model: Model, stop: threading.Event) -> Iterator[int]:
        for i in range(1000):
            model.produced += 1
            yield i
            time.sleep(0.01)

    got = []
    async for item in worker.stream(produce):
        got.append(item)
        if len(got) == 3:
            break
    produced = await worker.run(lambda m: m.produced)  # queued behind the producer
    assert got == [0, 1, 2]
    assert produced < 20  # stopped early, not after 1000 items
    worker.close()


async def test_a_stream_raises_what_the_producer_raised() -> None:
    worker = ModelWorker(Model, "boom")

    def produce(model: Model, stop: threading.Event) -> Iterator[int]:
        yield 1
        raise ValueError("bad audio")

    got: list[int] = []

    async def consume() -> None:
        async for item in worker.stream(produce):
            got.append(item)

    with pytest.raises(ValueError, match="bad audio"):
        await consume()
    assert got == [1]
    worker.close()
