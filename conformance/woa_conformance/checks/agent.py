"""Agent checks: the signed card and its extension, the A2A JSON-RPC binding, typed skills.

Checks that call a skill use the first skill whose profile gives an example input; an
agent without the Web of Agents extension is called with a plain text message instead, and
the typed-skill checks say why they do not apply. Tasks the checks create stay in the
agent's task store (A2A has no way to delete a task).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import jsonschema

from woa_protocol import (
    CardSignatureError,
    SchemaError,
    SigningKey,
    ValidationFailedError,
    check_schema,
    resolve_did,
    validate_instance,
    verify_card,
)

from ..core import check, not_applicable, require
from ..manifest import default_spec_dir
from ..target import Reply, Target

_TIME_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_TERMINAL = {
    "TASK_STATE_COMPLETED",
    "TASK_STATE_FAILED",
    "TASK_STATE_CANCELED",
    "TASK_STATE_REJECTED",
}
_INTERRUPTED = {"TASK_STATE_INPUT_REQUIRED", "TASK_STATE_AUTH_REQUIRED"}
_STATES = _TERMINAL | _INTERRUPTED | {"TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"}
_NEXT = {
    "TASK_STATE_SUBMITTED": _STATES - {"TASK_STATE_SUBMITTED"},
    "TASK_STATE_WORKING": _STATES - {"TASK_STATE_SUBMITTED"},
    "TASK_STATE_INPUT_REQUIRED": {
        "TASK_STATE_WORKING",
        "TASK_STATE_COMPLETED",
        "TASK_STATE_FAILED",
        "TASK_STATE_CANCELED",
    },
    "TASK_STATE_AUTH_REQUIRED": {"TASK_STATE_WORKING", "TASK_STATE_FAILED", "TASK_STATE_CANCELED"},
}
_NOT_DEFAULTS = ("inputSchema", "outputSchema", "params", "tags")
"""Members CARD-005 does not cover: JSON values inside schemas, and required ``tags``."""
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _message(parts: list[dict[str, Any]], skill: str | None = None, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "messageId": uuid.uuid4().hex,
        "role": "ROLE_USER",
        "parts": parts,
        **extra,
    }
    if skill is not None:
        msg["metadata"] = {"woa.skill": skill}
    return msg


def _result(reply: Reply, requirement: str, doing: str) -> Any:
    body = reply.json()
    require(
        isinstance(body, dict) and body.get("jsonrpc") == "2.0",
        requirement,
        f"{doing}: not a JSON-RPC response: {reply.describe()}",
    )
    require("result" in body, requirement, f"{doing}: {reply.describe()}")
    return body["result"]


def _error(
    reply: Reply, code: int, requirement: str, doing: str, reason: str | None = None
) -> dict[str, Any]:
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    require(
        isinstance(error, dict) and error.get("code") == code,
        requirement,
        f"{doing}: expected JSON-RPC error {code}, got {reply.describe()}",
    )
    assert isinstance(error, dict)
    if reason is not None:
        info = _error_info(error)
        require(
            info is not None and info.get("reason") == reason,
            requirement,
            f"{doing}: expected reason {reason}, got {info}",
        )
    return error


def _error_info(error: dict[str, Any]) -> dict[str, Any] | None:
    data = error.get("data")
    if (
        isinstance(data, list)
        and data
        and isinstance(data[0], dict)
        and data[0].get("@type") == "type.googleapis.com/google.rpc.ErrorInfo"
    ):
        return data[0]
    return None


async def _call_message(target: Target, **extra: Any) -> dict[str, Any]:
    """A message the agent serves: the typed example call; plain text without the extension."""
    if await target.extension() is None:
        return _message([{"text": "hello from the conformance suite"}], **extra)
    skill, example, _ = await target.skill_with_example()
    return _message([{"data": example}], skill, **extra)


async def _task_call(target: Target, **config: Any) -> tuple[dict[str, Any], SigningKey]:
    """Send :func:`_call_message`; return the Task and the caller's key."""
    key = target.new_key()
    params: dict[str, Any] = {"message": await _call_message(target)}
    if config:
        params["configuration"] = config
    reply = await target.rpc("SendMessage", params, key=key)
    result = _result(reply, "AGT-001", "SendMessage")
    require(isinstance(result, dict), "AGT-001", f"SendMessage answered {result!r}")
    if "message" in result and await target.extension() is None:
        not_applicable("the agent answers plain messages with a Message, not a Task")
    require(isinstance(result.get("task"), dict), "AGT-001", f"SendMessage answered {result!r}")
    return result["task"], key


async def _typed_call(
    target: Target, **config: Any
) -> tuple[dict[str, Any], dict[str, Any], SigningKey]:
    """Call the example skill and return (task, skill profile, the caller's key)."""
    skill, example, profile = await target.skill_with_example()
    key = target.new_key()
    params: dict[str, Any] = {"message": _message([{"data": example}], skill)}
    if config:
        params["configuration"] = config
    reply = await target.rpc("SendMessage", params, key=key, headers={"traceparent": TRACEPARENT})
    result = _result(reply, "AGT-001", "SendMessage")
    require(
        isinstance(result, dict) and isinstance(result.get("task"), dict),
        "AGT-001",
        f"SendMessage answered {result!r}, expected {{'task': Task}}",
    )
    return result["task"], profile, key


def _task_shape(task: dict[str, Any]) -> None:
    require(
        isinstance(task.get("id"), str) and isinstance(task.get("status"), dict),
        "AGT-001",
        f"not a Task: {task}",
    )
    state = task["status"].get("state")
    require(state in _STATES, "MOD-001", f"task state {state!r} is not an A2A enum string")
    stamp = task["status"].get("timestamp")
    require(
        stamp is None or _TIME_Z.match(str(stamp)),
        "MOD-001",
        f"timestamp {stamp!r} is not RFC 3339 UTC",
    )
    for artifact in task.get("artifacts") or []:
        for part in artifact.get("parts") or []:
            held = [k for k in ("text", "raw", "url", "data") if k in part]
            require(len(held) == 1, "MOD-002", f"a part holds {held}")


# -- the card -------------------------------------------------------------------------------


@check("agent", "AGT-002", "CARD-001", "CARD-002", "CARD-004", "JCS-001", "ID-001", "ID-003")
async def check_signed_card(target: Target) -> None:
    """The card is signed (JWS over JCS) by its extension's DID; cacheable with a strong ETag."""
    card = await target.card()
    did = await target.require_identity()
    require(resolve_did(did).did == did, "ID-001", f"{did} is not an Ed25519 did:key")
    try:
        verified = verify_card(card, expected_did=did)
    except CardSignatureError as exc:
        require(False, "CARD-004", f"the card's signature does not verify for {did}: {exc.detail}")
    header = verified[0].protected_header
    require(
        header.get("alg") in ("EdDSA", "Ed25519") and header.get("typ") == "JOSE",
        "CARD-002",
        f"protected header {header}",
    )
    require(
        str(header.get("kid")).startswith(did + "#"),
        "ID-003",
        f"kid {header.get('kid')!r} is not the DID URL",
    )
    require(
        all(set(s) <= {"protected", "signature", "header"} for s in card["signatures"]),
        "CARD-001",
        "a signature entry has other members",
    )
    reply = await target.card_reply()
    etag = reply.headers.get("etag", "")
    require(reply.headers.get("cache-control"), "AGT-002", "the card has no Cache-Control")
    require(
        etag.startswith('"') and not etag.startswith("W/"),
        "AGT-002",
        f"ETag {etag!r} is not strong",
    )
    again = await target.send(
        "GET", "/.well-known/agent-card.json", headers={"if-none-match": etag}
    )
    require(
        again.status == 304 and not again.content, "AGT-002", f"If-None-Match: {again.describe()}"
    )


@check("agent", "EXT-001", "EXT-002", "EXT-003", "EXT-004", "EXT-005", "MOD-003")
async def check_card_extension(target: Target) -> None:
    """The card has A2A's required members and a valid Web of Agents extension."""
    card = await target.card()
    for member in (
        "name",
        "description",
        "supportedInterfaces",
        "version",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    ):
        require(member in card, "MOD-003", f"the card lacks {member!r}")
    for skill in card["skills"]:
        require(
            {"id", "name", "description", "tags"} <= set(skill),
            "MOD-003",
            f"skill lacks members: {skill}",
        )
    ext = await target.extension()
    require(ext is not None, "EXT-001", "the card has no urn:woa:ext:agent-card:v1 extension")
    assert ext is not None
    schema = json.loads(
        (default_spec_dir() / "schemas" / "v1" / "woa-card-extension.json").read_text()
    )
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(ext), key=str)
    require(
        not errors,
        "EXT-001",
        f"extension params off their schema: {[e.message for e in errors[:3]]}",
    )
    require("#" not in ext["did"], "EXT-002", "params.did has a fragment")
    ids = {s["id"] for s in card["skills"]}
    for skill_id, profile in ext["skills"].items():
        require(skill_id in ids, "EXT-005", f"profile {skill_id!r} names no skill of the card")
        for which in ("inputSchema", "outputSchema"):
            try:
                check_schema(profile[which])
            except SchemaError as exc:
                require(
                    False,
                    "EXT-003",
                    f"{skill_id}.{which} is not a valid 2020-12 schema: {exc.detail}",
                )
        for example in profile.get("examples") or []:
            for part, which in (("input", "inputSchema"), ("output", "outputSchema")):
                if part in example:
                    try:
                        validate_instance(profile[which], example[part])
                    except ValidationFailedError as exc:
                        require(
                            False,
                            "EXT-003",
                            f"{skill_id} example {part} fails its schema: {exc.detail}",
                        )
        require(
            profile.get("family")
            in {
                "llm",
                "slm",
                "vlm",
                "mlm",
                "sam",
                "lcm",
                "lam",
                "moe",
                "asr",
                "tts",
                "ocr",
                "classical",
            },
            "EXT-004",
            f"family {profile.get('family')!r}",
        )


@check("agent", "CARD-005")
async def check_card_omits_defaults(target: Target) -> None:
    """The signed card omits empty strings, arrays and objects (a2a-sdk verifies it too)."""
    card = await target.card()

    def empties(value: Any, path: str) -> list[str]:
        found: list[str] = []
        if isinstance(value, dict):
            for k, v in value.items():
                if k in _NOT_DEFAULTS:
                    continue
                if v in ("", [], {}):
                    found.append(f"{path}.{k}")
                found += empties(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                found += empties(v, f"{path}[{i}]")
        return found

    found = empties({k: v for k, v in card.items() if k != "signatures"}, "$")
    require(not found, "CARD-005", f"empty members in the signed card: {found[:5]}")


# -- signed responses ------------------------------------------------------------------------


@check("agent", "AGT-033", "MSG-005", "MSG-009")
async def check_responses_signed(target: Target) -> None:
    """The card, errors and answers are signed by the agent's DID; bound when the request was."""
    did = await target.agent_did()
    require(
        did is not None,
        "AGT-033",
        "the card names no DID (no Web of Agents extension): nothing it answers is signed by it",
    )
    assert did is not None
    card = await target.card_reply()
    problem = target.signature_error(card, did)
    require(problem is None, "AGT-033", f"the card response: {problem}")
    require(
        "nonce=" not in card.headers.get("signature-input", ""),
        "MSG-009",
        "an unbound answer carries a nonce",
    )
    missing = await target.send("GET", "/no-such-path")
    require(
        target.signature_error(missing, did) is None,
        "AGT-033",
        f"a 404: {target.signature_error(missing, did)}",
    )
    reply = await target.rpc("GetTask", {"id": str(uuid.uuid4())}, key=target.new_key())
    require(
        "signature;req" in reply.headers.get("signature-input", "").replace('"', ""),
        "MSG-005",
        "the answer to a signed request is not bound to it",
    )
    problem = target.signature_error(reply, did)
    require(problem is None, "MSG-005", f"a bound answer: {problem}")


# -- the binding -------------------------------------------------------------------------------


@check("agent", "AGT-001", "AGT-021", "MOD-001", "MOD-002")
async def check_send_message(target: Target) -> None:
    """SendMessage answers {"task": Task} in ProtoJSON, once the task is settled."""
    task, _ = await _task_call(target)
    _task_shape(task)
    state = task["status"]["state"]
    require(state in _TERMINAL | _INTERRUPTED, "AGT-021", f"SendMessage answered in state {state}")


@check("agent", "AGT-013", "AGT-017", "AGT-051")
async def check_typed_result(target: Target) -> None:
    """A typed call completes with a "result" artifact fitting the output schema, traced."""
    task, profile, _ = await _typed_call(target)
    state = task["status"]["state"]
    require(
        state == "TASK_STATE_COMPLETED",
        "AGT-013",
        f"the example call ended {state}: {task['status']}",
    )
    results = [a for a in task.get("artifacts") or [] if a.get("artifactId") == "result"]
    require(
        len(results) == 1 and len(results[0].get("parts") or []) == 1,
        "AGT-013",
        f"artifacts {task.get('artifacts')}",
    )
    require("data" in results[0]["parts"][0], "AGT-017", "a structured result is not a data part")
    data = results[0]["parts"][0].get("data")
    try:
        validate_instance(profile["outputSchema"], data)
    except ValidationFailedError as exc:
        require(False, "AGT-013", f"the result fails outputSchema: {exc.detail}")
    meta = task.get("metadata") or {}
    require(
        meta.get("woa.traceId") == TRACEPARENT.split("-")[1],
        "AGT-051",
        f"task metadata {meta} does not carry the request's trace id",
    )
    require(
        meta.get("woa.parentSpanId") == TRACEPARENT.split("-")[2],
        "AGT-051",
        "woa.parentSpanId is not the caller's span",
    )


@check("agent", "AGT-001", "AGT-021", "AGT-022", "AGT-024", "AGT-025", name="task_methods")
async def check_task_methods(target: Target) -> None:
    """GetTask, ListTasks, CancelTask; tasks visible only to their caller."""
    task, key = await _task_call(target)
    reply = await target.rpc("GetTask", {"id": task["id"]}, key=key)
    got = _result(reply, "AGT-001", "GetTask")
    require(
        isinstance(got, dict) and got.get("id") == task["id"], "AGT-001", f"GetTask answered {got}"
    )
    listed = _result(await target.rpc("ListTasks", {}, key=key), "AGT-001", "ListTasks")
    require(
        isinstance(listed, dict)
        and {"tasks", "nextPageToken", "pageSize", "totalSize"} <= set(listed),
        "AGT-001",
        f"ListTasks shape: {listed}",
    )
    require(
        task["id"] in [t.get("id") for t in listed["tasks"]],
        "AGT-001",
        "ListTasks does not list the caller's task",
    )
    _error(
        await target.rpc("CancelTask", {"id": task["id"]}, key=key),
        -32002,
        "AGT-022",
        "CancelTask on a terminal task",
    )
    _error(
        await target.rpc("CancelTask", {"id": str(uuid.uuid4())}, key=key),
        -32001,
        "AGT-022",
        "CancelTask on an unknown task",
    )
    other = target.new_key()
    _error(
        await target.rpc("GetTask", {"id": task["id"]}, key=other),
        -32001,
        "AGT-024",
        "another caller's GetTask",
    )
    theirs = _result(await target.rpc("ListTasks", {}, key=other), "AGT-001", "ListTasks")
    require(
        task["id"] not in [t.get("id") for t in theirs.get("tasks", [])],
        "AGT-024",
        "another caller's ListTasks lists the task",
    )
    follow = await _call_message(target, taskId=task["id"])
    _error(
        await target.rpc("SendMessage", {"message": follow}, key=key),
        -32004,
        "AGT-025",
        "a message for a terminal task",
    )
    quick, _ = await _task_call(target, returnImmediately=True)
    require(
        quick["status"]["state"] in _STATES, "AGT-021", "returnImmediately answered no task state"
    )


def _sse_events(reply: Reply) -> list[Any]:
    """The JSON ``data`` of each Server-Sent Event in the body (AGT-023 fails on anything else)."""
    text = reply.content.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    events = []
    for block in text.split("\n\n"):
        data = "\n".join(
            line[5:].strip() for line in block.splitlines() if line.startswith("data:")
        )
        if data:
            try:
                events.append(json.loads(data))
            except ValueError:
                require(False, "AGT-023", f"an event that is not JSON: {data[:120]!r}")
    return events


async def _stream(target: Target) -> tuple[Reply, list[dict[str, Any]], SigningKey]:
    key = target.new_key()
    message = await _call_message(target)
    reply = await target.rpc("SendStreamingMessage", {"message": message}, key=key)
    require(
        reply.headers.get("content-type", "").startswith("text/event-stream"),
        "AGT-023",
        f"streaming answered {reply.describe()}",
    )
    return reply, [e.get("result") or {} for e in _sse_events(reply)], key


@check("agent", "AGT-023", "AGT-020", "AGT-017")
async def check_streaming(target: Target) -> None:
    """SendStreamingMessage: the task first, legal transitions, ends once settled."""
    _, results, key = await _stream(target)
    require(
        results and "task" in results[0],
        "AGT-023",
        f"the first event is not the task: {results[:1]}",
    )
    state = results[0]["task"]["status"]["state"]
    for event in results[1:]:
        if "statusUpdate" in event:
            new = event["statusUpdate"]["status"]["state"]
            require(
                new in _NEXT.get(state, set()) or (new == state == "TASK_STATE_WORKING"),
                "AGT-020",
                f"transition {state} -> {new}",
            )
            state = new
    require(state in _TERMINAL | _INTERRUPTED, "AGT-023", f"the stream ended in {state}")
    chunks = [e["artifactUpdate"] for e in results if "artifactUpdate" in e]
    mine = [c for c in chunks if (c.get("artifact") or {}).get("artifactId") == "result"]
    if mine:
        require(not mine[0].get("append"), "AGT-017", "the first chunk of 'result' appends")
        require(
            mine[-1].get("lastChunk") is True and not mine[-1].get("append"),
            "AGT-017",
            f"the last chunk of 'result' is not the whole artifact: {mine[-1]}",
        )
    task_id = results[0]["task"]["id"]
    _error(
        await target.rpc("SubscribeToTask", {"id": task_id}, key=key),
        -32004,
        "AGT-023",
        "SubscribeToTask on a terminal task",
    )


@check("agent", "AGT-034", "MSG-010")
async def check_streaming_signed(target: Target) -> None:
    """A streamed answer's head is signed by the agent and bound to the request."""
    did = await target.agent_did()
    require(did is not None, "AGT-034", "the card names no DID: the stream cannot be signed by it")
    reply, _, _ = await _stream(target)
    problem = target.signature_error(reply, did, stream=True)
    require(problem is None, "MSG-010", f"the stream's head: {problem}")
    require(
        "signature;req" in reply.headers.get("signature-input", "").replace('"', ""),
        "AGT-034",
        "the stream's head is not bound to the request",
    )


# -- typed-skill profile -------------------------------------------------------------------------


def _invalid_payload(schema: dict[str, Any]) -> Any:
    if schema.get("type") == "object" and schema.get("required"):
        return {}
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and sub.get("type") in ("string", "integer", "number", "boolean"):
            return {name: [] if sub["type"] != "array" else 0}
    return None


@check("agent", "AGT-010", "AGT-011", "AGT-012", "AGT-041", "VAL-001")
async def check_typed_input(target: Target) -> None:
    """Unknown skill, wrong parts and schema-invalid payloads are -32602 with their reasons."""
    skill, example, profile = await target.skill_with_example()
    key = target.new_key()

    async def send(msg: dict[str, Any]) -> Reply:
        return await target.rpc("SendMessage", {"message": msg}, key=key)

    error = _error(
        await send(_message([{"data": example}], "no-such-skill-" + uuid.uuid4().hex[:6])),
        -32602,
        "AGT-010",
        "an unknown skill",
        "UNKNOWN_SKILL",
    )
    require(
        _error_info(error) is not None,
        "AGT-041",
        f"error data has no ErrorInfo first: {error.get('data')}",
    )
    _error(
        await send(_message([{"data": example}, {"data": example}], skill)),
        -32602,
        "AGT-011",
        "two data parts",
        "INVALID_PARTS",
    )
    bad = _invalid_payload(profile["inputSchema"])
    if bad is None:
        not_applicable("cannot derive a payload the input schema refuses")
    error = _error(
        await send(_message([{"data": bad}], skill)),
        -32602,
        "AGT-012",
        "a schema-invalid payload",
        "SCHEMA_VALIDATION_FAILED",
    )
    info = _error_info(error) or {}
    require(
        (info.get("metadata") or {}).get("type") == "urn:woa:problem:validation-failed",
        "AGT-012",
        f"ErrorInfo metadata {info.get('metadata')}",
    )
    violations = [
        v
        for d in error.get("data") or []
        if d.get("@type") == "type.googleapis.com/google.rpc.BadRequest"
        for v in d.get("fieldViolations") or []
    ]
    require(
        violations
        and all(
            str(v.get("field", "")).startswith("$") and v.get("description") for v in violations
        ),
        "VAL-001",
        f"fieldViolations {violations}",
    )


@check("agent", "AGT-040", "AGT-041")
async def check_jsonrpc_errors(target: Target) -> None:
    """Bad JSON-RPC gets -32700/-32600/-32601/-32003/-32007/413; the agent keeps serving."""
    key = target.new_key()
    url = await target.rpc_url()
    headers = {"a2a-version": "1.0"}
    cases: list[tuple[bytes, int, str]] = [
        (b'{"jsonrpc": "2.0", "id": 1, "method": ', -32700, "a body that is not JSON"),
        (b"[]", -32600, "a batch"),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "GetTask", "params": {}}', -32600, "jsonrpc 1.0"),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "NoSuchMethod", "params": {}}',
            -32601,
            "an unknown method",
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "CreateTaskPushNotificationConfig", '
            b'"params": {"taskId": "x", "url": "https://example.com/"}}',
            -32003,
            "push notifications",
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "GetExtendedAgentCard", "params": {}}',
            -32007,
            "GetExtendedAgentCard",
        ),
    ]
    errors: list[tuple[str, dict[str, Any]]] = []
    for raw, code, doing in cases:
        reply = await target.send("POST", url, raw=raw, key=key, headers=headers)
        errors.append((doing, _error(reply, code, "AGT-040", doing)))
    big = (
        b'{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "'
        + b"x" * target.options.oversize_bytes
        + b'"}}'
    )
    reply = await target.send("POST", url, raw=big, key=key, headers=headers)
    require(reply.status == 413, "AGT-040", f"a {len(big)}-byte body: {reply.describe()}")
    _error(reply, -32600, "AGT-040", "an oversized body", "PAYLOAD_TOO_LARGE")
    alive = await target.rpc("GetTask", {"id": str(uuid.uuid4())}, key=key)
    _error(alive, -32001, "AGT-040", "GetTask after bad input")
    for doing, error in errors:
        require(_error_info(error) is not None, "AGT-041", f"{doing}: no ErrorInfo in {error}")


@check("agent", "AGT-003")
async def check_version_header(target: Target) -> None:
    """A request naming another A2A major version is -32009 (VersionNotSupported)."""
    reply = await target.rpc(
        "GetTask", {"id": str(uuid.uuid4())}, key=target.new_key(), headers={"a2a-version": "9.0"}
    )
    _error(reply, -32009, "AGT-003", "A2A-Version 9.0")


# -- plain A2A messages on typed skills (AGT-004, AGT-015..AGT-019) ------------------------


@check("agent", "AGT-004")
async def check_protojson_spellings(target: Target) -> None:
    """Members are read as JSON names and proto names; integers as strings, never booleans."""
    key = target.new_key()
    for params in ({"page_size": "1"}, {"pageSize": "1"}, {"pageSize": 1}):
        listed = _result(await target.rpc("ListTasks", params, key=key), "AGT-004", "ListTasks")
        require(
            isinstance(listed, dict) and listed.get("pageSize") == 1,
            "AGT-004",
            f"ListTasks {params} answered pageSize {listed.get('pageSize')!r}, expected 1",
        )
    reply = await target.rpc("ListTasks", {"pageSize": True}, key=key)
    error = _error(reply, -32602, "AGT-004", "pageSize true")
    named = str(error.get("message", "")) + json.dumps(error.get("data"))
    require("pageSize" in named, "AGT-004", f"the error does not name pageSize: {error}")


def _text_skills(card: dict[str, Any]) -> list[str]:
    return [
        str(s["id"])
        for s in card.get("skills") or []
        if isinstance(s, dict) and "text/plain" in (s.get("inputModes") or [])
    ]


@check("agent", "AGT-015")
async def check_text_input(target: Target) -> None:
    """A skill declaring text/plain input takes a plain text message."""
    if await target.extension() is None:
        not_applicable("no typed skills: plain text calls are checked by send_message")
    skills = _text_skills(await target.card())
    if not skills:
        not_applicable("no skill declares text/plain input")
    message = _message([{"text": "hello"}], skills[0])
    reply = await target.rpc("SendMessage", {"message": message}, key=target.new_key())
    result = _result(reply, "AGT-015", f"a text part to {skills[0]}")
    if "task" in result:
        state = result["task"]["status"]["state"]
        require(state == "TASK_STATE_COMPLETED", "AGT-015", f"a text call ended {state}")
    else:
        require("message" in result, "AGT-015", f"a text part to {skills[0]} answered {result}")


@check("agent", "AGT-016")
async def check_input_modes(target: Target) -> None:
    """Card modes are the skills' union; a part of another media type is -32005."""
    card = await target.card()
    skills = [s for s in card.get("skills") or [] if isinstance(s, dict)]
    for member, default in (
        ("inputModes", "defaultInputModes"),
        ("outputModes", "defaultOutputModes"),
    ):
        if skills and all(member in s for s in skills):
            union = {m for s in skills for m in s[member]}
            require(
                set(card.get(default) or []) == union,
                "AGT-016",
                f"{default} {card.get(default)} is not the union of the skills' {member}",
            )
    skill, _, _ = await target.skill_with_example()
    part = {"raw": "aGVsbG8=", "mediaType": "application/x-woa-conformance", "filename": "x.bin"}
    reply = await target.rpc(
        "SendMessage", {"message": _message([part], skill)}, key=target.new_key()
    )
    error = _error(reply, -32005, "AGT-016", "a file part of an unaccepted media type")
    info = _error_info(error) or {}
    require(
        "acceptedModes" in (info.get("metadata") or {}),
        "AGT-016",
        f"ErrorInfo lacks acceptedModes: {info}",
    )


@check("agent", "AGT-018")
async def check_message_results(target: Target) -> None:
    """A skill answering with a Message is answered {"message": ...}, role agent, no task."""
    if await target.extension() is None:
        not_applicable("no typed skills to look for a Message-returning one")
    key = target.new_key()
    for skill in _text_skills(await target.card())[:8]:
        context = uuid.uuid4().hex
        message = _message([{"text": "hello"}], skill, contextId=context)
        reply = await target.rpc("SendMessage", {"message": message}, key=key)
        result = _result(reply, "AGT-018", f"a text call to {skill}")
        if isinstance(result, dict) and "message" in result:
            answer = result["message"]
            require(
                answer.get("role") == "ROLE_AGENT",
                "AGT-018",
                f"a Message reply has role {answer.get('role')!r}",
            )
            require(
                answer.get("contextId") == context,
                "AGT-018",
                "the reply does not keep the request's contextId",
            )
            require("task" not in result, "AGT-018", "a Message reply also carries a task")
            return
    not_applicable("no skill taking text answered with a Message")


@check("agent", "AGT-019")
async def check_default_routing(target: Target) -> None:
    """A message without woa.skill goes to the default or only skill, else SKILL_REQUIRED."""
    if await target.extension() is None:
        message = _message([{"text": "hello"}])
    else:
        _, example, _ = await target.skill_with_example()
        message = _message([{"data": example}])
    reply = await target.rpc("SendMessage", {"message": message}, key=target.new_key())
    body = reply.json()
    if isinstance(body, dict) and "error" in body:
        skills = (await target.card()).get("skills") or []
        require(len(skills) > 1, "AGT-019", f"the only skill was not chosen: {reply.describe()}")
        error = _error(reply, -32602, "AGT-019", "a message without woa.skill", "SKILL_REQUIRED")
        require(
            "woa.skill" in str(error.get("message")),
            "AGT-019",
            "SKILL_REQUIRED does not name the metadata key",
        )
        return
    result = _result(reply, "AGT-019", "a message without woa.skill")
    require("task" in result or "message" in result, "AGT-019", f"answered {result}")


@check("agent", "MSG-011")
async def check_two_host_lines(target: Target) -> None:
    """A JSON-RPC request with two Host lines is HTTP 400, -32600 AMBIGUOUS_HOST, signed."""
    did = await target.require_identity()
    lines = [("host", "a.example"), ("host", "b.example"), ("content-type", "application/json")]
    reply = await target.send_raw_head("POST", await target.rpc_url(), lines)
    require(reply.status == 400, "MSG-011", f"two Host lines: {reply.describe()}")
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    require(
        isinstance(error, dict)
        and error.get("code") == -32600
        and (_error_info(error) or {}).get("reason") == "AMBIGUOUS_HOST",
        "MSG-011",
        f"two Host lines: expected -32600 AMBIGUOUS_HOST, got {reply.describe()}",
    )
    problem = target.signature_error(reply, did)
    require(problem is None, "MSG-011", f"the refusal is not signed: {problem}")


@check("agent", "AGT-005")
async def check_http_json_binding(target: Target) -> None:
    """The same operations over HTTP+JSON: routes, AIP-193 errors, 415, signed answers."""
    base = await target.interface_url("HTTP+JSON")
    require(base is not None, "AGT-005", "the card declares no HTTP+JSON interface")
    assert base is not None
    base = base.rstrip("/")
    did = await target.agent_did()
    key = target.new_key()
    headers = {"a2a-version": "1.0"}
    missing = await target.send("GET", f"{base}/tasks/{uuid.uuid4()}", key=key, headers=headers)
    body = missing.json()
    error = body.get("error") if isinstance(body, dict) else None
    require(
        missing.status == 404
        and isinstance(error, dict)
        and error.get("status") == "NOT_FOUND"
        and error.get("code") == 404,
        "AGT-005",
        f"GET /tasks/<unknown>: expected 404 NOT_FOUND, got {missing.describe()}",
    )
    assert isinstance(error, dict)
    details = error.get("details") or []
    require(
        details and details[0].get("@type") == "type.googleapis.com/google.rpc.ErrorInfo",
        "AGT-005",
        f"the error's first detail is not an ErrorInfo: {details}",
    )
    if did is not None:
        problem = target.signature_error(missing, did)
        require(problem is None, "AGT-005", f"an HTTP+JSON answer is not signed: {problem}")
    message = await _call_message(target)
    sent = await target.send(
        "POST", f"{base}/message:send", body={"message": message}, key=key, headers=headers
    )
    result = sent.json()
    require(
        sent.status == 200
        and isinstance(result, dict)
        and ("task" in result or "message" in result),
        "AGT-005",
        f"POST /message:send: {sent.describe()}",
    )
    if "task" in result:
        task_id = result["task"]["id"]
        got = await target.send("GET", f"{base}/tasks/{task_id}", key=key, headers=headers)
        require(
            got.status == 200 and (got.json() or {}).get("id") == task_id,
            "AGT-005",
            f"GET /tasks/{task_id}: {got.describe()}",
        )
    wrong = await target.send(
        "POST",
        f"{base}/message:send",
        raw=b"hello",
        key=key,
        headers={**headers, "content-type": "text/plain"},
    )
    require(wrong.status == 415, "AGT-005", f"a text/plain body: {wrong.describe()}")


@check("agent", "JCS-006")
async def check_duplicate_member_names(target: Target) -> None:
    """A JSON-RPC body naming one member twice is -32700 DUPLICATE_MEMBER_NAME (path, name)."""
    raw = b'{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "method": "ListTasks", "params": {}}'
    reply = await target.send(
        "POST",
        await target.rpc_url(),
        raw=raw,
        key=target.new_key(),
        headers={"a2a-version": "1.0"},
    )
    error = _error(reply, -32700, "JCS-006", "'method' twice", "DUPLICATE_MEMBER_NAME")
    meta = (_error_info(error) or {}).get("metadata") or {}
    require(
        meta.get("path") == "$" and meta.get("name") == "method",
        "JCS-006",
        f"ErrorInfo metadata {meta}, expected path '$' and name 'method'",
    )


@check("agent", "MSG-013")
async def check_header_bounds(target: Target) -> None:
    """A request with more header fields than the bound is answered 431."""
    headers = {f"x-woa-conformance-{i}": "1" for i in range(200)}
    reply = await target.send("GET", "/.well-known/agent-card.json", headers=headers)
    require(reply.status == 431, "MSG-013", f"200 header fields: {reply.describe()}")


@check("agent", "AGT-028")
async def check_list_tasks_keyset(target: Target) -> None:
    """ListTasks pages by keyset: a task created while paging is neither repeated nor skipped."""
    key = target.new_key()

    async def create() -> str:
        reply = await target.rpc("SendMessage", {"message": await _call_message(target)}, key=key)
        result = _result(reply, "AGT-001", "SendMessage")
        if "task" not in result:
            not_applicable("the agent answers with Messages: no tasks to page through")
        return str(result["task"]["id"])

    made = [await create() for _ in range(3)]
    seen: list[str] = []
    token: str | None = None
    for round_ in range(6):
        params: dict[str, Any] = {"pageSize": 1}
        if token:
            params["pageToken"] = token
        page = _result(await target.rpc("ListTasks", params, key=key), "AGT-001", "ListTasks")
        seen += [t.get("id") for t in page.get("tasks", [])]
        if round_ == 0:
            await create()  # newer than every task already listed
        token = page.get("nextPageToken") or None
        if not token:
            break
    expected = list(reversed(made))
    require(
        seen[: len(expected)] == expected and len(seen) == len(set(seen)),
        "AGT-028",
        f"paging newest first listed {seen}, expected {expected} once each",
    )
    _error(
        await target.rpc("ListTasks", {"pageToken": "not-a-token-we-issued"}, key=key),
        -32602,
        "AGT-028",
        "a page token the agent did not issue",
    )
