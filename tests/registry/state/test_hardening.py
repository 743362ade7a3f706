"""Shared state refuses hostile input with the documented problem and stores nothing."""

from __future__ import annotations

import httpx
import pytest

from woa_agents import StateClient
from woa_protocol import SigningKey
from woa_registry.state import StateRuntime

from ._support import NS, signed_request, snapshot
from .test_routes import board, problem, send

__all__ = ["board"]  # the fixture, shared with test_routes


@pytest.mark.req("JCS-006")
async def test_duplicate_names_in_documents_patches_and_bodies_are_refused(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    await board.put(NS, "doc", {"a": 1}, create=True)
    before = await snapshot(runtime.store)
    cases = [
        ("PUT", f"/v1/state/{NS}/docs/new", b'{"x":{"y":1,"y":2}}', {"if-none-match": "*"}, "$.x"),
        (
            "PATCH",
            f"/v1/state/{NS}/docs/doc",
            b'[{"op":"add","path":"/b","value":1,"value":2}]',
            {"if-match": '"1"', "content-type": "application/json-patch+json"},
            "$[0]",
        ),
        ("PUT", f"/v1/state/{NS}", b'{"publicRead":false,"publicRead":true}', {}, "$"),
        (
            "POST",
            f"/v1/state/{NS}/batch",
            b'{"operations":[{"op":"put","key":"k","key":"j","value":1,"ifNoneMatch":"*"}]}',
            {},
            "$.operations[0]",
        ),
    ]
    for method, path, raw, headers, where in cases:
        r = await send(http, owner, method, path, raw=raw, headers=headers)
        assert problem(r, 400, "duplicate-member-name")["path"] == where, path
    assert await snapshot(runtime.store) == before


@pytest.mark.req("MSG-012")
async def test_a_precondition_changed_in_transit_is_refused_and_nothing_applies(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    await board.put(NS, "cas", {"v": 1}, create=True)
    await board.put(NS, "cas", {"v": 2}, if_match=1)
    before = await snapshot(runtime.store)
    path = f"/v1/state/{NS}/docs/cas"
    content, headers = signed_request(owner, "PUT", path, {"v": 3}, headers={"if-match": '"1"'})
    headers["if-match"] = "*"  # a stale compare-and-set turned into a blind overwrite
    r = await http.put(path, content=content, headers=headers)
    problem(r, 401, "signature-invalid")
    content, headers = signed_request(owner, "PUT", path, {"v": 3})
    headers["if-match"] = "*"  # added after signing
    r = await http.put(path, content=content, headers=headers)
    assert "if-match" in problem(r, 401, "signature-invalid")["detail"]
    assert await snapshot(runtime.store) == before


@pytest.mark.req("STATE-006")
async def test_percent_encoded_state_paths_are_refused_before_routing(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    before = await snapshot(runtime.store)
    for method, path, body in [
        ("PUT", f"/v1/state/{NS}/docs/a%2Fb", 1),
        ("PUT", f"/v1/state/{NS}/docs/%41", 1),
        ("PUT", "/v1/state/..%2F..%2Fetc", {}),
        ("PUT", "/v1/state/..%2F..%2Fetc/docs/x", 1),
        ("GET", f"/v1/state/{NS}/docs/a%2Fb", None),
        ("GET", f"/v1/state/{NS}/history/a%2fb", None),
    ]:
        r = await send(http, owner, method, path, body, headers={"if-none-match": "*"})
        problem(r, 422, "invalid-request")
    assert await snapshot(runtime.store) == before
    # the literal spelling works, and its history's target URI names exactly its key
    await board.put(NS, "a/b", 1, create=True)
    r = await send(http, owner, "GET", f"/v1/state/{NS}/history/a/b")
    (entry,) = r.json()["entries"]
    assert entry["request"]["targetUri"].endswith(f"/v1/state/{NS}/docs/a/b")
    r = await send(http, owner, "GET", f"/v1/state/{NS}/docs?prefix=a%2F")
    assert [d["key"] for d in r.json()["documents"]] == ["a/b"]


@pytest.mark.req("REG-075")
async def test_control_characters_in_context_ids_are_422(
    http: httpx.AsyncClient, board: StateClient, owner: SigningKey, runtime: StateRuntime
) -> None:
    before = await snapshot(runtime.store)
    for query in ("a%00b", "a%01", "%7F", "%C2%85"):
        r = await http.get(f"/v1/state?contextId={query}")
        assert problem(r, 422, "invalid-request")["errors"][0]["path"] == "contextId"
    for context in ("a\u0000b", "\u001b[31m"):
        r = await send(http, owner, "PUT", f"/v1/state/{NS}", {"contextId": context})
        problem(r, 422, "invalid-request")
    assert await snapshot(runtime.store) == before
