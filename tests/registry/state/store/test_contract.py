"""The state-store contract: every backend (SQLite, PostgreSQL) passes the same tests."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from woa_protocol import SigningKey, WoaError
from woa_registry.state import Provenance, StateService
from woa_registry.state.models import ChangeKind, NamespaceRequest
from woa_registry.state.problems import (
    AlreadyExistsError,
    ForbiddenError,
    NamespaceNotFoundError,
    PatchTestFailedError,
    StateError,
    VersionMismatchError,
)
from woa_registry.state.store import StateStore
from woa_registry.state.store.base import Mutation
from woa_registry.state.store.sqlite import SqliteStateStore

from .._support import NS, delete, make_namespace, patch, put, snapshot
from ..conftest import StoreFactory

OWNER = SigningKey.from_seed(bytes([7]) * 32)


@pytest.fixture
async def service(store: StateStore) -> StateService:
    svc = StateService(store)
    await make_namespace(svc, OWNER)
    return svc


@pytest.mark.req("STATE-002")
async def test_namespace_create_then_owner_replaces_acl(store: StateStore) -> None:
    svc = StateService(store)
    other = SigningKey.generate()
    ns, created = await svc.put_namespace(
        "team", OWNER.did, NamespaceRequest(writers=[other.did], context_id="ctx-1")
    )
    assert created
    assert ns.acl.owner == OWNER.did
    assert ns.acl.writers == (other.did,)
    ns, created = await svc.put_namespace("team", OWNER.did, NamespaceRequest(public_read=True))
    assert not created
    assert ns.acl.writers == ()
    assert ns.acl.public_read
    assert ns.context_id is None
    with pytest.raises(ForbiddenError):
        await svc.put_namespace("team", other.did, NamespaceRequest(writers=[other.did]))
    stored = await store.get_namespace("team")
    assert stored is not None
    assert stored.acl == ns.acl
    assert stored.acl.owner == OWNER.did


@pytest.mark.req("STATE-005")
async def test_namespaces_by_context(store: StateStore) -> None:
    svc = StateService(store)
    for name in ("b-ns", "a-ns"):
        await svc.put_namespace(name, OWNER.did, NamespaceRequest(context_id="task-42"))
    await svc.put_namespace("other", OWNER.did, NamespaceRequest(context_id="task-7"))
    assert [n.name for n in await store.namespaces_for_context("task-42")] == ["a-ns", "b-ns"]
    assert await store.namespaces_for_context("nope") == []


@pytest.mark.req("REG-100")
async def test_public_namespaces_by_name(store: StateStore) -> None:
    svc = StateService(store)
    for name in ("c-pub", "a-pub", "b-private"):
        await svc.put_namespace(name, OWNER.did, NamespaceRequest(public_read="pub" in name))
    assert [n.name for n in await store.public_namespaces()] == ["a-pub", "c-pub"]
    assert [n.name for n in await store.public_namespaces(after="a-pub")] == ["c-pub"]
    assert [n.name for n in await store.public_namespaces(limit=1)] == ["a-pub"]


@pytest.mark.req("STATE-010")
async def test_versions_grow_and_survive_delete(service: StateService, store: StateStore) -> None:
    (c1,) = await service.apply(NS, [put("k", {"a": 1}, create=True)], OWNER.did)
    (c2,) = await service.apply(NS, [put("k", {"a": 2}, version=1)], OWNER.did)
    (c3,) = await service.apply(NS, [delete("k", 2)], OWNER.did)
    assert [c.version for c in (c1, c2, c3)] == [1, 2, 3]
    assert c3.kind is ChangeKind.DELETE
    assert c3.value is None
    row = await store.read(NS, "k")
    assert row is not None
    assert row.value_json is None
    assert row.version == 3
    # Created again, the key continues from its last version: an old ETag can never match.
    (c4,) = await service.apply(NS, [put("k", [1], create=True)], OWNER.did)
    assert c4.version == 4
    with pytest.raises(VersionMismatchError) as info:
        await service.apply(NS, [put("k", [2], version=1)], OWNER.did)
    assert info.value.current_version == 4


@pytest.mark.req("STATE-021")
async def test_unknown_namespace_changes_nothing(store: StateStore) -> None:
    before = await store.last_rev()
    with pytest.raises(NamespaceNotFoundError):
        await StateService(store).apply("missing", [put("k", 1, create=True)], OWNER.did)
    assert await store.last_rev() == before
    assert await store.get_namespace("missing") is None


@pytest.mark.req("STATE-020")
@pytest.mark.req("STATE-021")
async def test_failed_batch_changes_nothing(service: StateService, store: StateStore) -> None:
    await service.apply(NS, [put("a", 1, create=True), put("b", {"x": 1}, create=True)], OWNER.did)
    before = await snapshot(store)
    failing = [
        [put("a", 2, version=1), put("c", 3, create=True), put("b", 0, create=True)],
        [put("a", 2, version=1), patch("b", [{"op": "test", "path": "/x", "value": 9}], 1)],
        [delete("a", 1), put("b", 5, version=7)],
    ]
    errors: tuple[type[StateError], ...] = (
        AlreadyExistsError,
        PatchTestFailedError,
        VersionMismatchError,
    )
    for ops, error in zip(failing, errors, strict=True):
        with pytest.raises(StateError) as info:
            await service.apply(NS, ops, OWNER.did)
        assert type(info.value) is error
        assert info.value.extensions["operation"] == len(ops) - 1
        assert await snapshot(store) == before
    changes = await service.apply(NS, [put("a", 2, version=1), delete("b", 1)], OWNER.did)
    assert [(c.key, c.version, c.rev) for c in changes] == [
        ("a", 2, before[-1] + 1),
        ("b", 2, before[-1] + 2),
    ]


@pytest.mark.req("STATE-021")
async def test_decide_failure_rolls_back_everything(store: StateStore) -> None:
    await make_namespace(StateService(store), OWNER)
    before = await snapshot(store)

    def decide(namespace: object, current: object) -> list[Mutation]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.write(
            NS, ["k"], decide, writer=OWNER.did, at=datetime.now(UTC), provenance=None
        )
    assert await snapshot(store) == before


@pytest.mark.req("STATE-030")
@pytest.mark.req("STATE-031")
async def test_history_keeps_every_change_with_provenance(
    service: StateService, store: StateStore
) -> None:
    received = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    provenance = Provenance(
        method="PUT",
        target_uri="http://registry.test/v1/state/board/docs/k",
        headers={"signature": "woa=:AAAA:", "signature-input": "woa=()", "content-digest": "x"},
        body=b'{"a":1}\x00\xff',
        signer=OWNER.did,
        received_at=received,
    )
    await service.apply(NS, [put("k", {"a": 1}, create=True)], OWNER.did, provenance)
    await service.apply(NS, [patch("k", [{"op": "add", "path": "/b", "value": 2}], 1)], OWNER.did)
    await service.apply(NS, [put("other", 1, create=True)], OWNER.did)
    history = await store.history(NS, "k", 0, 100)
    assert [(c.version, c.kind, c.value) for c in history] == [
        (1, ChangeKind.PUT, {"a": 1}),
        (2, ChangeKind.PATCH, {"a": 1, "b": 2}),
    ]
    assert history[0].provenance == provenance
    assert history[1].provenance is None
    assert history[0].rev < history[1].rev
    assert await store.history(NS, "k", history[0].rev, 100) == history[1:]


@pytest.mark.req("STATE-030")
async def test_revisions_are_gapless_in_commit_order(
    store_factory: StoreFactory, service: StateService
) -> None:
    replica = StateService(await store_factory())
    start = await service.store.last_rev()

    async def writer(svc: StateService, index: int) -> list[int]:
        revs = []
        for n in range(6):
            changes = await svc.apply(NS, [put(f"w{index}/{n}", n, create=True)], OWNER.did)
            revs += [c.rev for c in changes]
        return revs

    results = await asyncio.gather(*(writer((service, replica)[i % 2], i) for i in range(4)))
    all_revs = sorted(r for revs in results for r in revs)
    assert all_revs == list(range(start + 1, start + 25))
    for revs in results:  # each writer's own writes commit in its order
        assert revs == sorted(revs)
    logged = await service.store.changes_since(NS, "", start, 1000)
    assert [c.rev for c in logged] == all_revs


@pytest.mark.req("STATE-018")
async def test_list_by_prefix_with_pages(service: StateService, store: StateStore) -> None:
    keys = ["a", "plan/1", "plan/2", "plan/3", "plan~x", "plan0", "planet", "z"]
    await service.apply(NS, [put(k, k, create=True) for k in keys], OWNER.did)
    await service.apply(NS, [delete("plan/2", 1)], OWNER.did)
    seen: list[str] = []
    cursor = None
    while True:
        docs, cursor = await service.list_documents(
            NS, OWNER.did, prefix="plan/", cursor=cursor, limit=1
        )
        seen += [d.key for d in docs]
        if cursor is None:
            break
    assert seen == ["plan/1", "plan/3"]
    docs, _ = await service.list_documents(NS, OWNER.did, prefix="plan")
    assert [d.key for d in docs] == ["plan/1", "plan/3", "plan0", "planet", "plan~x"]
    docs, _ = await service.list_documents(NS, OWNER.did)
    assert len(docs) == len(keys) - 1


@pytest.mark.req("STATE-017")
async def test_expired_documents_read_as_absent_and_become_changes(store: StateStore) -> None:
    now = [datetime(2026, 5, 1, tzinfo=UTC)]
    svc = StateService(store, clock=lambda: now[0])
    await make_namespace(svc, OWNER)
    from woa_registry.state import Operation, OpKind

    await svc.apply(
        NS, [Operation(OpKind.PUT, "t", value=1, create_only=True, ttl_seconds=10)], OWNER.did
    )
    await svc.apply(NS, [put("keep", 2, create=True)], OWNER.did)
    assert (await svc.get(NS, "t", OWNER.did)).expires_at == now[0] + timedelta(seconds=10)
    now[0] += timedelta(seconds=11)
    docs, _ = await svc.list_documents(NS, OWNER.did)
    assert [d.key for d in docs] == ["keep"]
    (recreated,) = await svc.apply(NS, [put("t", 3, create=True)], OWNER.did)
    assert recreated.version == 2
    await svc.apply(
        NS, [Operation(OpKind.PUT, "u", value="x", create_only=True, ttl_seconds=1)], OWNER.did
    )
    now[0] += timedelta(seconds=2)
    expired = await svc.expire()
    assert [(c.key, c.kind, c.version, c.writer) for c in expired] == [
        ("u", ChangeKind.EXPIRE, 2, None)
    ]
    assert await svc.expire() == []
    ns = await store.get_namespace(NS)
    assert ns is not None
    assert ns.document_count == 2


async def test_usage_counts_live_canonical_bytes(service: StateService, store: StateStore) -> None:
    await service.apply(NS, [put("a", {"b": 1, "a": "é"}, create=True)], OWNER.did)
    ns = await store.get_namespace(NS)
    assert ns is not None
    assert (ns.bytes_used, ns.document_count) == (
        len('{"a":"é","b":1}'.encode()),
        1,
    )
    await service.apply(NS, [delete("a", 1)], OWNER.did)
    ns = await store.get_namespace(NS)
    assert ns is not None
    assert (ns.bytes_used, ns.document_count) == (0, 0)


@pytest.mark.req("STATE-022")
async def test_no_lost_update_under_concurrent_cas(
    store_factory: StoreFactory, service: StateService
) -> None:
    """8 writers (over two store instances) each do N read-modify-CAS increments."""
    replica = StateService(await store_factory())
    await service.apply(NS, [put("counter", 0, create=True)], OWNER.did)
    rounds = 15
    acknowledged = 0

    async def increment_loop(svc: StateService) -> None:
        nonlocal acknowledged
        for _ in range(rounds):
            while True:
                doc = await svc.get(NS, "counter", OWNER.did)
                try:
                    await svc.apply(
                        NS, [put("counter", doc.value + 1, version=doc.version)], OWNER.did
                    )
                except VersionMismatchError:
                    await asyncio.sleep(random.random() / 1000)
                    continue
                acknowledged += 1
                break

    await asyncio.gather(*(increment_loop((service, replica)[i % 2]) for i in range(8)))
    final = await service.get(NS, "counter", OWNER.did)
    assert acknowledged == 8 * rounds
    assert final.value == acknowledged
    assert final.version == acknowledged + 1
    history = await service.store.history(NS, "counter", 0, 1000)
    assert [c.value for c in history] == list(range(acknowledged + 1))


@pytest.mark.req("STATE-042")
async def test_a_change_wakes_watchers_of_another_instance(
    store_factory: StoreFactory, service: StateService
) -> None:
    other = await store_factory()
    start = await other.last_rev()
    waiter = asyncio.create_task(other.wait_for_change(start, timeout=20))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await service.apply(NS, [put("k", 1, create=True)], OWNER.did)
    assert await asyncio.wait_for(waiter, 20) is True
    changes = await other.changes_since(NS, "", start, 10)
    assert [(c.key, c.rev) for c in changes] == [("k", start + 1)]
    assert await other.wait_for_change(start + 1, timeout=0.05) is False


@pytest.mark.req("STATE-031")
async def test_history_tables_are_append_only(service: StateService, store: StateStore) -> None:
    await service.apply(NS, [put("k", 1, create=True)], OWNER.did)
    if isinstance(store, SqliteStateStore):
        db = sqlite3.connect(store.path)
        try:
            for sql in ("UPDATE state_changes SET value = '2'", "DELETE FROM state_changes"):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    db.execute(sql)
        finally:
            db.close()
    else:
        import asyncpg

        from woa_registry.state.store.postgres import PostgresStateStore

        assert isinstance(store, PostgresStateStore)
        conn = await asyncpg.connect(store._dsn)
        try:
            for sql in ("UPDATE {}.state_changes SET value = '2'", "DELETE FROM {}.state_changes"):
                with pytest.raises(asyncpg.RaiseError, match="append-only"):
                    await conn.execute(sql.format(store.schema))
        finally:
            await conn.close()
    assert [c.value for c in await store.history(NS, "k", 0, 10)] == [1]


async def test_reopening_is_idempotent(store_factory: StoreFactory) -> None:
    first = await store_factory()
    second = await store_factory()  # migrations already applied: no error, same data
    await make_namespace(StateService(first), OWNER, "shared")
    assert await second.get_namespace("shared") is not None
    await first.open()


@pytest.mark.req("STATE-021")
@pytest.mark.req("STATE-022")
async def test_concurrent_writes_fail_alone_and_see_their_predecessors(
    service: StateService, store: StateStore
) -> None:
    """Writes submitted together (a group commit on PostgreSQL) behave as if one by one."""
    ops = [
        [put("k", "created", create=True)],
        [put("k", "second", version=1)],
        [put("k", "rival", version=1)],
        [put("k", "again", create=True)],
        [put("other", 1, create=True), delete("missing", 1)],
        [put("k", "third", version=2)],
        [put("fresh", True, create=True)],
    ]
    results = await asyncio.gather(
        *(service.apply(NS, o, OWNER.did) for o in ops), return_exceptions=True
    )
    outcome = ["ok" if isinstance(r, list) else type(r).__name__ for r in results]
    # Submission order is commit order: the second write wins the race for version 1.
    assert outcome == [
        "ok",
        "ok",
        "VersionMismatchError",
        "AlreadyExistsError",
        "DocumentNotFoundError",
        "ok",
        "ok",
    ]
    doc = await service.get(NS, "k", OWNER.did)
    assert (doc.value, doc.version) == ("third", 3)
    assert await store.read(NS, "other") is None
    history = await store.history(NS, "k", 0, 10)
    assert [c.value for c in history] == ["created", "second", "third"]
    revs = [c.rev for r in results if isinstance(r, list) for c in r]
    assert revs == sorted(revs)
    assert revs == list(range(revs[0], revs[0] + len(revs)))
    ns = await store.get_namespace(NS)
    assert ns is not None
    assert ns.document_count == 2


CONTROL_CHARACTERS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f"]
"""NUL, other C0 controls (TAB, LF and CR are text), DEL and C1 controls (REG-075)."""


@pytest.mark.req("REG-075")
@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
async def test_control_characters_are_refused_in_every_text_field(
    service: StateService, store: StateStore, char: str
) -> None:
    before = await snapshot(store)
    text = f"a{char}b"
    attempts = [
        service.put_namespace(NS, OWNER.did, NamespaceRequest(context_id=text)),
        service.put_namespace("fresh", OWNER.did, NamespaceRequest(context_id=text)),
        service.namespaces_for_context(text, OWNER.did),
        service.put_namespace(text, OWNER.did, NamespaceRequest()),
        service.namespace(text, OWNER.did),
        service.apply(NS, [put(text, 1, create=True)], OWNER.did),
        service.apply(text, [put("k", 1, create=True)], OWNER.did),
        service.get(NS, text, OWNER.did),
        service.list_documents(NS, OWNER.did, prefix=text),
        service.history(NS, text, OWNER.did),
    ]
    for attempt in attempts:
        with pytest.raises(WoaError) as info:
            await attempt
        assert info.value.problem.slug == "invalid-request", info.value.detail
    assert await snapshot(store) == before
    assert await store.get_namespace("fresh") is None
    assert (await store.get_namespace(NS)).context_id is None  # type: ignore[union-attr]


@pytest.mark.req("REG-075")
async def test_a_context_id_with_line_breaks_and_tabs_is_text(service: StateService) -> None:
    await service.put_namespace(NS, OWNER.did, NamespaceRequest(context_id="a\tb\r\nc"))
    found = await service.namespaces_for_context("a\tb\r\nc", OWNER.did)
    assert [n.name for n in found] == [NS]
