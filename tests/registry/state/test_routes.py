"""The REST API of shared state: every precondition, error type, ACL rule and refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from woa_agents import StateClient, StateClientError
from woa_protocol import SigningKey
from woa_registry.state import StateRuntime

from ._support import NS, signed_request, snapshot

P = "urn:woa:problem:"
Clients = Callable[[SigningKey | None], StateClient]


async def send(
    http: httpx.AsyncClient,
    key: SigningKey,
    method: str,
    path: str,
    body: Any = None,
    **kwargs: Any,
) -> httpx.Response:
    content, headers = signed_request(key, method, path, body, **kwargs)
    return await http.request(method, path, content=content, headers=headers)


@pytest.fixture
async def board(client_for: Clients, owner: SigningKey, writer: SigningKey) -> StateClient:
    c = client_for(owner)
    await c.put_namespace(NS, writers=[writer.did])
    return c


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == P + slug
    assert body["status"] == status
    return body


@pytest.mark.req("STATE-002")
async def test_namespace_owner_and_acl_replacement(
    http: httpx.AsyncClient, client_for: Clients, owner: SigningKey, writer: SigningKey
) -> None:
    r = await send(http, owner, "PUT", f"/v1/state/{NS}", {"writers": [writer.did]})
    assert r.status_code == 201
    assert r.json()["owner"] == owner.did
    r = await send(
        http, writer, "PUT", f"/v1/state/{NS}", {"writers": [writer.did], "publicRead": True}
    )
    problem(r, 403, "state-forbidden")
    r = await send(http, owner, "PUT", f"/v1/state/{NS}", {"readers": [writer.did]})
    assert r.status_code == 200
    assert r.json()["writers"] == []
    assert r.json()["readers"] == [writer.did]
    r = await http.put(f"/v1/state/{NS}", json={"writers": []})
    problem(r, 401, "signature-missing")
    r = await send(http, owner, "PUT", f"/v1/state/{NS}", {"writers": ["did:key:zNotAKey"]})
    problem(r, 400, "invalid-did")
    r = await send(http, owner, "PUT", f"/v1/state/{NS}", {"writers": "nobody"})
    problem(r, 422, "invalid-request")
    info = await client_for(owner).namespace(NS)
    assert info["readers"] == [writer.did]
    assert info["documentCount"] == 0


@pytest.mark.req("STATE-001")
async def test_bad_names_and_keys_are_refused(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey
) -> None:
    for path in (
        "/v1/state/.hidden",
        f"/v1/state/{'n' * 129}",
    ):
        r = await send(http, owner, "PUT", path, {})
        problem(r, 422, "invalid-request")
    for key in ("a//b", "a/.b", "-/" + "x" * 600, "sp%20ace"):
        r = await send(
            http, owner, "PUT", f"/v1/state/{NS}/docs/{key}", 1, headers={"if-none-match": "*"}
        )
        problem(r, 422, "invalid-request")
    assert (await board.list_documents(NS))["documents"] == []


@pytest.mark.req("STATE-011")
@pytest.mark.req("STATE-012")
async def test_put_get_with_etag(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey
) -> None:
    r = await send(
        http, owner, "PUT", f"/v1/state/{NS}/docs/plan/a", {"x": 1}, headers={"if-none-match": "*"}
    )
    assert r.status_code == 201
    assert r.headers["etag"] == '"1"'
    r = await http.get(
        f"/v1/state/{NS}/docs/plan/a",
        headers=signed_request(owner, "GET", f"/v1/state/{NS}/docs/plan/a")[1],
    )
    assert r.status_code == 200
    assert r.headers["etag"] == '"1"'
    doc = r.json()
    assert doc["value"] == {"x": 1}
    assert doc["version"] == 1
    assert doc["writer"] == owner.did
    assert doc["updatedAt"].endswith("Z")
    assert doc["expiresAt"] is None
    r = await send(
        http, owner, "PUT", f"/v1/state/{NS}/docs/plan/a", [2], headers={"if-match": '"1"'}
    )
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    assert r.json()["op"] == "put"
    r = await send(
        http, owner, "PUT", f"/v1/state/{NS}/docs/plan/a", [3], headers={"if-match": '"9", "2"'}
    )
    assert r.status_code == 200
    assert r.json()["version"] == 3
    r = await send(
        http, owner, "PUT", f"/v1/state/{NS}/docs/plan/a", [4], headers={"if-match": "*"}
    )
    assert r.status_code == 200
    assert r.json()["version"] == 4
    r = await send(http, owner, "GET", f"/v1/state/{NS}/docs/plan/missing")
    problem(r, 404, "state-document-not-found")
    r = await send(http, owner, "GET", "/v1/state/nowhere/docs/plan/a")
    problem(r, 404, "state-namespace-not-found")


@pytest.mark.req("STATE-012")
@pytest.mark.req("STATE-013")
@pytest.mark.req("STATE-021")
async def test_preconditions(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    path = f"/v1/state/{NS}/docs/k"
    r = await send(http, owner, "PUT", path, 1)
    problem(r, 428, "state-precondition-required")
    r = await send(http, owner, "PUT", path, 1, headers={"if-match": '"1"'})
    assert problem(r, 412, "state-version-mismatch")["currentVersion"] is None
    r = await send(http, owner, "PUT", path, 1, headers={"if-match": "*"})
    assert problem(r, 412, "state-version-mismatch")["currentVersion"] is None
    await board.put(NS, "k", {"v": 1}, create=True)
    await board.put(NS, "k", {"v": 2}, if_match=1)
    before = await snapshot(runtime.store)
    r = await send(http, owner, "PUT", path, 1, headers={"if-match": '"1"'})
    assert problem(r, 412, "state-version-mismatch")["currentVersion"] == 2
    r = await send(http, owner, "PUT", path, 1, headers={"if-match": 'W/"2"'})
    assert problem(r, 412, "state-version-mismatch")["currentVersion"] == 2
    r = await send(http, owner, "PUT", path, 1, headers={"if-none-match": "*"})
    assert problem(r, 412, "state-already-exists")["currentVersion"] == 2
    r = await send(http, owner, "PUT", path, 1, headers={"if-match": "2"})
    problem(r, 422, "invalid-request")
    r = await send(http, owner, "PUT", path, 1, headers={"if-none-match": '"2"'})
    problem(r, 422, "invalid-request")
    assert await snapshot(runtime.store) == before
    with pytest.raises(StateClientError) as info:
        await board.put(NS, "k", {"v": 3}, if_match=1)
    assert info.value.current_version == 2


@pytest.mark.req("STATE-014")
@pytest.mark.req("STATE-021")
async def test_patch(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    path = f"/v1/state/{NS}/docs/doc"
    await board.put(NS, "doc", {"items": [1], "n": 0}, create=True, ttl=3600)
    ok = [{"op": "test", "path": "/n", "value": 0}, {"op": "add", "path": "/items/-", "value": 2}]
    r = await send(
        http,
        owner,
        "PATCH",
        path,
        ok,
        headers={"if-match": '"1"'},
        content_type="application/json-patch+json",
    )
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    assert r.json()["value"] == {"items": [1, 2], "n": 0}
    assert r.json()["op"] == "patch"
    assert r.json()["expiresAt"] is not None  # patch keeps the expiry
    before = await snapshot(runtime.store)
    cases = [
        ({"op": "add"}, 422, "state-invalid-patch"),
        ([{"op": "jump", "path": "/n"}], 422, "state-invalid-patch"),
        ([{"op": "remove", "path": "/missing"}], 422, "state-invalid-patch"),
        ([{"op": "replace", "path": "bad-pointer", "value": 1}], 422, "state-invalid-patch"),
        ([{"op": "test", "path": "/n", "value": 5}], 409, "state-patch-test-failed"),
        ([{"op": "add", "path": "/x", "value": float("inf")}], 400, "malformed-json"),
    ]
    for body, status, slug in cases:
        raw = json.dumps(body).encode()
        r = await send(http, owner, "PATCH", path, raw=raw, headers={"if-match": '"2"'})
        problem(r, status, slug)
    r = await send(http, owner, "PATCH", path, ok, headers={"if-match": '"1"'})
    assert problem(r, 412, "state-version-mismatch")["currentVersion"] == 2
    r = await send(http, owner, "PATCH", path, ok)
    problem(r, 428, "state-precondition-required")
    r = await send(
        http, owner, "PATCH", f"/v1/state/{NS}/docs/nothing", ok, headers={"if-match": '"1"'}
    )
    problem(r, 404, "state-document-not-found")
    assert await snapshot(runtime.store) == before


@pytest.mark.req("STATE-015")
async def test_delete(http: httpx.AsyncClient, board: StateClient, owner: SigningKey) -> None:
    path = f"/v1/state/{NS}/docs/gone"
    await board.put(NS, "gone", 1, create=True)
    r = await send(http, owner, "DELETE", path)
    problem(r, 428, "state-precondition-required")
    r = await send(http, owner, "DELETE", path, headers={"if-match": '"7"'})
    problem(r, 412, "state-version-mismatch")
    r = await send(http, owner, "DELETE", path, headers={"if-match": '"1"'})
    assert r.status_code == 200
    assert r.json()["op"] == "delete"
    assert r.json()["version"] == 2
    assert "etag" not in r.headers
    problem(await send(http, owner, "GET", path), 404, "state-document-not-found")
    problem(
        await send(http, owner, "DELETE", path, headers={"if-match": '"2"'}),
        404,
        "state-document-not-found",
    )
    created = await board.put(NS, "gone", 2, create=True)
    assert created["version"] == 3


@pytest.mark.req("STATE-016")
async def test_values_must_be_canonical_json(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    path = f"/v1/state/{NS}/docs/v"
    before = await snapshot(runtime.store)
    for raw, status, slug in [
        (b"{not json", 400, "malformed-json"),
        (b"", 400, "malformed-json"),
        (b"\xff\xfe", 400, "malformed-json"),
        (b"NaN", 400, "malformed-json"),
        (b"123456789012345678901234567890", 422, "not-canonicalizable"),
    ]:
        r = await send(http, owner, "PUT", path, raw=raw, headers={"if-none-match": "*"})
        problem(r, status, slug)
    assert await snapshot(runtime.store) == before
    await board.put(NS, "v", {"b": 1.0, "a": "x"}, create=True)
    assert (await runtime.store.read(NS, "v")).value_json == '{"a":"x","b":1}'  # type: ignore[union-attr]


@pytest.mark.req("STATE-003")
@pytest.mark.req("STATE-004")
@pytest.mark.req("STATE-021")
async def test_acl_reads_and_writes(
    http: httpx.AsyncClient,
    client_for: Clients,
    owner: SigningKey,
    writer: SigningKey,
    stranger: SigningKey,
    runtime: StateRuntime,
) -> None:
    reader = SigningKey.generate()
    admin = client_for(owner)
    await admin.put_namespace(NS, writers=[writer.did], readers=[reader.did])
    await client_for(writer).put(NS, "k", {"by": "writer"}, create=True)
    assert (await client_for(reader).get(NS, "k"))["writer"] == writer.did
    before = await snapshot(runtime.store)
    for key in (reader, stranger):
        r = await send(http, key, "PUT", f"/v1/state/{NS}/docs/k", 1, headers={"if-match": "*"})
        problem(r, 403, "state-forbidden")
        r = await send(
            http,
            key,
            "POST",
            f"/v1/state/{NS}/batch",
            {"operations": [{"op": "put", "key": "z", "value": 1, "ifNoneMatch": "*"}]},
        )
        problem(r, 403, "state-forbidden")
    for path in (
        f"/v1/state/{NS}/docs/k",
        f"/v1/state/{NS}/docs",
        f"/v1/state/{NS}/history/k",
        f"/v1/state/{NS}",
    ):
        problem(await send(http, stranger, "GET", path), 403, "state-forbidden")
        problem(await http.get(path), 403, "state-forbidden")
        assert (await send(http, reader, "GET", path)).status_code == 200
    assert await snapshot(runtime.store) == before
    await admin.put_namespace(NS, writers=[writer.did], public_read=True)
    assert (await http.get(f"/v1/state/{NS}/docs/k")).json()["value"] == {"by": "writer"}
    assert (await client_for(None).get(NS, "k"))["version"] == 1


@pytest.mark.req("STATE-004")
@pytest.mark.req("STATE-021")
async def test_forged_and_replayed_signatures_change_nothing(
    http: httpx.AsyncClient,
    board: StateClient,
    owner: SigningKey,
    stranger: SigningKey,
    runtime: StateRuntime,
) -> None:
    path = f"/v1/state/{NS}/docs/k"
    await board.put(NS, "k", 1, create=True)
    before = await snapshot(runtime.store)
    content, headers = signed_request(owner, "PUT", path, 2, headers={"if-match": '"1"'})
    # the body changed after signing
    problem(await http.put(path, content=b"3", headers=headers), 401, "content-digest-mismatch")
    # the body and its digest changed: the signature no longer verifies
    from woa_protocol import content_digest

    forged = {**headers, "content-digest": content_digest(b"3")}
    problem(await http.put(path, content=b"3", headers=forged), 401, "signature-invalid")
    # a stranger's signature relabelled as the owner's
    _, theirs = signed_request(stranger, "PUT", path, 2, headers={"if-match": '"1"'})
    swapped = {
        **theirs,
        "signature-input": theirs["signature-input"].replace(stranger.did, owner.did),
    }
    problem(await http.put(path, content=content, headers=swapped), 401, "signature-invalid")
    # another path than the one signed
    problem(
        await http.put(f"/v1/state/{NS}/docs/other", content=content, headers=headers),
        401,
        "signature-invalid",
    )
    assert await snapshot(runtime.store) == before
    # the genuine request succeeds once, and its replay is refused
    assert (await http.put(path, content=content, headers=headers)).status_code == 200
    after = await snapshot(runtime.store)
    problem(await http.put(path, content=content, headers=headers), 401, "signature-replayed")
    assert await snapshot(runtime.store) == after


@pytest.mark.req("STATE-020")
@pytest.mark.req("STATE-021")
async def test_batch(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    await board.put(NS, "a", {"n": 1}, create=True)
    changes = await board.batch(
        NS,
        [
            {"op": "check", "key": "a", "ifMatch": '"1"'},
            {"op": "put", "key": "b", "value": [1], "ifNoneMatch": "*", "ttlSeconds": 60},
            {"op": "check", "key": "c", "ifNoneMatch": "*"},
        ],
    )
    assert [(c["key"], c["version"], c["op"]) for c in changes] == [("b", 1, "put")]
    before = await snapshot(runtime.store)
    cases = [
        (
            [
                {"op": "put", "key": "c", "value": 1, "ifNoneMatch": "*"},
                {"op": "delete", "key": "a", "ifMatch": '"9"'},
            ],
            412,
            "state-version-mismatch",
            1,
        ),
        (
            [
                {
                    "op": "patch",
                    "key": "a",
                    "patch": [{"op": "test", "path": "/n", "value": 2}],
                    "ifMatch": '"1"',
                }
            ],
            409,
            "state-patch-test-failed",
            None,
        ),
        (
            [
                {"op": "put", "key": "c", "value": 1, "ifNoneMatch": "*"},
                {"op": "check", "key": "b", "ifNoneMatch": "*"},
            ],
            412,
            "state-already-exists",
            1,
        ),
        ([{"op": "put", "key": "c", "value": 1}], 428, "state-precondition-required", None),
        ([{"op": "put", "key": "c", "ifNoneMatch": "*"}], 422, "invalid-request", None),
        (
            [
                {"op": "put", "key": "c", "value": 1, "ifNoneMatch": "*"},
                {"op": "put", "key": "c", "value": 2, "ifNoneMatch": "*"},
            ],
            422,
            "invalid-request",
            None,
        ),
        ([{"op": "fly", "key": "c"}], 422, "invalid-request", None),
        ([], 422, "invalid-request", None),
        (
            [
                {"op": "delete", "key": "zz", "ifMatch": '"1"'},
                {"op": "put", "key": "c", "value": 1, "ifNoneMatch": "*"},
            ],
            404,
            "state-document-not-found",
            0,
        ),
    ]
    for ops, status, slug, index in cases:
        r = await send(http, owner, "POST", f"/v1/state/{NS}/batch", {"operations": ops})
        body = problem(r, status, slug)
        assert body.get("operation") == index
    assert await snapshot(runtime.store) == before


@pytest.mark.req("STATE-023")
async def test_quotas(
    monkeypatch: pytest.MonkeyPatch, state_settings: Any, owner: SigningKey
) -> None:
    from woa_registry import create_app

    from .._support import BASE, REGISTRY_KEY

    for name, value in {
        "MAX_DOCUMENT_BYTES": 64,
        "MAX_NAMESPACE_BYTES": 100,
        "MAX_NAMESPACE_DOCUMENTS": 3,
        "MAX_BATCH_OPERATIONS": 4,
    }.items():
        monkeypatch.setenv(f"WOA_STATE_{name}", str(value))
    app = create_app(state_settings.model_copy(update={"max_body_bytes": 2048}), key=REGISTRY_KEY)
    async with app.router.lifespan_context(app):
        store = app.state.woa_state.store
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
            assert (await send(http, owner, "PUT", f"/v1/state/{NS}", {})).status_code == 201

            async def put(key: str, value: Any) -> httpx.Response:
                return await send(
                    http,
                    owner,
                    "PUT",
                    f"/v1/state/{NS}/docs/{key}",
                    value,
                    headers={"if-none-match": "*"},
                )

            body = problem(await put("big", "x" * 63), 413, "state-too-large")
            assert body["limit"] == 64
            assert body["size"] == 65
            assert (await put("a", "x" * 40)).status_code == 201  # 42 bytes
            assert (await put("b", "x" * 40)).status_code == 201  # 84 bytes
            before = await snapshot(store)
            body = problem(await put("c", "x" * 20), 413, "state-too-large")
            assert body["limit"] == 100
            assert body["size"] == 106
            assert (await put("c", 1)).status_code == 201
            body = problem(await put("d", 1), 413, "state-too-large")
            assert body["limit"] == 3
            assert body["size"] == 4
            ops = [{"op": "check", "key": f"k{i}", "ifNoneMatch": "*"} for i in range(5)]
            r = await send(http, owner, "POST", f"/v1/state/{NS}/batch", {"operations": ops})
            assert problem(r, 413, "state-too-large")["limit"] == 4
            problem(await put("e", "y" * 3000), 413, "payload-too-large")
            added = (await snapshot(store))[2][len(before[2]) :]
            assert [(c["key"], c["value"]) for c in added] == [("c", 1)]
            # shrinking writes are allowed even at the quota
            r = await send(
                http, owner, "PUT", f"/v1/state/{NS}/docs/a", "", headers={"if-match": "*"}
            )
            assert r.status_code == 200


@pytest.mark.req("STATE-018")
async def test_list_pages_and_bad_cursor(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey
) -> None:
    await board.batch(
        NS, [{"op": "put", "key": f"t/{i:02d}", "value": i, "ifNoneMatch": "*"} for i in range(7)]
    )
    keys: list[str] = []
    cursor = None
    while True:
        page = await board.list_documents(NS, prefix="t/", limit=3, cursor=cursor)
        assert all("value" not in d for d in page["documents"])
        keys += [d["key"] for d in page["documents"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert keys == [f"t/{i:02d}" for i in range(7)]
    r = await send(http, owner, "GET", f"/v1/state/{NS}/docs?cursor=%25%25%25")
    problem(r, 400, "invalid-cursor")
    r = await send(http, owner, "GET", f"/v1/state/{NS}/docs?limit=0")
    problem(r, 422, "invalid-request")


@pytest.mark.req("STATE-005")
async def test_namespaces_by_context(
    client_for: Clients, owner: SigningKey, stranger: SigningKey
) -> None:
    admin = client_for(owner)
    await admin.put_namespace("task-a", context_id="ctx-9")
    await admin.put_namespace("task-b", context_id="ctx-9", public_read=True)
    await admin.put_namespace("task-c", context_id="ctx-1")
    assert [n["namespace"] for n in await admin.namespaces_for_context("ctx-9")] == [
        "task-a",
        "task-b",
    ]
    assert [n["namespace"] for n in await client_for(stranger).namespaces_for_context("ctx-9")] == [
        "task-b"
    ]


async def test_whoami_echoes_the_verified_signer(client_for: Clients, owner: SigningKey) -> None:
    assert await client_for(owner).whoami() == owner.did
    with pytest.raises(StateClientError) as info:
        await client_for(None).whoami()
    assert info.value.status == 401


@pytest.mark.req("STATE-017")
async def test_the_sweeper_records_expiry(
    monkeypatch: pytest.MonkeyPatch, state_settings: Any, owner: SigningKey
) -> None:
    from woa_registry import create_app

    from .._support import BASE, REGISTRY_KEY, wait_until

    monkeypatch.setenv("WOA_STATE_SWEEP_INTERVAL_SECONDS", "0.05")
    app = create_app(state_settings, key=REGISTRY_KEY)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with StateClient(BASE, owner, transport=transport) as client:
            await client.put_namespace(NS)
            await client.put(NS, "short", "lived", create=True, ttl=1)
            await client.put(NS, "long", "lived", create=True, ttl=3600)

            async def expired() -> bool:
                entries = await client.history(NS, "short")
                return bool(entries[-1]["op"] == "expire")

            await wait_until(expired, timeout=15)
            entries = await client.history(NS, "short")
            assert [(e["version"], e["op"], e["writer"]) for e in entries] == [
                (1, "put", owner.did),
                (2, "expire", None),
            ]
            assert "request" not in entries[1]
            assert (await client.get(NS, "long"))["version"] == 1
            with pytest.raises(StateClientError) as info:
                await client.get(NS, "short")
            assert info.value.status == 404
