"""JSON-RPC bodies are I-JSON: duplicate names and deep nesting are refused before anything runs."""

from __future__ import annotations

import json

import pytest

from ..conftest import RawCaller, message
from .test_routes import assert_still_serving, error_info


async def _tasks(raw: RawCaller) -> int:
    listed = await raw.rpc("ListTasks", {})
    total: int = listed["result"]["totalSize"]
    return total


@pytest.mark.req("JCS-006")
async def test_two_method_members_are_refused_and_nothing_runs(raw: RawCaller) -> None:
    params = json.dumps({"message": message("echo", {"text": "x"})})
    body = (
        '{"jsonrpc":"2.0","id":7,"method":"GetTask","params":' + params + ',"method":"SendMessage"}'
    ).encode()
    response = await raw.post(body)
    assert response.json()["error"]["code"] == -32700
    info = error_info(response.json())
    assert info["reason"] == "DUPLICATE_MEMBER_NAME"
    assert info["metadata"]["path"] == "$"
    assert info["metadata"]["name"] == "method"
    assert info["metadata"]["type"] == "urn:woa:problem:duplicate-member-name"
    assert await _tasks(raw) == 0
    await assert_still_serving(raw)


@pytest.mark.req("JCS-006")
async def test_duplicate_names_in_skill_data_are_refused_with_their_path(raw: RawCaller) -> None:
    text = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {"message": message("echo", {"text": "a"})},
        }
    )
    body = text.replace('"text": "a"', '"text": "a", "text": "b"').encode()
    info = error_info((await raw.post(body)).json())
    assert info["reason"] == "DUPLICATE_MEMBER_NAME"
    assert info["metadata"]["path"] == "$.params.message.parts[0].data"
    assert await _tasks(raw) == 0


@pytest.mark.req("JCS-004")
@pytest.mark.parametrize("depth", [200, 100_000])
async def test_every_depth_past_the_limit_gets_one_answer(raw: RawCaller, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    body = f'{{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{{"id":{deep}}}}}'.encode()
    response = await raw.post(body)
    assert response.json()["error"]["code"] == -32700
    assert error_info(response.json())["metadata"]["type"] == "urn:woa:problem:not-canonicalizable"
    await assert_still_serving(raw)


@pytest.mark.req("MSG-012")
async def test_an_a2a_version_the_signature_does_not_cover_is_refused(raw: RawCaller) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {"message": message("echo", {"text": "x"})},
        }
    ).encode()
    headers = raw.signed_headers(body)
    headers["a2a-version"] = "1.0"  # added after signing
    response = await raw.http.post(raw.url, content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == -32050
    assert "a2a-version" in response.json()["error"]["message"]
    covered = raw.signed_headers(body, {"a2a-version": "1.0"})  # the SDK's signer covers it
    response = await raw.http.post(raw.url, content=body, headers=covered)
    assert response.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert await _tasks(raw) == 1
