"""Shared-state checks (registry target): namespaces, ACLs, CAS, patch, batch, history, watch.

Each check creates its own namespace ``woa-conformance-<random>`` owned by a throwaway key.
The spec has no way to delete a namespace, so these stay behind (empty: every document a
check writes is deleted again); the report lists them under ``leftBehind``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from woa_protocol import (
    FrameVerifier,
    HttpRequest,
    InvalidSignatureError,
    MessageVerifier,
    ReplayGuard,
    SigningKey,
    WoaError,
    canonicalize,
)

from ..core import check, require
from ..target import Reply, Target, WsClosed
from ._helpers import expect_problem


async def _namespace(target: Target, owner: SigningKey, **acl: Any) -> str:
    name = target.unique()
    body = {"writers": [], "readers": [], "publicRead": False, **acl}
    reply = await target.send("PUT", f"/v1/state/{name}", body=body, key=owner)
    require(reply.status == 201, "STATE-002", f"creating namespace {name}: {reply.describe()}")
    target.left_behind.append(f"state namespace {name} (owner {owner.did})")
    return name


async def _put(
    target: Target, key: SigningKey, ns: str, doc: str, value: Any, **headers: str
) -> Reply:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return await target.send("PUT", f"/v1/state/{ns}/docs/{doc}", body=value, key=key, headers=hdrs)


async def _delete_all(target: Target, key: SigningKey, ns: str, docs: list[str]) -> None:
    for doc in docs:
        got = await target.send("GET", f"/v1/state/{ns}/docs/{doc}", key=key)
        if got.status == 200:
            etag = got.headers.get("etag", "*")
            await target.send(
                "DELETE", f"/v1/state/{ns}/docs/{doc}", key=key, headers={"if-match": etag}
            )


@check("registry", "STATE-001", "STATE-002")
async def check_namespaces(target: Target) -> None:
    """Namespaces: created by the caller as owner; only the owner changes the ACL; names checked."""
    owner, other = target.new_key(), target.new_key()
    ns = await _namespace(target, owner)
    got = await target.send("GET", f"/v1/state/{ns}", key=owner)
    body = got.json() or {}
    require(
        got.status == 200 and body.get("owner") == owner.did,
        "STATE-002",
        f"GET namespace: {got.describe()}",
    )
    for member in ("writers", "readers", "publicRead", "bytesUsed", "documentCount"):
        require(member in body, "STATE-002", f"namespace lacks {member!r}")
    reply = await target.send("PUT", f"/v1/state/{ns}", body={"writers": [other.did]}, key=other)
    expect_problem(reply, "state-forbidden", 403, "STATE-002", "a non-owner replacing the ACL")
    reply = await target.send(
        "PUT",
        f"/v1/state/{ns}",
        body={"writers": [other.did], "readers": [], "publicRead": False},
        key=owner,
    )
    require(reply.status == 200, "STATE-002", f"the owner replacing the ACL: {reply.describe()}")
    reply = await target.send("PUT", "/v1/state/bad%20name!", body={}, key=owner)
    expect_problem(reply, "invalid-request", 422, "STATE-001", "namespace 'bad name!'")
    for bad_key in (".hidden", "a//b"):
        reply = await _put(target, owner, ns, bad_key, 1, if_none_match="*")
        expect_problem(reply, "invalid-request", 422, "STATE-001", f"document key {bad_key!r}")


@check("registry", "STATE-003", "STATE-004")
async def check_acl(target: Target) -> None:
    """Only owner/writers write; readers read; strangers and unsigned readers are refused."""
    owner, writer, reader, stranger = (target.new_key() for _ in range(4))
    ns = await _namespace(target, owner, writers=[writer.did], readers=[reader.did])
    reply = await _put(target, writer, ns, "acl/doc", {"v": 1}, if_none_match="*")
    require(reply.status == 201, "STATE-003", f"a writer's create: {reply.describe()}")
    path = f"/v1/state/{ns}/docs/acl/doc"
    require(
        (await target.send("GET", path, key=reader)).status == 200,
        "STATE-003",
        "a reader cannot read",
    )
    expect_problem(
        await target.send("GET", path), "state-forbidden", 403, "STATE-003", "an unsigned read"
    )
    expect_problem(
        await target.send("GET", path, key=stranger),
        "state-forbidden",
        403,
        "STATE-003",
        "a stranger's read",
    )
    expect_problem(
        await target.send("GET", f"/v1/state/{ns}/docs", key=stranger),
        "state-forbidden",
        403,
        "STATE-003",
        "a stranger's listing",
    )
    reply = await _put(target, reader, ns, "acl/doc", {"v": 2}, if_match="*")
    expect_problem(reply, "state-forbidden", 403, "STATE-004", "a reader's write")
    reply = await _put(target, stranger, ns, "acl/other", {"v": 2}, if_none_match="*")
    expect_problem(reply, "state-forbidden", 403, "STATE-004", "a stranger's write")
    reply = await target.send("PUT", f"{path}", body={"v": 3}, headers={"if-match": "*"})
    expect_problem(reply, "signature-missing", 401, "STATE-004", "an unsigned write")
    history = (await target.send("GET", f"/v1/state/{ns}/history/acl/doc", key=owner)).json() or {}
    require(
        [e.get("writer") for e in history.get("entries", [])] == [writer.did],
        "STATE-004",
        "history does not record the writer (or records a refused write)",
    )
    await target.send(
        "PUT",
        f"/v1/state/{ns}",
        body={"writers": [writer.did], "readers": [], "publicRead": True},
        key=owner,
    )
    require(
        (await target.send("GET", path)).status == 200,
        "STATE-003",
        "publicRead does not let an unsigned caller read",
    )
    await _delete_all(target, owner, ns, ["acl/doc"])


@check("registry", "STATE-005")
async def check_context_listing(target: Target) -> None:
    """GET /v1/state?contextId= lists the namespaces tied to that A2A context."""
    owner = target.new_key()
    context = target.unique("ctx")
    ns = await _namespace(target, owner, contextId=context)
    reply = await target.send("GET", f"/v1/state?contextId={context}", key=owner)
    names = [n.get("name", n.get("namespace")) for n in (reply.json() or {}).get("namespaces", [])]
    require(ns in names, "STATE-005", f"contextId listing: {reply.describe()}")


@check("registry", "STATE-010", "STATE-011", "STATE-012", "STATE-013", "STATE-015")
async def check_documents_and_cas(target: Target) -> None:
    """Create, compare-and-set, stale versions refused, delete; versions never reused."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    doc = "cas/doc"
    path = f"/v1/state/{ns}/docs/{doc}"
    reply = await _put(target, owner, ns, doc, {"n": 1})
    expect_problem(
        reply, "state-precondition-required", 428, "STATE-012", "a PUT without precondition"
    )
    reply = await _put(target, owner, ns, doc, {"n": 1}, if_none_match="*")
    require(
        reply.status == 201 and reply.headers.get("etag") == '"1"',
        "STATE-010",
        f"create: {reply.describe()} etag {reply.headers.get('etag')}",
    )
    got = await target.send("GET", path, key=owner)
    body = got.json() or {}
    for member in (
        "namespace",
        "key",
        "value",
        "version",
        "writer",
        "updatedAt",
        "expiresAt",
        "rev",
    ):
        require(member in body, "STATE-011", f"document lacks {member!r}")
    require(
        body.get("value") == {"n": 1} and got.headers.get("etag") == '"1"',
        "STATE-011",
        f"GET: {got.describe()}",
    )
    reply = await _put(target, owner, ns, doc, {"n": 2}, if_match='"1"')
    require(
        reply.status == 200 and reply.headers.get("etag") == '"2"',
        "STATE-012",
        f"CAS at 1: {reply.describe()}",
    )
    reply = await _put(target, owner, ns, doc, {"n": 3}, if_match='"1"')
    expect_problem(reply, "state-version-mismatch", 412, "STATE-013", "a stale If-Match")
    require(
        (reply.json() or {}).get("currentVersion") == 2,
        "STATE-013",
        "version-mismatch lacks currentVersion 2",
    )
    reply = await _put(target, owner, ns, doc, {"n": 3}, if_match='W/"2"')
    expect_problem(reply, "state-version-mismatch", 412, "STATE-013", "a weak ETag")
    reply = await _put(target, owner, ns, doc, {"n": 3}, if_none_match="*")
    expect_problem(
        reply, "state-already-exists", 412, "STATE-013", "If-None-Match * on a live document"
    )
    reply = await target.send("DELETE", path, key=owner, headers={"if-match": '"2"'})
    require(reply.status == 200, "STATE-015", f"DELETE at 2: {reply.describe()}")
    expect_problem(
        await target.send("GET", path, key=owner),
        "state-document-not-found",
        404,
        "STATE-011",
        "GET a deleted document",
    )
    reply = await _put(target, owner, ns, doc, {"n": 4}, if_none_match="*")
    require(
        reply.status == 201 and reply.headers.get("etag") == '"4"',
        "STATE-010",
        f"re-create after delete must be version 4: {reply.describe()} "
        f"etag {reply.headers.get('etag')}",
    )
    reply = await _put(target, owner, ns, doc, {"n": 5}, if_match='"2"')
    expect_problem(
        reply,
        "state-version-mismatch",
        412,
        "STATE-013",
        "If-Match naming a version from before the delete",
    )
    unknown = await target.send("GET", f"/v1/state/{target.unique()}/docs/x", key=owner)
    expect_problem(unknown, "state-namespace-not-found", 404, "STATE-011", "an unknown namespace")
    await _delete_all(target, owner, ns, [doc])


@check("registry", "STATE-014")
async def check_patch(target: Target) -> None:
    """JSON Patch applies to the named version; bad patches and failed tests are refused."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    doc = "patch/doc"
    path = f"/v1/state/{ns}/docs/{doc}"
    await _put(target, owner, ns, doc, {"items": [1]}, if_none_match="*")
    ctype = "application/json-patch+json"
    ops = [{"op": "add", "path": "/items/-", "value": 2}]
    reply = await target.send(
        "PATCH", path, body=ops, key=owner, headers={"if-match": '"1"'}, content_type=ctype
    )
    require(reply.status == 200, "STATE-014", f"patch: {reply.describe()}")
    got = (await target.send("GET", path, key=owner)).json() or {}
    require(
        got.get("value") == {"items": [1, 2]} and got.get("version") == 2,
        "STATE-014",
        f"after patch: {got}",
    )
    reply = await target.send("PATCH", path, body=ops, key=owner, content_type=ctype)
    expect_problem(reply, "state-precondition-required", 428, "STATE-014", "PATCH without If-Match")
    reply = await target.send(
        "PATCH",
        path,
        body=[{"op": "jump"}],
        key=owner,
        headers={"if-match": '"2"'},
        content_type=ctype,
    )
    expect_problem(reply, "state-invalid-patch", 422, "STATE-014", "an unknown patch op")
    reply = await target.send(
        "PATCH",
        path,
        body=[{"op": "remove", "path": "/nope"}],
        key=owner,
        headers={"if-match": '"2"'},
        content_type=ctype,
    )
    expect_problem(reply, "state-invalid-patch", 422, "STATE-014", "removing a missing path")
    reply = await target.send(
        "PATCH",
        path,
        body=[{"op": "test", "path": "/items/0", "value": 9}],
        key=owner,
        headers={"if-match": '"2"'},
        content_type=ctype,
    )
    expect_problem(reply, "state-patch-test-failed", 409, "STATE-014", "a failing test op")
    reply = await target.send(
        "PATCH",
        f"/v1/state/{ns}/docs/none",
        body=ops,
        key=owner,
        headers={"if-match": "*"},
        content_type=ctype,
    )
    expect_problem(
        reply, "state-document-not-found", 404, "STATE-014", "PATCH of a missing document"
    )
    got = (await target.send("GET", path, key=owner)).json() or {}
    require(got.get("version") == 2, "STATE-021", f"a refused patch changed the document: {got}")
    await _delete_all(target, owner, ns, [doc])


@check("registry", "STATE-016", "JCS-002", "JCS-004")
async def check_values(target: Target) -> None:
    """Values are JSON with an RFC 8785 form: else malformed-json (400), not-canonicalizable."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    path = f"/v1/state/{ns}/docs/val"
    reply = await target.send("PUT", path, raw=b'{"a": ', key=owner, headers={"if-none-match": "*"})
    expect_problem(reply, "malformed-json", 400, "STATE-016", "a body that is not JSON")
    reply = await target.send(
        "PUT", path, raw=b'{"a": 1152921504606846976}', key=owner, headers={"if-none-match": "*"}
    )
    expect_problem(reply, "not-canonicalizable", 422, "JCS-002", "the integer 2**60")
    for depth in (129, 100_000):
        deep = ("[" * depth + "]" * depth).encode()
        reply = await target.send("PUT", path, raw=deep, key=owner, headers={"if-none-match": "*"})
        expect_problem(reply, "not-canonicalizable", 422, "JCS-004", f"{depth} nested arrays")
    reply = await target.send(
        "PUT",
        path,
        raw='{"é": [1.5e300, "\\ud83d\\ude00"]}'.encode(),
        key=owner,
        headers={"if-none-match": "*"},
    )
    require(
        reply.status == 201, "STATE-016", f"a canonicalizable value was refused: {reply.describe()}"
    )
    await _delete_all(target, owner, ns, ["val"])


@check("registry", "STATE-017")
async def check_ttl(target: Target) -> None:
    """A document past its TTL reads as absent and can be created again."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    reply = await target.send(
        "PUT",
        f"/v1/state/{ns}/docs/ttl?ttl=1",
        body={"t": 1},
        key=owner,
        headers={"if-none-match": "*"},
    )
    require(reply.status == 201, "STATE-017", f"PUT with ttl=1: {reply.describe()}")
    await asyncio.sleep(2.2)
    got = await target.send("GET", f"/v1/state/{ns}/docs/ttl", key=owner)
    expect_problem(got, "state-document-not-found", 404, "STATE-017", "GET after the TTL")
    listing = (await target.send("GET", f"/v1/state/{ns}/docs", key=owner)).json() or {}
    require(not listing.get("documents"), "STATE-017", f"an expired document is listed: {listing}")
    reply = await _put(target, owner, ns, "ttl", {"t": 2}, if_none_match="*")
    require(reply.status == 201, "STATE-017", f"re-create after expiry: {reply.describe()}")
    await _delete_all(target, owner, ns, ["ttl"])


@check("registry", "STATE-018")
async def check_listing(target: Target) -> None:
    """Listing by prefix, in key order, without values, paged by opaque cursors."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    keys = ["a/2", "a/1", "b/1", "a/3"]
    for k in keys:
        await _put(target, owner, ns, k, {"k": k}, if_none_match="*")
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        reply = await target.send(
            "GET",
            f"/v1/state/{ns}/docs?prefix=a/&limit=2" + (f"&cursor={cursor}" if cursor else ""),
            key=owner,
        )
        page = reply.json() or {}
        require(reply.status == 200, "STATE-018", f"listing: {reply.describe()}")
        for d in page.get("documents", []):
            require("value" not in d, "STATE-018", "a listing carries values")
            seen.append(d.get("key"))
        cursor = page.get("nextCursor") or ""
        if not cursor:
            break
    require(seen == ["a/1", "a/2", "a/3"], "STATE-018", f"prefix a/ listed {seen}")
    reply = await target.send("GET", f"/v1/state/{ns}/docs?cursor=not-ours", key=owner)
    expect_problem(reply, "invalid-cursor", 400, "STATE-018", "a foreign cursor")
    await _delete_all(target, owner, ns, keys)


@check("registry", "STATE-020", "STATE-021")
async def check_batch(target: Target) -> None:
    """A batch applies every operation or none; a failure names its operation."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    path = f"/v1/state/{ns}/batch"
    ok = {
        "operations": [
            {"op": "put", "key": "b/1", "value": 1, "ifNoneMatch": "*"},
            {"op": "put", "key": "b/2", "value": 2, "ifNoneMatch": "*"},
        ]
    }
    reply = await target.send("POST", path, body=ok, key=owner)
    changes = (reply.json() or {}).get("changes", [])
    require(
        reply.status == 200 and [c.get("key") for c in changes] == ["b/1", "b/2"],
        "STATE-020",
        f"batch: {reply.describe()}",
    )
    bad = {
        "operations": [
            {"op": "put", "key": "b/3", "value": 3, "ifNoneMatch": "*"},
            {"op": "check", "key": "b/1", "ifMatch": '"7"'},
        ]
    }
    reply = await target.send("POST", path, body=bad, key=owner)
    expect_problem(reply, "state-version-mismatch", 412, "STATE-020", "a batch whose check fails")
    require(
        (reply.json() or {}).get("operation") == 1,
        "STATE-020",
        "the problem does not name operation 1",
    )
    got = await target.send("GET", f"/v1/state/{ns}/docs/b/3", key=owner)
    require(got.status == 404, "STATE-021", "a failed batch stored its first operation")
    dup = {
        "operations": [
            {"op": "put", "key": "b/4", "value": 1, "ifNoneMatch": "*"},
            {"op": "delete", "key": "b/4", "ifMatch": "*"},
        ]
    }
    reply = await target.send("POST", path, body=dup, key=owner)
    require(
        400 <= reply.status < 500 and reply.status != 404,
        "STATE-020",
        f"a key twice in one batch: {reply.describe()}",
    )
    ns_after = (await target.send("GET", f"/v1/state/{ns}", key=owner)).json() or {}
    require(
        ns_after.get("documentCount") == 2,
        "STATE-021",
        f"usage changed by failed batches: {ns_after}",
    )
    await _delete_all(target, owner, ns, ["b/1", "b/2"])


@check("registry", "STATE-022")
async def check_linearizable(target: Target) -> None:
    """Concurrent compare-and-set increments never lose an acknowledged update."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    path = f"/v1/state/{ns}/docs/counter"
    await _put(target, owner, ns, "counter", {"n": 0}, if_none_match="*")

    async def increment() -> None:
        for _ in range(20):
            got = await target.send("GET", path, key=owner)
            value = (got.json() or {}).get("value", {}).get("n", 0)
            reply = await _put(
                target,
                owner,
                ns,
                "counter",
                {"n": value + 1},
                if_match=got.headers.get("etag", '"0"'),
            )
            if reply.status == 200:
                return
        require(False, "STATE-022", "an increment never got through")

    await asyncio.gather(*(increment() for _ in range(5)))
    final = (await target.send("GET", path, key=owner)).json() or {}
    require(
        final.get("value") == {"n": 5},
        "STATE-022",
        f"5 acknowledged increments gave {final.get('value')}",
    )
    await _delete_all(target, owner, ns, ["counter"])


def _verifier_at(when: float) -> MessageVerifier:
    """A verifier whose clock reads ``when``, with an empty replay cache (STATE-032)."""
    return MessageVerifier(replay_guard=ReplayGuard(clock=lambda: when), clock=lambda: when)


def _entry_request(entry: dict[str, Any]) -> tuple[HttpRequest, float]:
    request = entry["request"]
    from datetime import datetime

    received = datetime.fromisoformat(str(request["receivedAt"]).replace("Z", "+00:00")).timestamp()
    http = HttpRequest(
        request["method"],
        request["targetUri"],
        dict(request["headers"]),
        base64.b64decode(request["body"]),
    )
    return http, received


@check("registry", "STATE-030", "STATE-031", "STATE-032")
async def check_history(target: Target) -> None:
    """History lists each change with its signed request, verifiable offline."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    doc = "hist/doc"
    await _put(target, owner, ns, doc, {"v": 1}, if_none_match="*")
    await _put(target, owner, ns, doc, {"v": 2}, if_match='"1"')
    await target.send(
        "DELETE", f"/v1/state/{ns}/docs/{doc}", key=owner, headers={"if-match": '"2"'}
    )
    reply = await target.send("GET", f"/v1/state/{ns}/history/{doc}", key=owner)
    entries = (reply.json() or {}).get("entries", [])
    require(
        reply.status == 200 and [e.get("op") for e in entries] == ["put", "put", "delete"],
        "STATE-031",
        f"history: {reply.describe()}",
    )
    revs = [e.get("rev") for e in entries]
    require(
        all(isinstance(r, int) for r in revs) and revs == sorted(set(revs)),
        "STATE-030",
        f"revisions {revs}",
    )
    for member in (
        "rev",
        "namespace",
        "key",
        "version",
        "op",
        "value",
        "writer",
        "at",
        "expiresAt",
    ):
        require(member in entries[0], "STATE-030", f"a change lacks {member!r}")
    for entry in entries:
        require(
            isinstance(entry.get("request"), dict),
            "STATE-031",
            "an entry of a signed write has no request",
        )
        http, received = _entry_request(entry)
        verifier = _verifier_at(received)
        try:
            verified = verifier.verify_request(http)
        except WoaError as exc:
            require(False, "STATE-032", f"entry {entry['rev']} does not verify: {exc.detail}")
        require(
            verified.did == entry["writer"] == owner.did,
            "STATE-032",
            "the signer is not the entry's writer",
        )
        require(
            http.url.endswith(f"/v1/state/{ns}/docs/{doc}"),
            "STATE-032",
            f"signed target {http.url}",
        )
        if entry["op"] == "put":
            require(
                canonicalize(json.loads(http.body)) == canonicalize(entry["value"]),
                "STATE-032",
                "signed body differs from the value",
            )
        forged = dict(entry["request"])
        forged["body"] = base64.b64encode(b'{"v": 666}').decode()
        tampered, _ = _entry_request({**entry, "request": forged})
        try:
            _verifier_at(received).verify_request(tampered)
            require(False, "STATE-032", "a tampered entry still verifies")
        except WoaError:
            pass
    missing = await target.send("GET", f"/v1/state/{ns}/history/never", key=owner)
    expect_problem(
        missing, "state-document-not-found", 404, "STATE-031", "history of a key never written"
    )


@check("registry", "STATE-044")
async def check_watch_frames_signed(target: Target) -> None:
    """Every watch frame, hello included, is signed by the registry for the subscription."""
    frames = FrameVerifier(str((await target.registry_description()).get("did")))
    owner = target.new_key()
    ns = await _namespace(target, owner)
    path = f"/v1/state/{ns}/watch?subscription={frames.subscription}"
    async with target.websocket(path, key=owner) as ws:
        raws = [await ws.receive_text()]
        await _put(target, owner, ns, "signed", {"a": 1}, if_none_match="*")
        raws.append(await ws.receive_text())
    for raw in raws:
        try:
            frame = frames.verify(raw)
        except InvalidSignatureError as exc:
            require(False, "STATE-044", f"watch frame {frames.received}: {exc.detail}")
    require(frame.get("type") == "change", "STATE-044", f"second frame {frame}")


@check("registry", "STATE-040", "STATE-041")
async def check_watch(target: Target) -> None:
    """Watch: hello, each change once in order; resume after the last revision; refusals."""
    owner, stranger = target.new_key(), target.new_key()
    ns = await _namespace(target, owner)
    async with target.websocket(f"/v1/state/{ns}/watch?prefix=w/", key=owner) as ws:
        hello = await ws.receive_json()
        require(
            hello.get("type") == "hello" and isinstance(hello.get("since"), int),
            "STATE-040",
            f"first frame {hello}",
        )
        await _put(target, owner, ns, "w/1", {"a": 1}, if_none_match="*")
        await _put(target, owner, ns, "x/1", {"a": 1}, if_none_match="*")
        await _put(target, owner, ns, "w/1", {"a": 2}, if_match='"1"')
        first = await ws.receive_json()
        second = await ws.receive_json()
        require(
            [first.get("type"), second.get("type")] == ["change", "change"],
            "STATE-040",
            f"frames {first} {second}",
        )
        require(
            [first.get("key"), second.get("key")] == ["w/1", "w/1"],
            "STATE-040",
            "a change outside the prefix was sent",
        )
        require(first["rev"] < second["rev"], "STATE-040", "changes out of revision order")
    async with target.websocket(
        f"/v1/state/{ns}/watch?prefix=w/&since={first['rev']}", key=owner
    ) as ws:
        await ws.receive_json()  # hello
        again = await ws.receive_json()
        require(
            again.get("rev") == second["rev"],
            "STATE-040",
            f"resuming after {first['rev']} sent {again}",
        )
        extra = await ws.silent_for(0.3)
        require(extra is None, "STATE-040", f"a change repeated on resume: {extra}")
    for path, key, code in (
        (f"/v1/state/{ns}/watch", None, (4401, 4403)),
        (f"/v1/state/{ns}/watch", stranger, (4403,)),
        (f"/v1/state/{target.unique()}/watch", owner, (4404,)),
        (f"/v1/state/{ns}/watch?since=-5", owner, (4400,)),
    ):
        try:
            async with target.websocket(path, key=key) as ws:
                frame = await ws.receive_json()
                require(
                    False,
                    "STATE-041",
                    f"{path} by {'unsigned' if key is None else 'a stranger'} got {frame}",
                )
        except WsClosed as closed:
            require(
                closed.code in code, "STATE-041", f"{path}: closed {closed.code}, expected {code}"
            )
        except TimeoutError:
            require(False, "STATE-041", f"{path}: neither refused nor served")
    await _delete_all(target, owner, ns, ["w/1", "x/1"])


@check("registry", "STATE-043")
async def check_watch_revocation(target: Target) -> None:
    """A reader removed from the ACL is disconnected (4403) and sent no further change."""
    owner, reader = target.new_key(), target.new_key()
    ns = await _namespace(target, owner, readers=[reader.did])
    try:
        async with target.websocket(f"/v1/state/{ns}/watch", key=reader) as ws:
            await ws.receive_json()
            await target.send(
                "PUT",
                f"/v1/state/{ns}",
                body={"writers": [], "readers": [], "publicRead": False},
                key=owner,
            )
            await _put(target, owner, ns, "secret", {"s": 1}, if_none_match="*")
            frame = await ws.receive_json(timeout=target.options.timeout)
            require(False, "STATE-043", f"a revoked reader received {frame}")
    except WsClosed as closed:
        require(closed.code == 4403, "STATE-043", f"closed with {closed.code}, expected 4403")
    except TimeoutError:
        require(
            False, "STATE-043", f"a revoked watcher stayed connected for {target.options.timeout} s"
        )
    finally:
        await _delete_all(target, owner, ns, ["secret"])


@check("registry", "STATE-006")
async def check_one_spelling(target: Target) -> None:
    """A state path holding a percent-encoded octet is invalid-request (422), before routing."""
    owner = target.new_key()
    ns = await _namespace(target, owner)
    for path in (f"/v1/state/{ns}/docs/a%2Fb", f"/v1/state/{ns}/docs/%41", "/v1/state/%41bc"):
        reply = await target.send(
            "PUT", path, body={"v": 1}, key=owner, headers={"if-none-match": "*"}
        )
        expect_problem(reply, "invalid-request", 422, "STATE-006", f"PUT {path}")
    listing = await target.send("GET", f"/v1/state/{ns}/docs?prefix=t%2F", key=owner)
    require(listing.status == 200, "STATE-006", f"a percent-encoded query: {listing.describe()}")
    try:
        async with target.websocket(f"/v1/state/{ns}/watch%2F", key=owner) as ws:
            frame = await ws.receive_json()
            require(False, "STATE-006", f"a watch on a percent-encoded path got {frame}")
    except WsClosed:
        pass
    except TimeoutError:
        require(
            False, "STATE-006", "a watch on a percent-encoded path was neither refused nor closed"
        )
