"""SQLite answers structured searches from indexes: no table scan, no sort of all matches.

Checked with ``EXPLAIN QUERY PLAN`` on the exact SQL the store runs, so that a search costs
about the same at 100,000 agents as at 1,000 (the benchmark measures the ratio).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from storage_support import record, skill

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
    path = tmp_path / "plans.db"
    store = SqliteAgentStore(path)
    await store.open()
    for i in range(30):
        await store.put(record(skills=(skill(f"s{i}", tags=("vision",), family="ocr"),)))
    await store.close()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")  # plans must hold with statistics too
    return conn


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
