"""Acknowledged writes survive SIGKILL of the writing process (both backends)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from storage_support import POSTGRES_DSN, StoreFactory

from woa_registry.storage import SearchQuery

WRITER = Path(__file__).with_name("storage_writer.py")
WRITE_SECONDS = 1.5


@pytest.mark.req("REG-082")
async def test_every_acknowledged_registration_survives_sigkill(
    backend: str, db_target: str, make_store: StoreFactory
) -> None:
    env = {**os.environ, "WOA_TEST_POSTGRES_DSN": POSTGRES_DSN}
    # A plain Popen read from a worker thread: independent of asyncio's child watchers.
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), backend, db_target], stdout=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    acknowledged: list[str] = []
    try:
        ready = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=60)
        assert ready == b"ready\n"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WRITE_SECONDS
        while loop.time() < deadline:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=30)
            assert line.endswith(b"\n"), f"writer stopped: {line!r}"
            acknowledged.append(line.decode().strip())
        proc.send_signal(signal.SIGKILL)  # in the middle of the write loop
        rest = await asyncio.to_thread(proc.stdout.read)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    # Lines already in the pipe were printed after their commit: they count too.
    acknowledged.extend(line.decode() for line in rest.split(b"\n")[:-1])
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 5, "the writer acknowledged too few registrations to judge"

    store = await make_store()
    missing = [did for did in acknowledged if await store.get(did) is None]
    assert missing == []
    count = await store.count()
    # At most one registration may have committed without being acknowledged.
    assert len(acknowledged) <= count <= len(acknowledged) + 1
    assert await store.last_seq() == count
    # The indexes were committed with the rows: a tag search pages through all of them.
    indexed = 0
    cursor: str | None = None
    while True:
        page = await store.search(SearchQuery(tag="durable", limit=1000, cursor=cursor))
        indexed += len(page.agents)
        if (cursor := page.next_cursor) is None:
            break
    assert indexed == count
