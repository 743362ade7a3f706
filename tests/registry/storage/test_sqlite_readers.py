"""The SQLite store's pool of reader connections: concurrent reads, closing, bad sizes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from storage_support import record, skill

from woa_registry.storage import SearchQuery, SqliteAgentStore, StoreInputError


@pytest.mark.parametrize("readers", [0, -1, True, 1.5, "2"])
def test_bad_reader_counts_are_refused(tmp_path: Path, readers: object) -> None:
    with pytest.raises(StoreInputError, match="readers must be a positive integer"):
        SqliteAgentStore(tmp_path / "r.db", readers=readers)  # type: ignore[arg-type]
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize("readers", [1, 3])
async def test_more_concurrent_reads_than_readers_all_answer(tmp_path: Path, readers: int) -> None:
    store = SqliteAgentStore(tmp_path / "r.db", readers=readers)
    await store.open()
    try:
        recs = [record(skills=(skill(f"s{i % 3}", tags=("t",)),)) for i in range(9)]
        for rec in recs:
            await store.put(rec)
        queries = [SearchQuery(skill=f"s{i % 3}") for i in range(30)]
        pages = await asyncio.gather(
            *(store.search(q) for q in queries), store.count(), store.last_seq()
        )
        for query, page in zip(queries, pages, strict=False):
            assert isinstance(query, SearchQuery)
            expected = sorted(r.did for r in recs if r.skills[0].skill_id == query.skill)
            assert [a.did for a in page.agents] == expected  # type: ignore[union-attr]
        assert pages[-2:] == [9, 9]
    finally:
        await store.close()


async def test_close_waits_for_reads_in_flight_and_refuses_later_ones(tmp_path: Path) -> None:
    store = SqliteAgentStore(tmp_path / "r.db", readers=1)
    await store.open()
    rec = record()
    await store.put(rec)
    # The first read holds the only reader; the second waits for it; close comes third.
    first = asyncio.create_task(store.get(rec.did))
    second = asyncio.create_task(store.get(rec.did))
    await asyncio.sleep(0)
    closing = asyncio.create_task(store.close())
    assert await first == rec
    assert await second == rec  # queued before close, so served before it
    await closing
    with pytest.raises(RuntimeError, match="not open"):
        await store.get(rec.did)
    await store.open()
    try:
        assert await store.get(rec.did) == rec
    finally:
        await store.close()
