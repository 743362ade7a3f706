"""The SDK's signed HTTP client base against a small real peer that signs with the core."""

from __future__ import annotations

import email.utils
import json
from typing import Any, ClassVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from woa_agents import PeerError, RetryPolicy, SignedHttpClient, TransportError, WoaError
from woa_agents.http import retry_after_seconds
from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    MissingSignatureError,
    SigningKey,
)

PEER_KEY = SigningKey.generate()
BASE = "http://peer.test"


class PeerProblemError(PeerError):
    """The error the test client raises."""


class PeerClient(SignedHttpClient):
    """A client of the test peer: its description lives at ``/about``."""

    well_known_path: ClassVar[str] = "/about"
    error_class: ClassVar[type[PeerError]] = PeerProblemError

    async def call(self, method: str, path: str, *, signed: bool = False, **kw: Any) -> Any:
        return (await self._request(method, path, signed=signed, **kw)).json()


def peer_app(key: SigningKey = PEER_KEY, *, about: Any = None, unsigned: bool = False) -> Any:
    """A peer that verifies signed requests and signs every answer (bound when it can)."""
    signer = MessageSigner(key)
    verifier = MessageVerifier()
    received: list[dict[str, Any]] = []
    busy: list[str] = []

    async def handle(request: Request) -> Response:
        body = await request.body()
        message = HttpRequest(request.method, str(request.url), dict(request.headers), body)
        caller = None
        if "signature" in message.headers:
            caller = verifier.verify_request(message).did
        path = request.url.path
        status, content, media = 200, b"", "application/json"
        if path == "/about":
            description = {"did": key.did} if about is None else about
            content = json.dumps(description).encode()
            status = 200 if about != "missing" else 404
        elif path == "/echo":
            content = json.dumps({"caller": caller, "body": body.decode()}).encode()
            received.append({"caller": caller, "query": dict(request.query_params)})
        elif path == "/problem":
            status = 409
            problem = {"type": "urn:woa:problem:test-conflict", "detail": "no", "extra": 1}
            content = json.dumps(problem).encode()
            media = "application/problem+json"
        elif path == "/text-error":
            status, content, media = 502, b"upstream down", "text/plain"
        busy_headers: dict[str, str] = {}
        if path == "/busy":
            busy.append(request.query_params.get("after", "0"))
            if len(busy) <= int(request.query_params.get("times", "1")):
                status, content = 429, b'{"type": "urn:woa:problem:rate-limited"}'
                media = "application/problem+json"
                busy_headers["retry-after"] = request.query_params.get("after", "0")
            else:
                content = b'{"ok": true}'
        headers = {"content-type": media, **busy_headers}
        if not (unsigned and path != "/about"):
            reply = HttpResponse(status, dict(headers), content, request=message)
            headers.update(signer.sign_reply(reply))
        return Response(content, status_code=status, headers=headers)

    methods = ["GET", "POST", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
    app.state.received = received
    app.state.busy = busy
    return app


def client(app: Any, key: SigningKey | None = None, **kw: Any) -> PeerClient:
    return PeerClient(BASE, key, httpx.ASGITransport(app=app), **kw)


@pytest.fixture
def app() -> Any:
    return peer_app()


async def test_trust_on_first_use_pins_the_described_did(app: Any) -> None:
    async with client(app) as c:
        assert c.peer_did is None
        answer = await c.call("GET", "/echo", params={"a": "1", "b": None})
        assert answer["caller"] is None
        assert c.peer_did == PEER_KEY.did
        assert app.state.received[-1]["query"] == {"a": "1"}  # None parameters are left out


async def test_signed_requests_carry_the_callers_did_and_bound_answers_verify(app: Any) -> None:
    caller = SigningKey.generate()
    async with client(app, caller, peer_did=PEER_KEY.did) as c:
        answer = await c.call("POST", "/echo", body={"x": 1}, signed=True)
        assert answer == {"caller": caller.did, "body": '{"x":1}'}
        raw = await c.call("PUT", "/echo", raw=b"[1]", content_type="text/x", signed=True)
        assert raw["body"] == "[1]"


async def test_signing_without_a_key_fails_before_anything_is_sent(app: Any) -> None:
    async with client(app, peer_did=PEER_KEY.did) as c:
        with pytest.raises(RuntimeError, match="no key"):
            await c.call("POST", "/echo", body={}, signed=True)
    assert app.state.received == []


async def test_a_given_did_that_the_peer_does_not_hold_is_refused(app: Any) -> None:
    other = SigningKey.generate().did
    async with client(app, peer_did=other) as c:
        with pytest.raises(InvalidSignatureError):
            await c.call("GET", "/echo")
        with pytest.raises(InvalidSignatureError):
            await c.describe()
        assert c.peer_did == other


async def test_a_description_claiming_another_did_is_refused() -> None:
    liar = peer_app(about={"did": SigningKey.generate().did})
    async with client(liar) as first_use:
        with pytest.raises(InvalidSignatureError):  # not signed by the DID it claims
            await first_use.describe()
        assert first_use.peer_did is None  # nothing pinned on a failed first use
    async with client(liar, peer_did=PEER_KEY.did) as pinned:
        with pytest.raises(InvalidSignatureError, match="claims"):  # signed, but names another
            await pinned.describe()
        assert pinned.peer_did == PEER_KEY.did


@pytest.mark.parametrize("about", [{"name": "no did"}, {"did": 7}, ["not", "an", "object"]])
async def test_a_description_without_a_did_raises_the_clients_error(about: Any) -> None:
    async with client(peer_app(about=about)) as c:
        with pytest.raises(PeerProblemError, match="without a DID"):
            await c.call("GET", "/echo")
        assert c.peer_did is None


async def test_a_missing_description_raises_the_clients_error() -> None:
    async with client(peer_app(about="missing")) as c:
        with pytest.raises(PeerProblemError) as info:
            await c.describe()
        assert info.value.status == 404


async def test_unsigned_answers_are_refused() -> None:
    async with client(peer_app(unsigned=True)) as c:
        with pytest.raises(MissingSignatureError):
            await c.call("GET", "/echo")


async def test_problem_answers_raise_with_status_problem_and_type(app: Any) -> None:
    async with client(app) as c:
        with pytest.raises(PeerProblemError) as info:
            await c.call("GET", "/problem")
        assert info.value.status == 409
        assert info.value.type == "urn:woa:problem:test-conflict"
        assert info.value.body["extra"] == 1
        assert "409 urn:woa:problem:test-conflict: no" in str(info.value)
        with pytest.raises(PeerProblemError) as text:
            await c.call("GET", "/text-error")
        assert text.value.status == 502
        assert text.value.type == "about:blank"
        assert text.value.body["detail"] == "upstream down"


def test_base_url_loses_its_trailing_slash() -> None:
    assert PeerClient("http://peer.test/base/").base_url == "http://peer.test/base"


@pytest.mark.req("AGT-064")
async def test_429_is_retried_after_retry_after_then_given_up(app: Any) -> None:
    caller = SigningKey.generate()
    async with client(app, caller, peer_did=PEER_KEY.did) as c:
        assert await c.call("POST", "/busy", params={"times": 2}, signed=True) == {"ok": True}
        assert len(app.state.busy) == 3  # two 429s waited out, each request signed afresh
        assert c.signed_http.rate_limited == 2
    app.state.busy.clear()
    async with client(app, peer_did=PEER_KEY.did, retry=RetryPolicy(max_retries=1)) as c:
        with pytest.raises(PeerProblemError) as info:  # retried once, then raised
            await c.call("GET", "/busy", params={"times": 5})
        assert info.value.status == 429
        assert len(app.state.busy) == 2
    app.state.busy.clear()
    async with client(app, peer_did=PEER_KEY.did, retry=RetryPolicy(max_delay=5)) as c:
        with pytest.raises(PeerProblemError):  # a wait over the bound is not waited
            await c.call("GET", "/busy", params={"after": 3600})
        assert len(app.state.busy) == 1


@pytest.mark.req("AGT-064")
def test_retry_after_takes_seconds_or_an_http_date() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0 ") == 0.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert retry_after_seconds(date, now=now) == 7.0
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    for bad in (None, "", "-1", "1.5", "soon", "Mon, 99 Foo 2024 00:00:00 GMT"):
        assert retry_after_seconds(bad) is None


async def test_transport_failures_are_wrapped_under_the_sdk_root() -> None:
    async with PeerClient("http://127.0.0.1:9", peer_did=PEER_KEY.did) as c:
        with pytest.raises(TransportError) as info:
            await c.call("GET", "/echo")
    assert isinstance(info.value, WoaError)
    assert info.value.retry_safe  # connection refused: the request never ran
    assert isinstance(info.value.__cause__, httpx.ConnectError)
