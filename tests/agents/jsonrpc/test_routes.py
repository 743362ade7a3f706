"""Bad input at the JSON-RPC endpoint: each gets its documented error, the agent keeps serving."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from woa_agents import Agent, SignaturePolicy
from woa_protocol import (
    HttpRequest,
    HttpResponse,
    MessageSigner,
    MessageVerifier,
    SigningKey,
    content_digest,
)
from woa_protocol.httpsig import normalize_headers

from ..conftest import RawCaller, message


async def assert_still_serving(raw: RawCaller) -> None:
    body = await raw.rpc("SendMessage", {"message": message("echo", {"text": "ok"})})
    assert body["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"


def echo_call(text: str, request_id: int = 1) -> bytes:
    """A SendMessage body calling the echo skill."""
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "SendMessage",
        "params": {"message": message("echo", {"text": text})},
    }
    return json.dumps(body).encode()


def error_info(body: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = body["error"]["data"][0]
    assert detail["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    return detail


@pytest.mark.req("AGT-040")
async def test_body_that_is_not_json_is_a_parse_error(raw: RawCaller) -> None:
    response = await raw.post(b"{not json")
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32700
    assert response.json()["id"] is None
    await assert_still_serving(raw)


@pytest.mark.req("AGT-040")
@pytest.mark.parametrize(
    "text",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":NaN}}',
        b"\xff\xfe",
        b'["\\ud800"]',
    ],
    ids=["nan", "not-utf8", "lone-surrogate"],
)
async def test_what_is_not_strict_json_is_a_parse_error(raw: RawCaller, text: bytes) -> None:
    response = await raw.post(text)
    assert response.json()["error"]["code"] == -32700
    assert response.json()["error"]["message"].startswith("invalid JSON")
    await assert_still_serving(raw)


@pytest.mark.req("AGT-040")
@pytest.mark.parametrize(
    "body",
    [
        [{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}}],
        {"jsonrpc": "1.0", "id": 1, "method": "GetTask", "params": {}},
        {"jsonrpc": "2.0", "method": "GetTask", "params": {}},
        {"jsonrpc": "2.0", "id": True, "method": "GetTask", "params": {}},
        {"jsonrpc": "2.0", "id": 1, "params": {}},
        "just a string",
    ],
    ids=["batch", "version", "no-id", "bool-id", "no-method", "not-object"],
)
async def test_malformed_envelopes_are_invalid_requests(raw: RawCaller, body: Any) -> None:
    response = await raw.post(body)
    assert response.json()["error"]["code"] == -32600
    await assert_still_serving(raw)


@pytest.mark.req("AGT-040")
async def test_unknown_method(raw: RawCaller) -> None:
    body = await raw.rpc("DoSomethingElse", {})
    assert body["error"]["code"] == -32601
    assert body["id"] == 1
    await assert_still_serving(raw)


@pytest.mark.req("AGT-040")
async def test_push_notifications_and_extended_card_are_unsupported(raw: RawCaller) -> None:
    assert (await raw.rpc("CreateTaskPushNotificationConfig", {}))["error"]["code"] == -32003
    assert (await raw.rpc("GetExtendedAgentCard", {}))["error"]["code"] == -32007
    await assert_still_serving(raw)


@pytest.mark.req("AGT-040")
async def test_params_that_are_not_an_object(raw: RawCaller) -> None:
    response = await raw.post({"jsonrpc": "2.0", "id": 3, "method": "SendMessage", "params": [1]})
    assert response.json()["error"]["code"] == -32602


@pytest.mark.req("AGT-040")
async def test_oversized_body_is_413_and_read_no_further() -> None:
    agent = Agent("small", "tiny limit", max_body_bytes=2048)
    from ..conftest import EchoIn, EchoOut

    @agent.skill(family="classical")
    async def echo(request: EchoIn) -> EchoOut:
        return EchoOut(text=request.text)

    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, SigningKey.generate())
        big = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {"message": message("echo", {"text": "x" * 5000})},
        }
        response = await raw.post(big)
        assert response.status_code == 413
        body = response.json()
        assert body["error"]["code"] == -32600
        assert error_info(body)["reason"] == "PAYLOAD_TOO_LARGE"
        ok = await raw.rpc("SendMessage", {"message": message("echo", {"text": "small"})})
        assert ok["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
        await raw.http.aclose()


@pytest.mark.req("AGT-010")
async def test_unknown_skill(raw: RawCaller) -> None:
    body = await raw.rpc("SendMessage", {"message": message("nope", {"text": "x"})})
    assert body["error"]["code"] == -32602
    info = error_info(body)
    assert info["reason"] == "UNKNOWN_SKILL"
    assert info["metadata"]["skill"] == "nope"
    await assert_still_serving(raw)


@pytest.mark.req("AGT-010")
async def test_missing_skill_with_several_skills(raw: RawCaller) -> None:
    body = await raw.rpc("SendMessage", {"message": message(None, {"text": "x"})})
    assert error_info(body)["reason"] == "SKILL_REQUIRED"


@pytest.mark.req("AGT-010")
async def test_single_skill_agent_accepts_a_message_without_skill_id() -> None:
    from ..conftest import EchoIn, EchoOut

    agent = Agent("one", "one skill")

    @agent.skill(family="classical")
    async def echo(request: EchoIn) -> EchoOut:
        return EchoOut(text=request.text)

    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, SigningKey.generate())
        body = await raw.rpc("SendMessage", {"message": message(None, {"text": "solo"})})
        assert body["result"]["task"]["artifacts"][0]["parts"][0]["data"]["text"] == "solo"
        await raw.http.aclose()


@pytest.mark.req("AGT-011")
@pytest.mark.parametrize(
    "parts",
    [
        [{"data": {"text": "a"}}, {"data": {"text": "b"}}],
        [{"data": {"text": "a"}}, {"text": "b"}],
    ],
    ids=["two-data", "data-and-text-giving-the-same-field"],
)
async def test_parts_that_do_not_make_one_input_are_refused(
    raw: RawCaller, parts: list[Any]
) -> None:
    msg = message("echo", {})
    msg["parts"] = parts
    body = await raw.rpc("SendMessage", {"message": msg})
    assert body["error"]["code"] == -32602
    assert error_info(body)["reason"] == "INVALID_PARTS"


@pytest.mark.req("AGT-012")
async def test_schema_invalid_payload_names_every_failing_path(raw: RawCaller) -> None:
    body = await raw.rpc(
        "SendMessage", {"message": message("echo", {"text": 5, "times": 9, "extra": 1})}
    )
    error = body["error"]
    assert error["code"] == -32602
    info = error_info(body)
    assert info["reason"] == "SCHEMA_VALIDATION_FAILED"
    assert info["metadata"]["type"] == "urn:woa:problem:validation-failed"
    violations = error["data"][1]
    assert violations["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    fields = sorted(v["field"] for v in violations["fieldViolations"])
    assert fields == ["$.text", "$.times"]
    listed = await raw.rpc("ListTasks", {})
    assert listed["result"]["tasks"] == []  # no task was created
    await assert_still_serving(raw)


@pytest.mark.req("AGT-012")
async def test_message_that_is_not_a_message_names_its_paths(raw: RawCaller) -> None:
    body = await raw.rpc("SendMessage", {"message": {"role": "ROLE_USER", "parts": []}})
    fields = {v["field"] for v in body["error"]["data"][1]["fieldViolations"]}
    assert "$.message.messageId" in fields
    assert "$.message.parts" in fields


@pytest.mark.req("AGT-003")
async def test_other_a2a_major_version_is_refused(raw: RawCaller) -> None:
    body = await raw.rpc(
        "SendMessage",
        {"message": message("echo", {"text": "x"})},
        headers={"a2a-version": "0.3"},
    )
    assert body["error"]["code"] == -32009


@pytest.mark.req("AGT-030")
async def test_missing_signature_is_refused(raw: RawCaller) -> None:
    response = await raw.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}, sign=False
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == -32050
    info = error_info(body)
    assert info["reason"] == "SIGNATURE_MISSING"
    assert info["metadata"]["type"] == "urn:woa:problem:signature-missing"
    await assert_still_serving(raw)


@pytest.mark.req("AGT-030")
async def test_forged_signature_is_refused(raw: RawCaller) -> None:
    body = echo_call("a", 1)
    headers = raw.signed_headers(body)
    tampered = body.replace(b'"a"', b'"b"')
    headers["content-digest"] = content_digest(tampered)  # digest fits, signature does not
    response = await raw.http.post(raw.url, content=tampered, headers=headers)
    assert response.status_code == 401
    assert error_info(response.json())["reason"] == "SIGNATURE_INVALID"
    await assert_still_serving(raw)


@pytest.mark.req("AGT-030")
async def test_body_not_matching_digest_is_refused(raw: RawCaller) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}).encode()
    headers = raw.signed_headers(body)
    response = await raw.http.post(raw.url, content=body + b" ", headers=headers)
    assert response.status_code == 401
    assert error_info(response.json())["reason"] == "CONTENT_DIGEST_MISMATCH"


@pytest.mark.req("AGT-030")
async def test_replayed_request_is_refused_and_runs_once(raw: RawCaller) -> None:
    body = echo_call("once", 1)
    headers = raw.signed_headers(body)
    first = await raw.http.post(raw.url, content=body, headers=headers)
    assert first.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    second = await raw.http.post(raw.url, content=body, headers=headers)
    assert second.status_code == 401
    assert error_info(second.json())["reason"] == "SIGNATURE_REPLAYED"
    listed = await raw.rpc("ListTasks", {})
    assert listed["result"]["totalSize"] == 1
    await assert_still_serving(raw)


@pytest.mark.req("AGT-030")
async def test_expired_signature_is_refused(raw: RawCaller) -> None:
    assert raw.key is not None
    old = MessageSigner(raw.key, clock=lambda: time.time() - 3600)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}).encode()
    req = HttpRequest("POST", raw.url, {"content-type": "application/json"}, body)
    headers = {"content-type": "application/json", **old.sign_request(req)}
    response = await raw.http.post(raw.url, content=body, headers=headers)
    assert response.status_code == 401
    assert error_info(response.json())["reason"] == "SIGNATURE_EXPIRED"


@pytest.mark.req("AGT-030")
async def test_signature_for_another_url_is_refused(raw: RawCaller) -> None:
    other = RawCaller(raw.app, raw.key, url="http://elsewhere.test/")  # type: ignore[attr-defined]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}).encode()
    headers = other.signed_headers(body)
    response = await raw.http.post(raw.url, content=body, headers=headers)
    assert response.status_code == 401
    await other.http.aclose()


@pytest.mark.req("AGT-033")
async def test_error_responses_are_signed_and_bound(raw: RawCaller) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Nope", "params": {}}).encode()
    headers = raw.signed_headers(body)
    request = HttpRequest("POST", raw.url, headers, body)
    response = await raw.http.post(raw.url, content=body, headers=headers)
    signed = HttpResponse(
        response.status_code,
        normalize_headers(response.headers.multi_items()),
        response.content,
        request=request,
    )
    verified = MessageVerifier().verify_response(signed, "woa")
    card = (await raw.http.get("http://agent.test/.well-known/agent-card.json")).json()
    ext = next(e for e in card["capabilities"]["extensions"] if e["uri"].startswith("urn:woa"))
    assert verified.did == ext["params"]["did"]


@pytest.mark.req("AGT-031")
async def test_unsigned_callers_accepted_when_policy_allows() -> None:
    from ..conftest import make_agent

    agent = make_agent(policy=SignaturePolicy(require_signatures=False))
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, None)
        body = await raw.rpc(
            "SendMessage", {"message": message("echo", {"text": "plain"})}, sign=False
        )
        out = body["result"]["task"]["artifacts"][0]["parts"][0]["data"]
        assert out == {"text": "plain", "caller": None}
        # a signature that is present is still checked
        signer = RawCaller(app, SigningKey.generate())
        payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}})
        headers = signer.signed_headers(payload.encode())
        response = await raw.http.post(raw.url, content=payload.encode() + b" ", headers=headers)
        assert response.status_code == 401
        await raw.http.aclose()
        await signer.http.aclose()


@pytest.mark.req("AGT-032")
async def test_allow_and_deny_lists() -> None:
    from ..conftest import make_agent

    friend, stranger = SigningKey.generate(), SigningKey.generate()
    agent = make_agent(policy=SignaturePolicy(allow={friend.did}))
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        ok = RawCaller(app, friend)
        body = await ok.rpc("SendMessage", {"message": message("echo", {"text": "hi"})})
        assert body["result"]["task"]["artifacts"][0]["parts"][0]["data"]["caller"] == friend.did
        no = RawCaller(app, stranger)
        response = await no.post({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == -32051
        assert error_info(response.json())["reason"] == "CALLER_NOT_ALLOWED"
        for c in (ok, no):
            await c.http.aclose()

    agent = make_agent(policy=SignaturePolicy(deny={stranger.did}))
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        no = RawCaller(app, stranger)
        response = await no.post({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}})
        assert response.status_code == 403
        yes = RawCaller(app, friend)
        assert "result" in await yes.rpc("ListTasks", {})
        for c in (yes, no):
            await c.http.aclose()

    agent = make_agent(policy=SignaturePolicy(require_signatures=False, allow={friend.did}))
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        anon = RawCaller(app, None)
        response = await anon.post(
            {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}, sign=False
        )
        assert response.status_code == 403
        await anon.http.aclose()


@pytest.mark.req("AGT-040")
async def test_internal_failure_is_32603_and_the_agent_keeps_serving() -> None:
    from woa_agents import InMemoryTaskStore
    from woa_protocol.models import Task

    from ..conftest import make_agent

    class BrokenDisk(InMemoryTaskStore):
        """A store whose disk fails on the next write (fault injection)."""

        fail_next = False

        async def save(self, task: Task, owner: str | None) -> None:
            if self.fail_next:
                self.fail_next = False
                raise OSError("disk full")
            await super().save(task, owner)

    store = BrokenDisk()
    app = make_agent(store=store).app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, SigningKey.generate())
        store.fail_next = True
        body = await raw.rpc("SendMessage", {"message": message("echo", {"text": "x"})})
        assert body["error"]["code"] == -32603
        assert "disk full" not in body["error"]["message"]  # no internals leak
        await assert_still_serving(raw)
        await raw.http.aclose()


@pytest.mark.req("AGT-034")
async def test_stream_head_is_signed_for_unsigned_callers_too() -> None:
    from ..conftest import make_agent

    agent = make_agent(policy=SignaturePolicy(require_signatures=False))
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, None)
        payload = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendStreamingMessage",
            "params": {"message": message("echo", {"text": "s"})},
        }
        response = await raw.post(payload, sign=False)
        assert response.headers["content-type"] == "text/event-stream"
        assert f'keyid="{agent.did}"' in response.headers["signature-input"]
        assert '"@status" "content-type"' in response.headers["signature-input"]
        await raw.http.aclose()


async def test_a_client_that_leaves_before_its_body_gets_no_answer(raw: RawCaller) -> None:
    app = raw.app  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"agent.test"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("agent.test", 80),
    }
    await app(scope, receive, send)
    assert sent == []
    await assert_still_serving(raw)
    metrics = (await raw.http.get("http://agent.test/metrics")).text
    assert 'outcome="CLIENT_DISCONNECTED"' in metrics


async def test_a_body_in_several_chunks_is_read_whole(raw: RawCaller) -> None:
    whole = echo_call("in pieces", 7)

    async def chunks() -> Any:
        for start in range(0, len(whole), 50):
            yield whole[start : start + 50]

    response = await raw.http.post(raw.url, content=chunks(), headers=raw.signed_headers(whole))
    result = response.json()["result"]["task"]
    assert result["status"]["state"] == "TASK_STATE_COMPLETED"
    assert result["artifacts"][0]["parts"][0]["data"]["text"] == "in pieces"


@pytest.mark.req("AGT-005")
async def test_a_body_declared_as_not_json_is_content_type_not_supported() -> None:
    from ..conftest import make_agent

    app = make_agent(policy=SignaturePolicy(require_signatures=False)).app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, None)
        body = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}}
        response = await raw.post(body, headers={"content-type": "text/plain"})
        assert response.status_code == 415
        assert response.json()["error"]["code"] == -32005
        ok = await raw.post(body, headers={"content-type": "application/a2a+json; charset=utf-8"})
        assert ok.json()["error"]["code"] == -32001  # read as JSON: the task is unknown
        await raw.http.aclose()
