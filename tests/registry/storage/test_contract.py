"""The storage contract: every backend must pass every test here (see conftest.py)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from storage_support import StoreFactory, record, skill

from woa_registry.storage import (
    MAX_EVENTS_LIMIT,
    MAX_SEARCH_LIMIT,
    AgentStore,
    EventKind,
    SearchQuery,
    StoreInputError,
)

# ---------------------------------------------------------------------------------------
# put / get / renew / delete


async def test_put_then_get_returns_the_same_record(store: AgentStore) -> None:
    rec = record(
        name="Scribe",
        skills=(
            skill("ocr-read", tags=("ocr", "text"), family="ocr", input_schema={"type": "object"}),
            skill("summarise", family="slm", input_modes=("text/plain",)),
        ),
        source_url="http://127.0.0.1:9/.well-known/agent-card.json",
        verified=False,
    )
    event = await store.put(rec)
    assert event.kind is EventKind.REGISTERED
    assert event.did == rec.did
    assert event.seq == 1
    assert event.card == rec.card
    assert event.at == rec.updated_at
    assert await store.get(rec.did) == rec
    assert await store.count() == 1


async def test_get_unknown_did_is_none(store: AgentStore) -> None:
    assert await store.get("did:key:z6MkunknownAgent") is None


async def test_datetimes_come_back_in_utc_at_the_same_instant(store: AgentStore) -> None:
    cest = timezone(timedelta(hours=2))
    at = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=cest)
    rec = record(now=at)
    await store.put(rec)
    got = await store.get(rec.did)
    assert got is not None
    assert got.registered_at == at
    assert got.registered_at.utcoffset() == timedelta(0)
    assert got.lease_expires_at == at + timedelta(minutes=5)


async def test_second_put_updates_and_keeps_registered_at(store: AgentStore) -> None:
    first = record(skills=(skill("old-skill", tags=("legacy",)),))
    later = first.registered_at + timedelta(hours=1)
    second = record(
        did=first.did,
        name="Renamed",
        skills=(skill("new-skill", tags=("fresh",)),),
        now=later,
    )
    e1 = await store.put(first)
    e2 = await store.put(second)
    assert (e1.kind, e2.kind) == (EventKind.REGISTERED, EventKind.UPDATED)
    assert e2.seq == e1.seq + 1
    assert e2.card == second.card
    got = await store.get(first.did)
    assert got is not None
    assert got.registered_at == first.registered_at
    assert got.updated_at == later
    assert got.name == "Renamed"
    assert got.skills == second.skills
    assert await store.count() == 1
    # The old skill, tag and words are gone from every index.
    assert (await store.search(SearchQuery(skill="old-skill"))).agents == []
    assert (await store.search(SearchQuery(tag="legacy"))).agents == []
    assert (await store.search(SearchQuery(text="legacy"))).agents == []
    assert [a.did for a in (await store.search(SearchQuery(tag="fresh"))).agents] == [first.did]
    assert [a.did for a in (await store.search(SearchQuery(text="renamed"))).agents] == [first.did]


async def test_renew_moves_the_lease_and_records_no_event(store: AgentStore) -> None:
    rec = record()
    await store.put(rec)
    seq = await store.last_seq()
    until = rec.lease_expires_at + timedelta(hours=2)
    renewed = await store.renew(rec.did, until)
    assert renewed is not None
    assert renewed.lease_expires_at == until
    assert renewed.updated_at == rec.updated_at
    got = await store.get(rec.did)
    assert got is not None
    assert got.lease_expires_at == until
    assert await store.last_seq() == seq


async def test_renew_unknown_did_is_none(store: AgentStore) -> None:
    assert await store.renew("did:key:z6MkunknownAgent", datetime.now(UTC)) is None
    assert await store.last_seq() == 0


async def test_delete_removes_and_records_deregistered(store: AgentStore) -> None:
    keep, gone = record(skills=(skill("a"),)), record(skills=(skill("a"),))
    await store.put(keep)
    await store.put(gone)
    before = datetime.now(UTC)
    event = await store.delete(gone.did)
    assert event is not None
    assert (event.kind, event.did, event.seq, event.card) == (
        EventKind.DEREGISTERED,
        gone.did,
        3,
        None,
    )
    assert before <= event.at <= datetime.now(UTC)
    assert await store.get(gone.did) is None
    assert await store.count() == 1
    assert [a.did for a in (await store.search(SearchQuery(skill="a"))).agents] == [keep.did]
    assert await store.delete(gone.did) is None
    assert await store.last_seq() == 3


# ---------------------------------------------------------------------------------------
# expire


@pytest.mark.req("REG-031")
async def test_expire_removes_only_lapsed_leases_once(store: AgentStore) -> None:
    now = datetime.now(UTC)
    lapsed = [record(now=now, lease=timedelta(seconds=-s)) for s in (1, 5, 60)]
    at_edge = record(now=now, lease=timedelta(0))
    alive = record(now=now, lease=timedelta(seconds=30))
    for rec in [*lapsed, at_edge, alive]:
        await store.put(rec)
    events = await store.expire(now)
    assert sorted(e.did for e in events) == sorted(r.did for r in lapsed)
    assert all(e.kind is EventKind.EXPIRED and e.at == now and e.card is None for e in events)
    assert [e.seq for e in events] == [6, 7, 8]
    assert [e.did for e in events] == sorted(e.did for e in events)
    assert await store.count() == 2
    assert await store.get(at_edge.did) is not None
    assert await store.expire(now) == []
    assert await store.last_seq() == 8


async def test_renewed_agent_does_not_expire(store: AgentStore) -> None:
    now = datetime.now(UTC)
    rec = record(now=now, lease=timedelta(seconds=-1))
    await store.put(rec)
    await store.renew(rec.did, now + timedelta(minutes=1))
    assert await store.expire(now) == []
    assert await store.get(rec.did) is not None


@pytest.mark.req("REG-031")
async def test_two_stores_sweeping_together_expire_each_agent_once(
    make_store: StoreFactory,
) -> None:
    first = await make_store()
    second = await make_store()
    now = datetime.now(UTC)
    lapsed = [record(now=now, lease=timedelta(seconds=-1)) for _ in range(40)]
    for rec in lapsed:
        await first.put(rec)
    for _ in range(3):
        results = await asyncio.gather(
            first.expire(now), second.expire(now), first.expire(now), second.expire(now)
        )
        assert all(isinstance(r, list) for r in results)
    events = await second.events_since(0)
    expired = [e.did for e in events if e.kind is EventKind.EXPIRED]
    assert sorted(expired) == sorted(r.did for r in lapsed)
    assert [e.seq for e in events] == list(range(1, 81))
    assert await first.count() == 0


# ---------------------------------------------------------------------------------------
# search


@pytest.fixture
async def catalogue(store: AgentStore) -> dict[str, str]:
    """Five agents whose skills make every filter select a different set."""
    json_in = {"type": "object", "properties": {"text": {"type": "string"}}}
    agents = {
        "reader": record(
            name="Page reader",
            description="Reads scanned documents",
            skills=(
                skill(
                    "ocr-read",
                    description="Optical character recognition of printed pages",
                    tags=("ocr", "documents"),
                    family="ocr",
                    input_modes=("image/png", "image/jpeg"),
                    output_modes=("text/plain",),
                    input_schema=json_in,
                ),
            ),
        ),
        "writer": record(
            name="Small writer",
            description="Writes short texts",
            skills=(
                skill(
                    "summarise",
                    description="Summarises long documents",
                    tags=("text", "documents"),
                    family="slm",
                    input_modes=("text/plain",),
                    output_modes=("text/plain",),
                ),
                skill(
                    "extract-json",
                    description="Extracts fields as JSON",
                    tags=("json",),
                    family="slm",
                    input_modes=("text/plain",),
                    output_modes=("application/json",),
                    input_schema=json_in,
                ),
            ),
        ),
        "cutter": record(
            name="Cutter",
            description="Promptable image segmentation",
            skills=(
                skill(
                    "segment-box",
                    description="Segments the object inside a box",
                    tags=("vision", "segmentation"),
                    family="sam",
                    input_modes=("image/png",),
                    output_modes=("image/png",),
                    input_schema=json_in,
                ),
            ),
        ),
        "listener": record(
            name="Listener",
            description="Transcribes speech",
            skills=(
                skill(
                    "transcribe",
                    description="Speech to text",
                    tags=("audio", "text"),
                    family="asr",
                    input_modes=("audio/wav",),
                    output_modes=("text/plain",),
                ),
            ),
        ),
        "mixed": record(
            name="Mixed bag",
            description="Two unrelated skills",
            skills=(
                skill(
                    "ocr-read",
                    tags=("legacy",),
                    family="classical",
                    input_modes=("image/tiff",),
                    output_modes=("text/plain",),
                ),
                skill(
                    "caption",
                    tags=("vision",),
                    family="slm",
                    input_modes=("image/png",),
                    output_modes=("application/json",),
                ),
            ),
        ),
    }
    for rec in agents.values():
        await store.put(rec)
    return {name: rec.did for name, rec in agents.items()}


async def _names(store: AgentStore, catalogue: dict[str, str], query: SearchQuery) -> list[str]:
    page = await store.search(query)
    by_did = {did: name for name, did in catalogue.items()}
    dids = [a.did for a in page.agents]
    assert dids == sorted(dids), "results must be ordered by DID"
    return sorted(by_did[d] for d in dids)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (SearchQuery(), ["cutter", "listener", "mixed", "reader", "writer"]),
        (SearchQuery(skill="ocr-read"), ["mixed", "reader"]),
        (SearchQuery(skill="summarise"), ["writer"]),
        (SearchQuery(skill="nothing-like-this"), []),
        (SearchQuery(family="slm"), ["mixed", "writer"]),
        (SearchQuery(family="sam"), ["cutter"]),
        (SearchQuery(input_mode="image/png"), ["cutter", "mixed", "reader"]),
        (SearchQuery(input_mode="audio/wav"), ["listener"]),
        (SearchQuery(output_mode="application/json"), ["mixed", "writer"]),
        (SearchQuery(output_mode="text/plain"), ["listener", "mixed", "reader", "writer"]),
        (SearchQuery(tag="documents"), ["reader", "writer"]),
        (SearchQuery(tag="vision"), ["cutter", "mixed"]),
        (SearchQuery(tag="Vision"), []),
    ],
)
@pytest.mark.req("REG-040")
async def test_search_by_one_filter(
    store: AgentStore, catalogue: dict[str, str], query: SearchQuery, expected: list[str]
) -> None:
    assert await _names(store, catalogue, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Filters must hold for one and the same skill:
        (SearchQuery(skill="ocr-read", family="ocr"), ["reader"]),
        (SearchQuery(skill="ocr-read", family="slm"), []),
        (SearchQuery(tag="vision", family="slm"), ["mixed"]),
        (SearchQuery(tag="legacy", input_mode="image/png"), []),
        (SearchQuery(input_mode="image/png", output_mode="image/png"), ["cutter"]),
        (SearchQuery(input_mode="text/plain", output_mode="application/json"), ["writer"]),
        (SearchQuery(family="slm", tag="json", output_mode="application/json"), ["writer"]),
        (SearchQuery(input_mode="image/png", family="slm", tag="vision"), ["mixed"]),
        # ... while text matches the agent as a whole.
        (SearchQuery(family="slm", text="bag"), ["mixed"]),
        (SearchQuery(tag="documents", text="scanned"), ["reader"]),
        (SearchQuery(skill="ocr-read", text="unrelated"), ["mixed"]),
    ],
)
@pytest.mark.req("REG-040")
async def test_search_with_combined_filters(
    store: AgentStore, catalogue: dict[str, str], query: SearchQuery, expected: list[str]
) -> None:
    assert await _names(store, catalogue, query) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reader", ["reader"]),
        ("PAGE Reader", ["reader"]),
        ("segmenting", ["cutter"]),  # stemmed: segmentation, segments
        ("transcrib", ["listener"]),  # prefix
        ("documents", ["reader", "writer"]),  # description of reader, skill of writer
        ("speech", ["listener"]),  # skill description
        ("json", ["writer"]),  # skill tag and description
        ("ocr-read", ["mixed", "reader"]),  # skill id, split into words
        ("printed pages", ["reader"]),  # every word must match
        ("printed audio", []),
        ("the", []),  # only stop words: nothing searchable
        ("!!! ???", []),
    ],
)
@pytest.mark.req("REG-040")
async def test_full_text_search(
    store: AgentStore, catalogue: dict[str, str], text: str, expected: list[str]
) -> None:
    assert await _names(store, catalogue, SearchQuery(text=text)) == expected


@pytest.mark.req("REG-040")
@pytest.mark.req("REG-041")
async def test_full_text_pages_through_common_words_prefixes_and_several_words(
    store: AgentStore,
) -> None:
    readers = [record(name=f"Reader {i}", description="Reads scanned pages") for i in range(11)]
    ready = [record(name="Ready planner", description="Plans ahead") for _ in range(7)]
    writers = [record(name="Writer", description="Writes pages") for _ in range(6)]
    for rec in [*readers, *ready, *writers]:
        await store.put(rec)
    cases = [
        ("read", [*readers, *ready]),  # a prefix of read, reader and readi (ready)
        ("reader", readers),
        ("ready plan", ready),  # plan: a prefix of plan (plans) and planner
        ("plans ready", ready),
        ("reads scanned", readers),
        ("rea pag", readers),
        ("pages", [*readers, *writers]),
        ("writ pages", writers),
        ("read writ", []),
        ("nothing", []),
    ]
    for text, expected in cases:
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(len(expected) // 4 + 1):
            page = await store.search(SearchQuery(text=text, limit=4, cursor=cursor))
            seen.extend(a.did for a in page.agents)
            cursor = page.next_cursor
            if cursor is None:
                break
            assert len(page.agents) == 4
        assert cursor is None, text
        assert seen == sorted(r.did for r in expected), text


@pytest.mark.req("REG-040")
async def test_matched_skills_name_the_skills_that_satisfy_the_filters(
    store: AgentStore, catalogue: dict[str, str]
) -> None:
    page = await store.search(SearchQuery(output_mode="text/plain"))
    assert page.matched_skills == {
        catalogue["reader"]: ["ocr-read"],
        catalogue["writer"]: ["summarise"],
        catalogue["listener"]: ["transcribe"],
        catalogue["mixed"]: ["ocr-read"],
    }
    assert (await store.search(SearchQuery(text="writer"))).matched_skills == {}


@pytest.mark.req("REG-041")
async def test_pagination_is_complete_stable_and_without_duplicates(store: AgentStore) -> None:
    recs = [record(skills=(skill("pager", tags=("p",)),)) for _ in range(25)]
    for rec in recs:
        await store.put(rec)
    expected = sorted(r.did for r in recs)
    for query in (
        SearchQuery(limit=10),
        SearchQuery(skill="pager", limit=10),
        SearchQuery(tag="p", limit=10),
        SearchQuery(text="test agent", limit=10),
        SearchQuery(input_mode="application/json", limit=10),
    ):
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await store.search(replace(query, cursor=cursor))
            pages += 1
            seen.extend(a.did for a in page.agents)
            if page.next_cursor is None:
                break
            assert len(page.agents) == 10
            cursor = page.next_cursor
        assert pages == 3
        assert seen == expected


async def test_cursor_survives_concurrent_writes(store: AgentStore) -> None:
    recs = [record() for _ in range(12)]
    for rec in recs:
        await store.put(rec)
    first = await store.search(SearchQuery(limit=5))
    assert first.next_cursor is not None
    # Agents added and removed while the client pages: the cursor is a position, not an offset.
    await store.delete(first.agents[0].did)
    newcomer = record()
    await store.put(newcomer)
    rest: list[str] = []
    cursor: str | None = first.next_cursor
    while cursor is not None:
        page = await store.search(SearchQuery(limit=5, cursor=cursor))
        rest.extend(a.did for a in page.agents)
        cursor = page.next_cursor
    last_seen = first.agents[-1].did
    expected = sorted(d for d in [*(r.did for r in recs), newcomer.did] if d > last_seen)
    assert rest == expected


async def test_exact_page_size_has_no_next_cursor(store: AgentStore) -> None:
    for _ in range(4):
        await store.put(record())
    page = await store.search(SearchQuery(limit=4))
    assert len(page.agents) == 4
    assert page.next_cursor is None


# ---------------------------------------------------------------------------------------
# skills_with_input_schema


async def test_skills_with_input_schema(store: AgentStore, catalogue: dict[str, str]) -> None:
    found = await store.skills_with_input_schema(SearchQuery())
    pairs = sorted((did, s.skill_id) for did, s in found)
    assert pairs == sorted(
        [
            (catalogue["reader"], "ocr-read"),
            (catalogue["writer"], "extract-json"),
            (catalogue["cutter"], "segment-box"),
        ]
    )
    assert all(s.input_schema is not None for _, s in found)
    assert [did for did, _ in found] == sorted(did for did, _ in found)

    slm = await store.skills_with_input_schema(SearchQuery(family="slm"))
    assert [(d, s.skill_id) for d, s in slm] == [(catalogue["writer"], "extract-json")]
    png = await store.skills_with_input_schema(SearchQuery(input_mode="image/png"))
    assert sorted(s.skill_id for _, s in png) == ["ocr-read", "segment-box"]
    text = await store.skills_with_input_schema(SearchQuery(text="scanned"))
    assert [(d, s.skill_id) for d, s in text] == [(catalogue["reader"], "ocr-read")]
    assert await store.skills_with_input_schema(SearchQuery(skill="transcribe")) == []


async def test_skills_with_input_schema_limit_counts_agents(store: AgentStore) -> None:
    schema = {"type": "object"}
    recs = [
        record(skills=(skill("one", input_schema=schema), skill("two", input_schema=schema)))
        for _ in range(3)
    ]
    for rec in recs:
        await store.put(rec)
    await store.put(record(skills=(skill("one"),)))  # no schema: never returned
    found = await store.skills_with_input_schema(SearchQuery(limit=2))
    first_two = sorted(r.did for r in recs)[:2]
    assert [(d, s.skill_id) for d, s in found] == [
        (first_two[0], "one"),
        (first_two[0], "two"),
        (first_two[1], "one"),
        (first_two[1], "two"),
    ]


# ---------------------------------------------------------------------------------------
# change feed


@pytest.mark.req("REG-050")
@pytest.mark.req("REG-051")
async def test_events_since_orders_and_limits(store: AgentStore) -> None:
    recs = [record() for _ in range(5)]
    for rec in recs:
        await store.put(rec)
    await store.put(record(did=recs[0].did, name="again"))
    await store.delete(recs[1].did)
    events = await store.events_since(0)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.kind for e in events] == [EventKind.REGISTERED] * 5 + [
        EventKind.UPDATED,
        EventKind.DEREGISTERED,
    ]
    assert [e.did for e in events[:5]] == [r.did for r in recs]
    assert events[5].card is not None
    assert events[5].card["name"] == "again"
    assert await store.events_since(3, limit=2) == events[3:5]
    assert await store.events_since(7) == []
    assert await store.events_since(100) == []
    assert await store.last_seq() == 7


async def test_last_seq_of_an_empty_store_is_zero(store: AgentStore) -> None:
    assert await store.last_seq() == 0
    assert await store.events_since(0) == []
    assert await store.count() == 0


@pytest.mark.req("REG-051")
async def test_concurrent_writers_get_gapless_increasing_sequence_numbers(
    make_store: StoreFactory,
) -> None:
    a = await make_store()
    b = await make_store()
    recs = [record() for _ in range(30)]
    events = await asyncio.gather(*((a if i % 2 else b).put(rec) for i, rec in enumerate(recs)))
    assert sorted(e.seq for e in events) == list(range(1, 31))
    feed = await a.events_since(0)
    assert [(e.seq, e.did) for e in feed] == sorted((e.seq, e.did) for e in events)


async def test_wait_for_event_returns_at_once_when_something_is_there(store: AgentStore) -> None:
    await store.put(record())
    assert await store.wait_for_event(0, timeout=0) is True
    assert await store.wait_for_event(1, timeout=0) is False
    assert await store.wait_for_event(1, timeout=0.05) is False


async def test_wait_for_event_wakes_on_a_local_write(make_store: StoreFactory) -> None:
    # The safety-net poll is far longer than the wait: only the wake-up can end it early.
    store = await make_store(poll_interval=600)
    waiter = asyncio.create_task(store.wait_for_event(0, timeout=30))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await store.put(record())
    assert await asyncio.wait_for(waiter, timeout=30) is True


@pytest.mark.req("REG-050")
@pytest.mark.req("REG-083")
async def test_wait_for_event_wakes_on_a_write_by_another_replica(
    make_store: StoreFactory,
    backend: str,
) -> None:
    # PostgreSQL must wake by NOTIFY (poll far longer than the wait); SQLite by its poll.
    poll = 600 if backend == "postgres" else 0.05
    watcher = await make_store(poll_interval=poll)
    writer = await make_store()
    waiter = asyncio.create_task(watcher.wait_for_event(0, timeout=30))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    event = await writer.put(record())
    assert await asyncio.wait_for(waiter, timeout=30) is True
    assert await watcher.events_since(0) == [event]


# ---------------------------------------------------------------------------------------
# bad input: a precise error, nothing stored


async def _assert_untouched(store: AgentStore) -> None:
    assert await store.count() == 0
    assert await store.last_seq() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"registered_at": datetime(2026, 1, 1)}, "registered_at must be timezone-aware"),
        ({"lease_expires_at": datetime(2026, 1, 1)}, "lease_expires_at must be timezone-aware"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at must be a datetime"),
        ({"did": ""}, "did must not be empty"),
        ({"did": "did:key:z6Mk\x00"}, "did contains the control character U\\+0000"),
        ({"did": "did:" + "x" * 3000}, "did is longer than"),
        ({"name": "bad\x00name"}, "name contains the control character U\\+0000"),
        ({"card": {"n": math.nan}}, "card is not JSON-serialisable"),
        ({"card": {"s": {1, 2}}}, "card is not JSON-serialisable"),
        ({"card": ["not", "an", "object"]}, "card must be a JSON object"),
        ({"verified": "yes"}, "verified must be a bool"),
        ({"skills": (skill("a"), skill("a"))}, "skill ids must be unique"),
        ({"skills": (skill(""),)}, r"skills\[0\].skill_id must not be empty"),
        ({"skills": (skill("a", tags=("",)),)}, r"skills\[0\].tags\[0\] must not be empty"),
        (
            {"skills": (skill("a", family="x\x00"),)},
            r"skills\[0\].family contains the control character U\+0000",
        ),
        ({"skills": ({"skill_id": "a"},)}, r"skills\[0\] must be a SkillEntry"),
    ],
)
async def test_put_rejects_bad_records(
    store: AgentStore, change: dict[str, object], message: str
) -> None:
    with pytest.raises(StoreInputError, match=message):
        await store.put(record(**change))
    await _assert_untouched(store)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (SearchQuery(limit=0), "limit must be between 1 and"),
        (SearchQuery(limit=MAX_SEARCH_LIMIT + 1), "limit must be between 1 and"),
        (SearchQuery(cursor="not a cursor"), "cursor is not one this registry issued"),
        (SearchQuery(cursor="bm90LWEtZGlk"), "cursor is not one this registry issued"),
        (SearchQuery(cursor=""), "cursor is not one this registry issued"),
        (SearchQuery(skill=""), "filter 'skill' must not be empty"),
        (SearchQuery(tag=""), "filter 'tag' must not be empty"),
        (SearchQuery(text="x" * 600), "search text is longer than"),
        (SearchQuery(text=" ".join(f"w{i}" for i in range(20))), "more than 16 words"),
    ],
)
async def test_search_rejects_bad_queries(
    store: AgentStore, query: SearchQuery, message: str
) -> None:
    await store.put(record())
    with pytest.raises(StoreInputError, match=message):
        await store.search(query)
    with pytest.raises(StoreInputError, match=message):
        await store.skills_with_input_schema(query)


CONTROL_CHARACTERS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f"]
"""NUL, other C0 controls (TAB, LF and CR are text), DEL and C1 controls (REG-075)."""

RECORD_TEXT_FIELDS = {
    "did": lambda c: {"did": f"did:key:z6Mk{c}x"},
    "name": lambda c: {"name": f"a{c}b"},
    "description": lambda c: {"description": f"a{c}b"},
    "url": lambda c: {"url": f"http://a{c}b/"},
    "source_url": lambda c: {"source_url": f"http://a{c}b/"},
    "skill_id": lambda c: {"skills": (skill(f"a{c}b"),)},
    "skill name": lambda c: {"skills": (replace(skill("a"), name=f"a{c}"),)},
    "skill description": lambda c: {"skills": (replace(skill("a"), description=f"{c}"),)},
    "family": lambda c: {"skills": (skill("a", family=f"x{c}"),)},
    "tag": lambda c: {"skills": (skill("a", tags=(f"t{c}",)),)},
    "input mode": lambda c: {"skills": (replace(skill("a"), input_modes=(f"m{c}",)),)},
    "output mode": lambda c: {"skills": (replace(skill("a"), output_modes=(f"m{c}",)),)},
}


@pytest.mark.req("REG-075")
@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", list(RECORD_TEXT_FIELDS))
async def test_control_characters_are_refused_in_every_text_field(
    store: AgentStore, field: str, char: str
) -> None:
    with pytest.raises(StoreInputError, match=f"control character U\\+{ord(char):04X}"):
        await store.put(record(**RECORD_TEXT_FIELDS[field](char)))
    await _assert_untouched(store)


@pytest.mark.req("REG-075")
@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
async def test_control_characters_are_refused_in_every_filter(store: AgentStore, char: str) -> None:
    await store.put(record())
    for name in ("skill", "family", "input_mode", "output_mode", "tag", "text"):
        query = SearchQuery(**{name: f"a{char}b"})
        with pytest.raises(StoreInputError, match="control character"):
            await store.search(query)
        with pytest.raises(StoreInputError, match="control character"):
            await store.skills_with_input_schema(query)
    for call in (store.get, store.delete):
        with pytest.raises(StoreInputError, match="control character"):
            await call(f"did:key:{char}")
    assert await store.last_seq() == 1


@pytest.mark.req("REG-075")
async def test_tab_line_feed_and_carriage_return_are_text(store: AgentStore) -> None:
    rec = record(description="line one\r\nline two\tend", name="x\ny")
    await store.put(rec)
    assert await store.get(rec.did) == rec


async def test_other_calls_reject_bad_arguments(store: AgentStore) -> None:
    rec = record()
    await store.put(rec)
    naive = datetime(2030, 1, 1)
    with pytest.raises(StoreInputError, match="lease_expires_at must be timezone-aware"):
        await store.renew(rec.did, naive)
    with pytest.raises(StoreInputError, match="now must be timezone-aware"):
        await store.expire(naive)
    with pytest.raises(StoreInputError, match="seq must not be negative"):
        await store.events_since(-1)
    with pytest.raises(StoreInputError, match="limit must be between 1 and"):
        await store.events_since(0, limit=0)
    with pytest.raises(StoreInputError, match="limit must be between 1 and"):
        await store.events_since(0, limit=MAX_EVENTS_LIMIT + 1)
    with pytest.raises(StoreInputError, match="timeout must not be negative"):
        await store.wait_for_event(0, timeout=-1)
    with pytest.raises(StoreInputError, match="did must not be empty"):
        await store.get("")
    with pytest.raises(StoreInputError, match="did must not be empty"):
        await store.delete("")
    got = await store.get(rec.did)
    assert got == rec
    assert await store.last_seq() == 1


async def test_unicode_survives_the_round_trip(store: AgentStore) -> None:
    rec = record(
        name="Übersetzer 翻訳",
        description="emoji 🚀 and a lone surrogate escaped in the card",
        card={"name": "x", "odd": "\ud800"},
        skills=(skill("traduire", tags=("langue", "翻訳")),),
    )
    await store.put(rec)
    assert await store.get(rec.did) == rec
    assert [a.did for a in (await store.search(SearchQuery(tag="翻訳"))).agents] == [rec.did]
    assert [a.did for a in (await store.search(SearchQuery(text="übersetzer"))).agents] == [rec.did]


# ---------------------------------------------------------------------------------------
# lifecycle


@pytest.mark.req("REG-082")
async def test_reopening_keeps_everything(make_store: StoreFactory) -> None:
    store = await make_store()
    recs = [record(skills=(skill("kept", tags=("t",)),)) for _ in range(5)]
    for rec in recs:
        await store.put(rec)
    await store.delete(recs[0].did)
    await store.close()
    again = await make_store()
    assert await again.count() == 4
    for rec in recs[1:]:
        assert await again.get(rec.did) == rec
    assert await again.last_seq() == 6
    assert len((await again.search(SearchQuery(text="kept"))).agents) == 4
    assert (await again.put(record())).seq == 7


async def test_a_closed_store_refuses_work(make_store: StoreFactory) -> None:
    store = await make_store()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.count()
    await store.open()
    assert await store.count() == 0


@pytest.mark.req("REG-054")
async def test_prune_events_drops_an_old_prefix_and_keeps_the_newest(store: AgentStore) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(4):
        await store.put(record(now=t0 + timedelta(hours=hour)))
    events = await store.events_since(0)
    assert [e.at for e in events] == [t0 + timedelta(hours=h) for h in range(4)]
    assert await store.prune_events(t0 - timedelta(hours=1)) == 0
    assert await store.prune_events(t0 + timedelta(minutes=90)) == 2
    assert [e.seq for e in await store.events_since(0)] == [3, 4]
    assert await store.prune_events(t0 + timedelta(days=9)) == 1  # never the newest
    assert [e.seq for e in await store.events_since(0)] == [4]
    assert await store.prune_events(t0 + timedelta(days=9)) == 0
    assert await store.last_seq() == 4
    await store.put(record(now=t0 + timedelta(hours=5)))
    assert [e.seq for e in await store.events_since(0)] == [4, 5]  # numbering goes on
