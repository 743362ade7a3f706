"""Subprocess for the durability test: registers agents forever, printing each acknowledged DID.

Usage: ``python storage_writer.py BACKEND TARGET`` (see ``storage_support.new_store``). It
prints ``ready`` once the store is open, then one DID per line, each only after ``put``
returned. The test kills it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys

from storage_support import new_store, record, skill


async def main(backend: str, target: str) -> None:
    store = new_store(backend, target)
    await store.open()
    print("ready", flush=True)
    n = 0
    while True:
        rec = record(skills=(skill(f"durable-{n % 7}", tags=("durable",)),))
        await store.put(rec)
        print(rec.did, flush=True)
        n += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
