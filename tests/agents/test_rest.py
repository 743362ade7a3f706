"""The HTTP+JSON binding: routes, AIP-193 errors, signatures, both spellings (AGT-005)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from woa_agents import Agent, SignaturePolicy
from woa_agents.rest import rest_operation
from woa_protocol import HttpRequest, HttpResponse, MessageSigner, MessageVerifier, SigningKey
from woa_protocol.httpsig import request_signature_label

URL = "http://agent.test"


def build(**kw: Any) -> Agent:
    agent = Agent("rest", "REST binding tests", **kw)

    @agent.skill(default=True)
    async def upper(text: str) -> str:
        return text.upper()

    return agent


class Rest:
    """Signed REST requests to an in-memory agent; every answer's signature is checked."""

    def __init__(self, agent: Agent, app: Any, key: SigningKey | None) -> None:
        self.agent = agent
        self.signer = MessageSigner(key) if key else None
        self.verifier = MessageVerifier()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL)

    async def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        raw = b"" if body is None else json.dumps(body).encode()
        hdrs = {"content-type": "application/json"} if raw else {}
        hdrs.update(headers or {})
        request = HttpRequest(method, URL + path, dict(hdrs), raw)
        if self.signer is not None:
            hdrs.update(self.signer.sign_request(request))
        response = await self.http.request(method, path, content=raw, headers=hdrs)
        signed = HttpResponse(
            response.status_code, dict(response.headers), response.content, request=request
        )
        label = request_signature_label(hdrs) if self.signer else None
        stream = response.headers["content-type"] == "text/event-stream"
        if label and response.status_code == 200 and not stream:  # bound to the request
            self.verifier.verify_response(signed, label)
        else:  # errors, streams and unsigned requests: signed by the agent, unbound
            self.verifier.verify_response(signed, expected_did=self.agent.did, stream=stream)
        return response


@pytest.fixture
async def rest() -> AsyncIterator[Rest]:
    agent = build()
    app = agent.app(URL + "/")
    async with app.router.lifespan_context(app):
        caller = Rest(agent, app, SigningKey.generate())
        yield caller
        await caller.http.aclose()


def text_message(text: str, **extra: Any) -> dict[str, Any]:
    return {"messageId": f"m-{text}", "role": "ROLE_USER", "parts": [{"text": text}], **extra}


@pytest.mark.req("AGT-005")
def test_routes() -> None:
    assert rest_operation("/message:send") == ("SendMessage", frozenset({"POST"}), None)
    assert rest_operation("/tasks/t1") == ("GetTask", frozenset({"GET"}), "t1")
    assert rest_operation("/tasks/t1:cancel") == ("CancelTask", frozenset({"POST"}), "t1")
    assert rest_operation("/acme/tasks/t1:subscribe")[0] == "SubscribeToTask"  # type: ignore[index]
    assert rest_operation("//message:send") is not None  # a base URL ending in "/"
    assert rest_operation("/healthz") is None
    assert rest_operation("/.well-known/agent-card.json") is None


@pytest.mark.req("AGT-005")
async def test_send_get_list_cancel_over_rest_signed_both_ways(rest: Rest) -> None:
    sent = await rest.call("POST", "/message:send", {"message": text_message("hi")})
    assert sent.status_code == 200
    assert sent.headers["content-type"] == "application/json"
    task = sent.json()["task"]
    assert task["artifacts"][0]["parts"] == [{"text": "HI"}]
    got = await rest.call("GET", f"/tasks/{task['id']}?historyLength=0")
    assert got.json()["id"] == task["id"]
    assert "history" not in got.json()
    snake = await rest.call("GET", f"/tasks/{task['id']}?history_length=0")
    assert "history" not in snake.json()
    listed = await rest.call("GET", "/tasks?pageSize=1&includeArtifacts=true")
    assert listed.json()["tasks"][0]["artifacts"]
    refused = await rest.call("POST", f"/tasks/{task['id']}:cancel")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["status"] == "FAILED_PRECONDITION"
    assert error["details"][0]["reason"] == "TASK_NOT_CANCELABLE"


@pytest.mark.req("AGT-005")
async def test_streaming_over_rest_is_sse_of_stream_responses(rest: Rest) -> None:
    response = await rest.call("POST", "/message:stream", {"message": text_message("yo")})
    assert response.headers["content-type"] == "text/event-stream"
    events = [json.loads(line[6:]) for line in response.text.splitlines() if line[:6] == "data: "]
    assert "task" in events[0]
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"


@pytest.mark.req("AGT-005")
@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "reason"),
    [
        ("GET", "/tasks/nope", None, {}, 404, "TASK_NOT_FOUND"),
        ("GET", "/message:send", None, {}, 404, "METHOD_NOT_FOUND"),
        ("POST", "/message:send", {"message": {"role": "ROLE_USER"}}, {}, 400, "INVALID_PARAMS"),
        ("GET", "/tasks?pageSize=0", None, {}, 400, "INVALID_PARAMS"),
        (
            "POST",
            "/tasks/x/pushNotificationConfigs",
            {},
            {},
            400,
            "PUSH_NOTIFICATION_NOT_SUPPORTED",
        ),
        ("GET", "/extendedAgentCard", None, {}, 400, "EXTENDED_AGENT_CARD_NOT_CONFIGURED"),
        (
            "POST",
            "/message:send",
            {"message": text_message("v")},
            {"a2a-version": "9.0"},
            400,
            "VERSION_NOT_SUPPORTED",
        ),
        (
            "POST",
            "/message:send",
            {"message": text_message("ct")},
            {"content-type": "text/plain"},
            415,
            "CONTENT_TYPE_NOT_SUPPORTED",
        ),
    ],
)
async def test_errors_are_aip_193_with_a2a_status_codes(
    rest: Rest,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    reason: str,
) -> None:
    response = await rest.call(method, path, body, headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == status
    assert error["message"]
    info = error["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["reason"] == reason
    assert info["domain"] == "a2a-protocol.org"


@pytest.mark.req("AGT-005")
async def test_profile_reasons_stay_in_metadata_and_unsigned_callers_are_refused() -> None:
    agent = Agent("two", "two skills")

    @agent.skill()
    async def a(text: str) -> str:
        return text

    @agent.skill()
    async def b(text: str) -> str:
        return text

    app = agent.app(URL + "/")
    async with app.router.lifespan_context(app):
        signed = Rest(agent, app, SigningKey.generate())
        response = await signed.call("POST", "/message:send", {"message": text_message("x")})
        info = response.json()["error"]["details"][0]
        assert info["reason"] == "INVALID_PARAMS"
        assert info["metadata"]["woaReason"] == "SKILL_REQUIRED"
        anonymous = Rest(agent, app, None)
        refused = await anonymous.call("GET", "/tasks")
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
        for caller in (signed, anonymous):
            await caller.http.aclose()
    open_agent = build(policy=SignaturePolicy(require_signatures=False))
    open_app = open_agent.app(URL + "/")
    async with open_app.router.lifespan_context(open_app):
        plain = Rest(open_agent, open_app, None)
        ok = await plain.call("POST", "/message:send", {"message": text_message("a")})
        assert ok.json()["task"]["artifacts"][0]["parts"] == [{"text": "A"}]
        await plain.http.aclose()


@pytest.mark.req("AGT-005")
@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON"])
async def test_the_sdk_client_calls_an_sdk_agent_signed_on_either_binding(binding: str) -> None:
    from pydantic import BaseModel

    from woa_agents import AgentClient, RpcError

    class Pair(BaseModel):
        a: int
        b: int

    agent = build()

    @agent.skill()
    async def add(request: Pair) -> Pair:
        return Pair(a=request.a + request.b, b=0)

    async with (
        agent.running() as running,
        AgentClient(SigningKey.generate(), bindings=(binding,)) as client,
    ):
        remote = await client.agent(running.url)
        assert remote.binding == binding
        assert await client.call("upper", "shout", agent=running.url) == "SHOUT"
        assert await client.call("add", {"a": 1, "b": 2}, agent=running.url) == {"a": 3, "b": 0}
        with pytest.raises(RpcError) as info:
            await client.call("add", {"a": "x", "b": 2}, agent=running.url)
        assert info.value.code == -32602


@pytest.mark.req("AGT-005")
def test_the_client_reads_the_profile_reason_back_from_the_metadata() -> None:
    from woa_agents.client import _rest_error

    body = {
        "error": {
            "code": 400,
            "status": "INVALID_ARGUMENT",
            "message": "name a skill",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "INVALID_PARAMS",
                    "domain": "a2a-protocol.org",
                    "metadata": {"woaReason": "SKILL_REQUIRED"},
                }
            ],
        }
    }
    error = _rest_error(body, 400)
    assert error.reason == "SKILL_REQUIRED"
    assert error.code == -32602
