"""SQLite's DID-ordered term index: same terms as FTS5, same answers, plans bounded by the page.

The term index (schema step 2) must hold exactly the terms the FTS5 index holds for every
agent, through registrations, updates, deregistrations, expiry and the migration of a
database written by schema version 1; and every search must list the same agents whether
it is answered from the term index or from FTS5 (``term_index=False``).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from storage_support import analysed_sqlite, record, skill

import woa_registry.storage._sqlite_terms as terms_module
from woa_registry.db import sqlite as db_sqlite
from woa_registry.storage import AgentRecord, SearchQuery, SqliteAgentStore
from woa_registry.storage._search_sql import page_sql
from woa_registry.storage._shared import check_query, encode_cursor, encode_record
from woa_registry.storage._sqlite_terms import (
    FTS5_TOKENIZE,
    TermPlan,
    TermTokenizer,
    WordTerms,
    count_postings,
    prefix_end,
    term_pattern,
    terms_json,
    word_terms,
)
from woa_registry.storage.migrations import SCHEMA_VERSION_TABLE, SQLITE_MIGRATIONS
from woa_registry.storage.sqlite import _DIALECT

CURSOR = encode_cursor("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")

# Words that share prefixes and stems, a few outside ASCII, and one (U+19B0, a letter to
# Python but a separator to FTS5's unicode61) that FTS5 splits into two tokens.
VOCABULARY = [
    "read", "reader", "reading", "reads", "ready", "red", "reduce", "segment", "segmentation",
    "segments", "plan", "planner", "planning", "plans", "translate", "translation", "trans",
    "über", "übersetzer", "x²", "ǅemal", "naïve", "東京", "agent", "agents", "ocr", "o",
    "summarise", "summary", "sum", "vision", "visual", "a\u19b0b",
]  # fmt: skip


def fts_terms(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Every agent's terms as the FTS5 index holds them."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances"
        " USING fts5vocab (main, agents_fts, 'instance')"
    )
    found: dict[str, set[str]] = defaultdict(set)
    for term, did in conn.execute(
        "SELECT DISTINCT v.term, a.did FROM temp.fts_instances v JOIN agents a ON a.id = v.doc"
    ):
        found[did].add(term)
    return found


def assert_index_matches_fts(path: Path) -> None:
    """The term tables agree with the FTS5 index and with each other."""
    conn = sqlite3.connect(path)
    try:
        agents = {did for (did,) in conn.execute("SELECT did FROM agents")}
        text = {did: json.loads(t) for did, t in conn.execute("SELECT did, terms FROM agent_text")}
        assert set(text) == agents
        assert all(len(t) == len(set(t)) for t in text.values()), "terms repeat"
        fts = fts_terms(conn)
        assert {did: set(t) for did, t in text.items() if t} == dict(fts)
        postings: dict[str, set[str]] = defaultdict(set)
        for term, did in conn.execute("SELECT term, did FROM agent_terms"):
            postings[did].add(term)
        assert dict(postings) == dict(fts)
    finally:
        conn.close()


def random_record(rng: random.Random, *, now: datetime | None = None) -> AgentRecord:
    def text(n: int) -> str:
        return " ".join(rng.choice(VOCABULARY) for _ in range(n))

    skills = tuple(
        skill(
            f"s{i}-{rng.randrange(3)}",
            name=text(1),
            description=text(rng.randrange(3)),
            tags=tuple(dict.fromkeys(text(1).split())),
            family=rng.choice(["ocr", "slm"]),
        )
        for i in range(rng.randrange(3))
    )
    return record(name=text(2), description=text(rng.randrange(4)), skills=skills, now=now)


# ---------------------------------------------------------------------------------------
# helpers


def test_prefix_end_is_the_least_string_above_the_prefix() -> None:
    assert prefix_end("abc") == "abd"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff\U0010ffff") is None
    assert prefix_end("") is None
    assert prefix_end("a\ud7ff") == "a\ue000"  # surrogates are skipped
    for prefix in ["abc", "a\U0010ffff", "x\ud7ff", "über"]:
        end = prefix_end(prefix)
        assert end is not None
        assert prefix < prefix + "\U0010ffff" * 3 < end
        assert end.encode() > (prefix + "\U0010ffff").encode()


def test_term_pattern_finds_array_elements_that_start_with_the_prefix() -> None:
    stored = terms_json(["über", "reader", "read", "x²", "read"])
    assert stored == '["read","reader","x²","über"]'
    for prefix, found in [("rea", True), ("reader", True), ("eader", False), ("üb", True)]:
        assert (term_pattern(prefix) in stored) is found, prefix
    assert term_pattern('a"b') == '"a\\"b'  # JSON-encoded like the stored elements


def test_tokenizer_gives_fts5_terms() -> None:
    tokenizer = TermTokenizer()
    try:
        assert tokenizer.document_terms("Segments of PAGES", "reading", "ocr-read\nx²") == [
            "ocr",
            "of",
            "page",
            "read",
            "segment",
            "x²",
        ]
        assert tokenizer.word_terms(["segmenting", "transcrib", "a\u19b0b", "\u19b0"]) == [
            ("segment",),
            ("transcrib",),
            ("a", "b"),  # a phrase of two tokens
            (),  # no token at all
        ]
        # Cached words and fresh ones together keep their order.
        assert tokenizer.word_terms(["read", "segmenting", "reads"]) == [
            ("read",),
            ("segment",),
            ("read",),
        ]
    finally:
        tokenizer.close()


def test_tokenizer_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terms_module, "_CACHED_WORDS", 3)
    tokenizer = TermTokenizer()
    try:
        for word in ["alpha", "beta", "gamma", "beta", "delta", "omega"]:
            assert tokenizer.word_terms([word]) == [(word,)]
        assert tokenizer._word.cache_info().currsize == 3
        hits = tokenizer._word.cache_info().hits
        assert tokenizer.word_terms(["beta", "omega"]) == [("beta",), ("omega",)]
        assert tokenizer._word.cache_info().hits == hits + 2  # the recent ones are kept
        assert tokenizer.word_terms(["alpha"]) == [("alpha",)]
        assert tokenizer._word.cache_info().hits == hits + 2  # the least recent was dropped
    finally:
        tokenizer.close()


async def test_schema_uses_the_same_tokenizer_as_the_term_index(tmp_path: Path) -> None:
    store = SqliteAgentStore(tmp_path / "t.db")
    await store.open()
    await store.close()
    conn = sqlite3.connect(tmp_path / "t.db")
    (sql,) = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'agents_fts'").fetchone()
    conn.close()
    assert f"tokenize = '{FTS5_TOKENIZE}'" in sql


async def test_word_terms_finds_a_prefix_s_terms_and_counts_their_postings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "words.db"
    store = SqliteAgentStore(path)
    await store.open()
    try:
        for name in ["read", "read", "reads", "reader", "reader", "ready", "red", "\U0010ffff"]:
            await store.put(record(name=name, description=""))
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        rea = word_terms(conn, "rea")
        assert rea == WordTerms("rea", ("read", "reader", "readi"))
        assert count_postings(conn, rea) == WordTerms("rea", rea.terms, postings=6)
        assert word_terms(conn, "red") == WordTerms("red", ("red",))
        assert word_terms(conn, "zzz").matches_nothing
        top = word_terms(conn, "\U0010ffff")  # no string is above it: no upper bound
        assert count_postings(conn, top) == WordTerms("\U0010ffff", ("\U0010ffff",), postings=1)
        monkeypatch.setattr(terms_module, "MERGE_TERMS", 1)
        assert word_terms(conn, "rea").terms == ("read", "reader")  # one more than can merge
        monkeypatch.setattr(terms_module, "RARE_AGENTS", 2)
        assert count_postings(conn, rea).postings == 3  # counting stops above RARE_AGENTS
    finally:
        conn.close()


def test_which_word_drives() -> None:
    few = WordTerms("rea", ("read", "reader"), postings=10)
    broad = WordTerms("r", tuple(f"r{i}" for i in range(17)), postings=5000)
    broad_rare = WordTerms("r", tuple(f"r{i}" for i in range(17)), postings=3)
    common = WordTerms("read", ("read",), postings=5000)
    uncounted = WordTerms("read", ("read",))
    assert (few.can_merge, few.is_rare, few.matches_nothing) == (True, True, False)
    assert (broad.can_merge, broad.is_rare) == (False, False)
    assert (broad_rare.can_merge, broad_rare.is_rare) == (False, True)
    assert (uncounted.can_merge, uncounted.is_rare) == (True, False)
    assert WordTerms("zz", ()).matches_nothing
    assert not WordTerms("zz", ()).can_merge
    assert TermPlan((broad, common, few))._driving_word(rare_only=False) is few
    assert TermPlan((broad, common))._driving_word(rare_only=False) is common
    assert TermPlan((broad, common))._driving_word(rare_only=True) is None
    assert TermPlan((broad, broad_rare))._driving_word(rare_only=True) is broad_rare
    assert TermPlan((broad,))._driving_word(rare_only=False) is None
    # Counting is needed only to choose: one mergeable word alone drives without it.
    assert not TermPlan.needs_counts([uncounted], text_alone=True)
    assert TermPlan.needs_counts([uncounted], text_alone=False)
    assert TermPlan.needs_counts([uncounted, few], text_alone=True)
    assert TermPlan.needs_counts([WordTerms("r", broad.terms)], text_alone=True)


# ---------------------------------------------------------------------------------------
# the index follows every write


async def test_term_index_follows_puts_updates_deletes_and_expiry(tmp_path: Path) -> None:
    path = tmp_path / "terms.db"
    store = SqliteAgentStore(path)
    await store.open()
    rng = random.Random(7)
    try:
        now = datetime.now(UTC)
        recs = [random_record(rng, now=now) for _ in range(40)]
        for rec in recs:
            await store.put(rec)
        assert_index_matches_fts(path)
        for rec in recs[:10]:  # updates: new text, or the same text again
            await store.put(replace(random_record(rng, now=now), did=rec.did))
        await store.put(recs[10])
        await store.put(record(did=recs[11].did, name="", description="", skills=()))
        assert_index_matches_fts(path)
        for rec in recs[12:18]:
            assert await store.delete(rec.did) is not None
        await store.renew(recs[18].did, now - timedelta(seconds=1))
        await store.renew(recs[19].did, now - timedelta(seconds=1))
        assert len(await store.expire(now)) == 2
        assert_index_matches_fts(path)
    finally:
        await store.close()


async def test_an_update_writes_only_the_postings_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "diff.db"
    store = SqliteAgentStore(path)
    await store.open()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE posting_writes (kind TEXT, term TEXT);
        CREATE TRIGGER test_added AFTER INSERT ON agent_terms
            BEGIN INSERT INTO posting_writes VALUES ('added', new.term); END;
        CREATE TRIGGER test_removed AFTER DELETE ON agent_terms
            BEGIN INSERT INTO posting_writes VALUES ('removed', old.term); END;
        """
    )

    def writes() -> list[tuple[str, str]]:
        found = sorted(conn.execute("SELECT kind, term FROM posting_writes"))
        conn.execute("DELETE FROM posting_writes")
        return found

    try:
        rec = record(name="Page reader", description="", skills=())
        await store.put(rec)
        assert writes() == [("added", "page"), ("added", "reader")]
        await store.put(replace(rec, url="http://127.0.0.1:9/moved"))  # same text
        assert writes() == []
        await store.put(replace(rec, name="Page writer"))
        assert writes() == [("added", "writer"), ("removed", "reader")]
        await store.delete(rec.did)
        assert writes() == [("removed", "page"), ("removed", "writer")]
        assert conn.execute("SELECT count(*) FROM agent_terms").fetchone() == (0,)
    finally:
        conn.close()
        await store.close()


# ---------------------------------------------------------------------------------------
# migration from schema version 1


def _v1_put(conn: sqlite3.Connection, rec: AgentRecord, seq: int) -> None:
    """Write an agent as the version-1 store did (agents, FTS5, skill tables, event)."""
    enc = encode_record(rec)

    def micros(at: datetime) -> int:
        return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)

    cursor = conn.execute(
        "INSERT INTO agents (name, description, url, source_url, verified, updated_at,"
        " lease_expires_at, card, skills, did, registered_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            enc.name, enc.description, enc.url, enc.source_url, int(enc.verified),
            micros(enc.updated_at), micros(enc.lease_expires_at), enc.card_json,
            enc.skills_json, enc.did, micros(enc.registered_at),
        ),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO agents_fts (rowid, name, description, skills) VALUES (?, ?, ?, ?)",
        (cursor.lastrowid, enc.name, enc.description, enc.search_text),
    )
    conn.executemany(
        "INSERT INTO skills (did, pos, skill_id, family, has_input_schema) VALUES (?, ?, ?, ?, ?)",
        [(enc.did, pos, sid, fam, int(has)) for pos, sid, fam, has in enc.skill_rows],
    )
    conn.executemany(
        "INSERT INTO skill_tags (did, pos, tag) VALUES (?, ?, ?)",
        [(enc.did, pos, tag) for pos, tag in enc.tag_rows],
    )
    conn.executemany(
        "INSERT INTO skill_modes (did, pos, direction, mode) VALUES (?, ?, ?, ?)",
        [(enc.did, pos, d, m) for pos, d, m in enc.mode_rows],
    )
    conn.execute("UPDATE seq_counter SET value = ?", (seq,))
    conn.execute(
        "INSERT INTO events (seq, kind, did, at, card) VALUES (?, 'registered', ?, ?, ?)",
        (seq, enc.did, micros(enc.updated_at), enc.card_json),
    )


async def test_migration_from_version_1_indexes_the_agents_already_stored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.db"
    db_sqlite.prepare_file(path, 5000, SCHEMA_VERSION_TABLE, SQLITE_MIGRATIONS[:1])
    rng = random.Random(11)
    recs = [random_record(rng) for _ in range(30)]
    recs.append(record(name="", description="", skills=()))  # an agent with no terms
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    for seq, rec in enumerate(recs, 1):
        _v1_put(conn, rec, seq)
    conn.execute("COMMIT")
    conn.close()

    store = SqliteAgentStore(path)
    await store.open()
    try:
        assert await store.schema_version() == len(SQLITE_MIGRATIONS)
        assert await store.count() == len(recs)
        assert_index_matches_fts(path)
        for rec in recs:
            assert await store.get(rec.did) == rec
        await _assert_same_answers(store, rng, queries=60)
        # Migrated rows keep following writes (their JSON arrays were built by SQL).
        for rec in recs[:8]:
            await store.put(replace(random_record(rng), did=rec.did))
        for rec in recs[8:12]:
            await store.delete(rec.did)
        await store.delete(recs[-1].did)
        assert_index_matches_fts(path)
        await _assert_same_answers(store, rng, queries=60)
    finally:
        await store.close()


# ---------------------------------------------------------------------------------------
# same answers as FTS5, on every plan


async def _all_pages(store: SqliteAgentStore, query: SearchQuery) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    agents = await store.count()
    while True:
        page = await store.search(replace(query, cursor=cursor))
        pages.append([a.did for a in page.agents])
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(page.agents) == query.limit
        assert len(pages) <= agents, f"paging does not end: {query}"


def _random_text(rng: random.Random) -> str:
    words = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        word = rng.choice([*VOCABULARY, "nothing", "zzz"])
        if rng.random() < 0.4:  # a prefix of the word
            word = word[: rng.randrange(1, len(word) + 1)]
        words.append(word)
    return " ".join(words)


async def _assert_same_answers(store: SqliteAgentStore, rng: random.Random, *, queries: int) -> int:
    """Compare term-index and FTS5 answers on random queries; return how many matched."""
    nonempty = 0
    try:
        for _ in range(queries):
            text = _random_text(rng)
            query = SearchQuery(text=text, limit=rng.choice([1, 2, 3, 5, 1000]))
            if rng.random() < 0.3:
                query = replace(query, family=rng.choice(["ocr", "slm"]))
            store.term_index = True
            by_terms = await _all_pages(store, query)
            by_schema = await store.skills_with_input_schema(replace(query, limit=1000))
            store.term_index = False
            by_fts = await _all_pages(store, query)
            assert by_terms == by_fts, query
            assert by_schema == await store.skills_with_input_schema(replace(query, limit=1000))
            flat = [did for page in by_terms for did in page]
            assert flat == sorted(set(flat)), query
            nonempty += bool(flat)
    finally:
        store.term_index = True
    return nonempty


@pytest.mark.parametrize(
    "limits",
    [
        {},  # the shipped thresholds
        {"MERGE_TERMS": 1, "RARE_AGENTS": 2},  # sort and walk plans too
        {"MERGE_TERMS": 0, "RARE_AGENTS": 0},  # every word walks
    ],
)
async def test_term_index_answers_like_fts5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limits: dict[str, int]
) -> None:
    for name, value in limits.items():
        monkeypatch.setattr(terms_module, name, value)
    store = SqliteAgentStore(tmp_path / "same.db")
    await store.open()
    rng = random.Random(3)
    try:
        schema = {"type": "object"}
        for i in range(80):
            rec = random_record(rng)
            if i % 3 == 0 and rec.skills:
                rec = replace(rec, skills=(replace(rec.skills[0], input_schema=schema),))
            await store.put(rec)
        nonempty = await _assert_same_answers(store, rng, queries=150)
        assert nonempty > 75  # the queries really found agents
    finally:
        await store.close()


async def test_common_prefix_pages_through_every_match_once(tmp_path: Path) -> None:
    store = SqliteAgentStore(tmp_path / "pages.db")
    await store.open()
    try:
        readers = [record(name=f"reader {w}", description=w) for w in ["reads", "ready"] * 6]
        others = [record(name="planner") for _ in range(5)]
        for rec in [*readers, *others]:
            await store.put(rec)
        expected = sorted(r.did for r in readers)
        for text in ["rea", "read", "reader read", "re reader"]:
            pages = await _all_pages(store, SearchQuery(text=text, limit=5))
            assert [len(p) for p in pages] == [5, 5, 2], text
            assert [d for p in pages for d in p] == expected, text
        ready = sorted(r.did for r in readers if r.description == "ready")
        assert [d for p in await _all_pages(store, SearchQuery(text="readi rea")) for d in p] == (
            ready
        )
        assert (await store.search(SearchQuery(text="reader nothing"))).agents == []
    finally:
        await store.close()


async def test_phrase_words_are_left_to_fts5(tmp_path: Path) -> None:
    # FTS5 splits "a\u19b0b" into the phrase "a b": only adjacent tokens match.
    store = SqliteAgentStore(tmp_path / "phrase.db")
    await store.open()
    try:
        adjacent, apart = record(name="a\u19b0b"), record(name="b then a")
        await store.put(adjacent)
        await store.put(apart)
        found = await store.search(SearchQuery(text="a\u19b0b"))
        assert [a.did for a in found.agents] == [adjacent.did]
        assert (await store.search(SearchQuery(text="\u19b0"))).agents == []
    finally:
        await store.close()


# ---------------------------------------------------------------------------------------
# plans


@pytest.fixture
async def db(tmp_path: Path) -> sqlite3.Connection:
    return await analysed_sqlite(
        tmp_path / "plans.db",
        (record(name=f"reader {i}", skills=(skill(f"s{i}", family="ocr"),)) for i in range(30)),
    )


def _plan(conn: sqlite3.Connection, query: SearchQuery, words: tuple[WordTerms, ...]) -> list[str]:
    built = page_sql(check_query(query), _DIALECT, 11, text=TermPlan(words))
    assert built is not None
    sql, params = built
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def _no_sort_or_scan(plan: list[str]) -> None:
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert not any(re.fullmatch(r"SCAN \w+", step) for step in plan), plan


COMMON = WordTerms("read", ("read",), postings=1001)
TWO_TERMS = WordTerms("rea", ("read", "reader"), postings=1001)
BROAD = WordTerms("r", tuple(f"r{i}" for i in range(17)), postings=1001)
RARE_BROAD = WordTerms("re", tuple(f"re{i}" for i in range(17)), postings=100)


@pytest.mark.parametrize("cursor", [None, CURSOR])
def test_one_common_term_walks_its_postings_in_did_order(
    db: sqlite3.Connection, cursor: str | None
) -> None:
    plan = _plan(db, SearchQuery(text="read", cursor=cursor), (COMMON,))
    assert plan[0].startswith("SEARCH t USING PRIMARY KEY (term=?"), plan
    _no_sort_or_scan(plan)


@pytest.mark.parametrize("cursor", [None, CURSOR])
def test_a_prefix_of_several_terms_merges_their_postings(
    db: sqlite3.Connection, cursor: str | None
) -> None:
    plan = _plan(db, SearchQuery(text="rea r", cursor=cursor), (TWO_TERMS, BROAD))
    assert plan[0] == "MERGE (UNION)", plan
    searches = [s for s in plan if s.startswith("SEARCH t USING PRIMARY KEY (term=?")]
    assert len(searches) == 2, plan
    assert any(s.startswith("SEARCH x USING PRIMARY KEY (did=?)") for s in plan), plan
    _no_sort_or_scan(plan)


def test_broad_common_words_walk_the_agents_in_did_order(db: sqlite3.Connection) -> None:
    plan = _plan(db, SearchQuery(text="r", cursor=CURSOR), (BROAD,))
    assert plan[0].startswith("SEARCH x USING PRIMARY KEY (did>?)"), plan
    _no_sort_or_scan(plan)


def test_a_broad_rare_word_sorts_only_its_own_postings(db: sqlite3.Connection) -> None:
    plan = _plan(db, SearchQuery(text="re"), (RARE_BROAD,))
    assert plan[0].startswith("SEARCH t USING PRIMARY KEY (term>? AND term<?)"), plan


def test_skill_filters_with_common_text_walk_the_skill_index(db: sqlite3.Connection) -> None:
    plan = _plan(db, SearchQuery(skill="s1", text="read rea"), (COMMON, TWO_TERMS))
    assert plan[0].startswith("SEARCH s USING COVERING INDEX skills_by_skill_id"), plan
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
    assert not any("agent_terms" in step or step.startswith("SEARCH t") for step in plan), plan


def test_skill_filters_with_rare_text_may_drive_by_its_agents(db: sqlite3.Connection) -> None:
    plan = _plan(db, SearchQuery(family="ocr", text="re read"), (RARE_BROAD, COMMON))
    assert any("LIST SUBQUERY" in step for step in plan), plan
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
