"""SQLite answers structured searches from indexes: no table scan, no sort of all matches.

Checked with ``EXPLAIN QUERY PLAN`` on the exact SQL the store runs, so that a search costs
about the same at 100,000 agents as at 1,000 (the benchmark measures the ratio). The text
plans here are FTS5's (used for phrase words); the term index's are in test_sqlite_terms.py.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from storage_support import analysed_sqlite, record, skill

import woa_registry.storage.sqlite as sqlite_module
from woa_registry.storage import SearchQuery, SqliteAgentStore
from woa_registry.storage._search_sql import page_sql
from woa_registry.storage._shared import check_query, encode_cursor
from woa_registry.storage.sqlite import _DIALECT

CURSOR = encode_cursor("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")

STRUCTURED = [
    SearchQuery(),
    SearchQuery(cursor=CURSOR),
    SearchQuery(skill="ocr-read", cursor=CURSOR),
    SearchQuery(family="ocr"),
    SearchQuery(tag="vision", cursor=CURSOR),
    SearchQuery(input_mode="image/png", cursor=CURSOR),
    SearchQuery(output_mode="text/plain"),
    SearchQuery(tag="vision", family="slm", input_mode="image/png", output_mode="text/plain"),
    SearchQuery(skill="ocr-read", tag="vision", family="ocr", cursor=CURSOR),
]


@pytest.fixture
async def db(tmp_path: Path) -> sqlite3.Connection:
    return await analysed_sqlite(
        tmp_path / "plans.db",
        (record(skills=(skill(f"s{i}", tags=("vision",), family="ocr"),)) for i in range(30)),
    )


def _plan(conn: sqlite3.Connection, query: SearchQuery, *, input_schema_only: bool) -> list[str]:
    built = page_sql(check_query(query), _DIALECT, 11, input_schema_only=input_schema_only)
    assert built is not None
    sql, params = built
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


@pytest.mark.parametrize("input_schema_only", [False, True])
@pytest.mark.parametrize("query", STRUCTURED)
def test_structured_search_uses_indexes_in_did_order(
    db: sqlite3.Connection, query: SearchQuery, input_schema_only: bool
) -> None:
    plan = _plan(db, query, input_schema_only=input_schema_only)
    for step in plan:
        assert not re.fullmatch(r"SCAN \w+", step), f"full table scan: {plan}"
        assert "TEMP B-TREE" not in step, f"sorts all matches: {plan}"
    driver = plan[0]
    assert "INDEX" in driver or "PRIMARY KEY" in driver, plan


def test_full_text_is_driven_by_the_fts_index(db: sqlite3.Connection) -> None:
    plan = _plan(db, SearchQuery(text="vision ocr"), input_schema_only=False)
    assert plan[0].startswith("SCAN agents_fts VIRTUAL TABLE INDEX"), plan
    assert not any(re.fullmatch(r"SCAN \w+", step) for step in plan), plan


def test_skill_filters_with_common_text_walk_the_skill_index(db: sqlite3.Connection) -> None:
    query = SearchQuery(skill="s1", text="test agent")
    built = page_sql(check_query(query), _DIALECT, 11, common_text=True)
    assert built is not None
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {built[0]}", built[1])]
    assert plan[0].startswith("SEARCH s USING COVERING INDEX skills_by_skill_id"), plan
    # A B-tree of DIDs already seen (DISTINCT) is fine; sorting every match is not.
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan


@pytest.mark.parametrize("cursor", [None, CURSOR])
def test_common_text_alone_walks_agents_in_did_order(
    db: sqlite3.Connection, cursor: str | None
) -> None:
    query = SearchQuery(text="test agent", cursor=cursor)
    built = page_sql(check_query(query), _DIALECT, 11, common_text=True)
    assert built is not None
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {built[0]}", built[1])]
    assert re.fullmatch(
        r"(SCAN|SEARCH) a USING COVERING INDEX sqlite_autoindex_agents_1.*", plan[0]
    )
    # The matches are listed once (LIST SUBQUERY), not joined and sorted.
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert not any(re.fullmatch(r"SCAN \w+", step) for step in plan), plan


@pytest.mark.parametrize("threshold", [0, 1000])
async def test_both_full_text_phrasings_find_the_same_agents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    # With threshold 0 every text counts as common, so the other SQL phrasing is used.
    monkeypatch.setattr(sqlite_module, "_COMMON_TEXT_MATCHES", threshold)
    # FTS5 answers only phrase words now; make it answer every word (test_sqlite_terms.py
    # checks the term index).
    store = SqliteAgentStore(tmp_path / "text.db", term_index=False)
    await store.open()
    try:
        ocr = [record(name=f"Reader {i}", skills=(skill("read", family="ocr"),)) for i in range(3)]
        other = [record(name="Writer", skills=(skill("read", family="slm"),)) for _ in range(2)]
        for rec in [*ocr, *other]:
            await store.put(rec)
        page = await store.search(SearchQuery(skill="read", text="reader", limit=2))
        assert [a.did for a in page.agents] == sorted(r.did for r in ocr)[:2]
        assert page.next_cursor is not None
        rest = await store.search(SearchQuery(skill="read", text="reader", cursor=page.next_cursor))
        assert [a.did for a in rest.agents] == sorted(r.did for r in ocr)[2:]
        writers = await store.search(SearchQuery(family="slm", text="writer"))
        assert sorted(a.did for a in writers.agents) == sorted(r.did for r in other)
        assert (await store.search(SearchQuery(family="ocr", text="writer"))).agents == []
        alone = await store.search(SearchQuery(text="reader", limit=2))
        assert [a.did for a in alone.agents] == sorted(r.did for r in ocr)[:2]
        assert alone.next_cursor is not None
        rest = await store.search(SearchQuery(text="reader", cursor=alone.next_cursor))
        assert [a.did for a in rest.agents] == sorted(r.did for r in ocr)[2:]
        assert (await store.search(SearchQuery(text="nobody"))).agents == []
        found = await store.skills_with_input_schema(SearchQuery(text="reader"))
        assert found == []
    finally:
        await store.close()
