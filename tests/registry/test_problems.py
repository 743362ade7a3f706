"""Every way a write can be refused: status, problem type, a signed answer, nothing stored."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    MessageSigner,
    MessageVerifier,
    SigningKey,
    sign_card,
)
from woa_registry.storage import AgentStore

from ._support import BASE, REGISTRY_KEY, SkillSpec, make_card, put_agent, signed, snapshot

VICTIM = SigningKey.from_seed(b"v" * 32)
OTHER = SigningKey.from_seed(b"o" * 32)
PATH = f"/v1/agents/{VICTIM.did}"
NOW = __import__("time").time


@dataclass
class Case:
    """One bad request against the registered agent VICTIM."""

    name: str
    status: int
    slug: str
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
    req: pytest.MarkDecorator


def _put(
    body: Any = None,
    *,
    raw: bytes | None = None,
    key: SigningKey = VICTIM,
    signer: MessageSigner | None = None,
    path: str = PATH,
    mutate: Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]] | None = None,
) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
    async def send(http: httpx.AsyncClient) -> httpx.Response:
        content, headers = signed(key, "PUT", path, body, raw=raw, signer=signer)
        if mutate is not None:
            content, headers = mutate(content, headers)
        return await http.put(path, content=content, headers=headers)

    return send


def _card(**kw: Any) -> dict[str, Any]:
    return {"card": make_card(VICTIM, name="Changed", **kw), "leaseSeconds": 60}


def _tamper_signature(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    label, _, value = headers["signature"].partition("=:")
    flipped = ("A" if value[0] != "A" else "B") + value[1:]
    return content, {**headers, "signature": f"{label}=:{flipped}"}


def _swap_body(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return content.replace(b"Changed", b"Chenged"), headers


def _unsigned(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return content, {k: v for k, v in headers.items() if k not in ("signature", "signature-input")}


def _card_without_extension() -> dict[str, Any]:
    return {"card": make_card(VICTIM, with_extension=False)}


def _tampered_card() -> dict[str, Any]:
    card = make_card(VICTIM)
    card["description"] = "tampered after signing"
    return {"card": card}


def _card_missing_name() -> dict[str, Any]:
    card = make_card(VICTIM)
    del card["name"]
    return {"card": sign_card({k: v for k, v in card.items() if k != "signatures"}, VICTIM)}


def _with_member(value: str) -> bytes:
    text = json.dumps({"card": make_card(VICTIM, name="Changed")})
    return text.replace('"version": "1.0.0"', f'"version": "1.0.0", "x": {value}').encode()


def _duplicate_name() -> bytes:
    text = json.dumps({"card": make_card(VICTIM, name="Changed")})
    return text.replace('"name": "Changed"', '"name": "Changed", "name": "Victim"', 1).encode()


def _duplicate_card() -> bytes:
    first = json.dumps(make_card(VICTIM, name="Changed"))
    second = json.dumps(make_card(VICTIM, name="Second"))
    return f'{{"card": {first}, "leaseSeconds": 60, "card": {second}}}'.encode()


def _alg_none_card() -> dict[str, Any]:
    card = make_card(VICTIM, name="Changed")
    header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"' + VICTIM.did.encode() + b'"}')
    card["signatures"] = [{"protected": header.decode().rstrip("="), "signature": ""}]
    return {"card": card, "leaseSeconds": 60}


CASES = [
    Case(
        "unsigned",
        401,
        "signature-missing",
        _put(_card(), mutate=_unsigned),
        pytest.mark.req("REG-010"),
    ),
    Case(
        "forged signature",
        401,
        "signature-invalid",
        _put(_card(), mutate=_tamper_signature),
        pytest.mark.req("REG-010"),
    ),
    Case(
        "expired signature",
        401,
        "signature-expired",
        _put(_card(), signer=MessageSigner(VICTIM, clock=lambda: NOW() - 3600)),
        pytest.mark.req("REG-010"),
    ),
    Case(
        "signature from the future",
        401,
        "signature-not-yet-valid",
        _put(_card(), signer=MessageSigner(VICTIM, clock=lambda: NOW() + 3600)),
        pytest.mark.req("REG-010"),
    ),
    Case(
        "body changed after signing",
        401,
        "content-digest-mismatch",
        _put(_card(), mutate=_swap_body),
        pytest.mark.req("REG-010"),
    ),
    Case(
        "path is not a did:key",
        400,
        "invalid-did",
        _put(_card(), path="/v1/agents/did:web:example.com"),
        pytest.mark.req("REG-011"),
    ),
    Case(
        "signed by another DID",
        403,
        "did-mismatch",
        _put(_card(), key=OTHER),
        pytest.mark.req("REG-012"),
    ),
    Case(
        "malformed JSON", 400, "malformed-json", _put(raw=b'{"card": {'), pytest.mark.req("REG-013")
    ),
    Case(
        "not UTF-8",
        400,
        "malformed-json",
        _put(raw=b'{"card": "\xff"}'),
        pytest.mark.req("REG-013"),
    ),
    Case(
        "NaN is not JSON",
        400,
        "malformed-json",
        _put(raw=b'{"card": NaN}'),
        pytest.mark.req("REG-013"),
    ),
    Case(
        "body without card",
        422,
        "invalid-request",
        _put({"leaseSeconds": 60}),
        pytest.mark.req("REG-013"),
    ),
    Case(
        "card not an object",
        422,
        "invalid-request",
        _put({"card": [1, 2]}),
        pytest.mark.req("REG-013"),
    ),
    Case(
        "lease not an integer",
        422,
        "invalid-request",
        _put({**_card(), "leaseSeconds": "long"}),
        pytest.mark.req("REG-013"),
    ),
    Case(
        "card off the A2A schema",
        422,
        "invalid-card",
        _put(_card_missing_name()),
        pytest.mark.req("REG-014"),
    ),
    Case(
        "card without the extension",
        422,
        "invalid-card",
        _put(_card_without_extension()),
        pytest.mark.req("REG-014"),
    ),
    Case(
        "card signed by another key",
        401,
        "invalid-card-signature",
        _put({"card": make_card(VICTIM, signer=OTHER)}),
        pytest.mark.req("REG-015"),
    ),
    Case(
        "card changed after signing",
        401,
        "invalid-card-signature",
        _put(_tampered_card()),
        pytest.mark.req("REG-015"),
    ),
    Case(
        "card number without a JCS form",
        422,
        "not-canonicalizable",
        _put(raw=_with_member("1e400")),
        pytest.mark.req("REG-015"),
    ),
    Case(
        "card integer beyond I-JSON",
        422,
        "not-canonicalizable",
        _put(raw=_with_member("123456789012345678901234567890")),
        pytest.mark.req("REG-015"),
    ),
    Case(
        "card nested too deeply",
        422,
        "not-canonicalizable",
        _put(raw=_with_member("[" * 300 + "]" * 300)),
        pytest.mark.req("REG-015"),
    ),
    Case(
        "card nested 100,000 levels",
        422,
        "not-canonicalizable",
        _put(raw=_with_member("[" * 100_000 + "]" * 100_000)),
        pytest.mark.req("JCS-004"),
    ),
    Case(
        "card with two name members",
        400,
        "duplicate-member-name",
        _put(raw=_duplicate_name()),
        pytest.mark.req("JCS-006"),
    ),
    Case(
        "body with two card members",
        400,
        "duplicate-member-name",
        _put(raw=_duplicate_card()),
        pytest.mark.req("JCS-006"),
    ),
    Case(
        "card signed with alg none",
        401,
        "invalid-card-signature",
        _put(_alg_none_card()),
        pytest.mark.req("CARD-007"),
    ),
    Case(
        "card name with a NUL",
        422,
        "invalid-request",
        _put({"card": make_card(VICTIM, name="a\u0000b"), "leaseSeconds": 60}),
        pytest.mark.req("REG-075"),
    ),
    Case(
        "skill tag with an escape character",
        422,
        "invalid-request",
        _put({"card": make_card(VICTIM, skills=[SkillSpec(tags=("\u001b[2J",))])}),
        pytest.mark.req("REG-075"),
    ),
    Case(
        "extension names another DID",
        403,
        "did-mismatch",
        _put({"card": make_card(VICTIM, extension_did=OTHER.did)}),
        pytest.mark.req("REG-016"),
    ),
    Case(
        "lease too short",
        422,
        "lease-out-of-range",
        _put({**_card(), "leaseSeconds": 1}),
        pytest.mark.req("REG-030"),
    ),
    Case(
        "lease too long",
        422,
        "lease-out-of-range",
        _put({**_card(), "leaseSeconds": 10**6}),
        pytest.mark.req("REG-030"),
    ),
    Case(
        "body too large",
        413,
        "payload-too-large",
        _put({**_card(), "pad": "x" * 300_000}),
        pytest.mark.req("REG-072"),
    ),
]


@pytest.fixture
async def registered(http: httpx.AsyncClient) -> AsyncIterator[None]:
    response = await put_agent(http, VICTIM, leaseSeconds=600)
    assert response.status_code in (200, 201), response.text
    return


def assert_signed_by_registry(response: httpx.Response) -> None:
    message = HttpResponse(
        status=response.status_code, headers=dict(response.headers), body=response.content
    )
    if "signature" in response.request.headers:
        message.request = HttpRequest(
            response.request.method, str(response.request.url), dict(response.request.headers)
        )
        assert MessageVerifier().verify_response(message, "woa").did == REGISTRY_KEY.did
    else:
        assert (
            MessageVerifier().verify_response(message, expected_did=REGISTRY_KEY.did).did
            == REGISTRY_KEY.did
        )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.req) for c in CASES])
async def test_bad_write_is_refused_and_changes_nothing(
    case: Case,
    registered: None,
    http: httpx.AsyncClient,
    store: AgentStore,
    request: pytest.FixtureRequest,
) -> None:
    request.node.add_marker(pytest.mark.req(case.req))
    before = await snapshot(store)
    response = await case.send(http)
    assert response.status_code == case.status, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == f"urn:woa:problem:{case.slug}"
    assert problem["status"] == case.status
    assert problem["detail"]
    assert_signed_by_registry(response)
    assert await snapshot(store) == before


@pytest.mark.req("REG-010")
@pytest.mark.req("REG-071")
async def test_replayed_request_is_refused(
    registered: None, http: httpx.AsyncClient, store: AgentStore
) -> None:
    content, headers = signed(VICTIM, "PUT", PATH, _card())
    first = await http.put(PATH, content=content, headers=headers)
    assert first.status_code == 200, first.text
    before = await snapshot(store)
    again = await http.put(PATH, content=content, headers=headers)
    assert again.status_code == 401
    assert again.json()["type"] == "urn:woa:problem:signature-replayed"
    assert await snapshot(store) == before


@pytest.mark.req("REG-071")
async def test_rejected_delete_and_heartbeat_change_nothing(
    registered: None, http: httpx.AsyncClient, store: AgentStore
) -> None:
    before = await snapshot(store)
    lease = (await store.get(VICTIM.did)).lease_expires_at  # type: ignore[union-attr]
    _, headers = signed(OTHER, "DELETE", PATH)
    response = await http.delete(PATH, headers=headers)
    assert (response.status_code, response.json()["type"]) == (403, "urn:woa:problem:did-mismatch")
    content, headers = signed(VICTIM, "POST", PATH + "/heartbeat", {"leaseSeconds": 99999})
    response = await http.post(PATH + "/heartbeat", content=content, headers=headers)
    assert response.json()["type"] == "urn:woa:problem:lease-out-of-range"
    assert response.json()["minimum"] == 10
    assert response.json()["maximum"] == 3600
    content, headers = signed(VICTIM, "POST", PATH + "/heartbeat", raw=b"[")
    response = await http.post(PATH + "/heartbeat", content=content, headers=headers)
    assert response.json()["type"] == "urn:woa:problem:malformed-json"
    response = await http.delete(PATH)
    assert response.json()["type"] == "urn:woa:problem:signature-missing"
    assert await snapshot(store) == before
    assert (await store.get(VICTIM.did)).lease_expires_at == lease  # type: ignore[union-attr]


@pytest.mark.req("REG-072")
async def test_chunked_body_is_counted_while_read(
    registered: None, http: httpx.AsyncClient, store: AgentStore
) -> None:
    before = await snapshot(store)
    body = json.dumps({**_card(), "pad": "x" * 300_000}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    response = await http.put(PATH, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["type"] == "urn:woa:problem:payload-too-large"
    assert await snapshot(store) == before


@pytest.mark.req("REG-073")
async def test_per_did_rate_limit(make_app: Callable[..., FastAPI], store: AgentStore) -> None:
    app = make_app(rate_per_did=0.001, burst_per_did=2)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        assert (await put_agent(http, VICTIM)).status_code == 201
        assert (await put_agent(http, VICTIM)).status_code == 200
        before = await snapshot(store)
        limited = await put_agent(http, VICTIM)
        assert limited.status_code == 429
        assert limited.json()["type"] == "urn:woa:problem:rate-limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert await snapshot(store) == before
        # another DID is not limited
        assert (await put_agent(http, OTHER)).status_code == 201


@pytest.mark.req("REG-073")
async def test_per_address_rate_limit(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(rate_per_address=0.001, burst_per_address=3)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("192.0.2.9", 1234)), base_url=BASE
        ) as http,
    ):
        statuses = [(await http.get("/v1/agents")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await http.get("/healthz")
        assert limited.json()["type"] == "urn:woa:problem:rate-limited"
        assert "retry-after" in limited.headers
        assert_signed_by_registry(limited)


@pytest.mark.req("REG-070")
async def test_unknown_route_and_wrong_method(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v2/agents")
    assert (missing.status_code, missing.json()["type"]) == (404, "urn:woa:problem:not-found")
    assert_signed_by_registry(missing)
    wrong = await http.patch(f"/v1/agents/{VICTIM.did}")
    assert (wrong.status_code, wrong.json()["type"]) == (405, "urn:woa:problem:method-not-allowed")


@pytest.mark.req("REG-070")
@pytest.mark.req("REG-080")
async def test_store_failure_is_a_signed_internal_error(
    registry_settings: Any, tmp_path: Any
) -> None:
    from woa_registry import create_app
    from woa_registry.storage import open_store

    broken = open_store(f"sqlite:///{tmp_path}/broken.db")
    await broken.open()
    app = create_app(registry_settings, store=broken, key=REGISTRY_KEY)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        assert (await http.get("/readyz")).status_code == 200
        await broken.close()
        response = await http.get(f"/v1/agents/{VICTIM.did}")
        assert response.status_code == 500
        assert response.json()["type"] == "urn:woa:problem:internal-error"
        assert_signed_by_registry(response)
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert (await http.get("/healthz")).status_code == 200


@pytest.mark.req("JCS-006")
async def test_duplicate_member_error_names_its_path(
    registered: None, http: httpx.AsyncClient
) -> None:
    content, headers = signed(VICTIM, "PUT", PATH, raw=_duplicate_name())
    problem = (await http.put(PATH, content=content, headers=headers)).json()
    assert (problem["path"], problem["name"]) == ("$.card", "name")
    content, headers = signed(VICTIM, "PUT", PATH, raw=_duplicate_card())
    problem = (await http.put(PATH, content=content, headers=headers)).json()
    assert (problem["path"], problem["name"]) == ("$", "card")
