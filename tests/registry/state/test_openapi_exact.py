"""The OpenAPI document matches the server: precondition headers, strict booleans, Allow."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
import pytest

from woa_protocol import SigningKey
from woa_protocol.identity import ED25519_DID_PATTERN

from ._support import NS, signed_request

P = "urn:woa:problem:"


def _parameters(document: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    operation = document["paths"][path][method]
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


@pytest.mark.req("REG-005")
async def test_state_writes_declare_their_precondition_headers(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    path = "/v1/state/{ns}/docs/{key}"
    put = _parameters(document, path, "put")
    assert put["If-Match"]["required"] is False
    assert put["If-None-Match"]["schema"] == {"type": "string", "enum": ["*"]}
    for method in ("patch", "delete"):
        headers = _parameters(document, path, method)
        assert headers["If-Match"]["required"] is True
        assert "If-None-Match" not in headers


@pytest.mark.req("REG-005")
@pytest.mark.parametrize("value", [0, 1, "true", None])
async def test_public_read_is_a_strict_boolean(
    http: httpx.AsyncClient, owner: SigningKey, value: Any
) -> None:
    path = f"/v1/state/{NS}"
    content, headers = signed_request(owner, "PUT", path, {"publicRead": value})
    response = await http.put(path, content=content, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == P + "invalid-request"
    assert (await http.get(path)).status_code == 404  # nothing was created


@pytest.mark.req("REG-006")
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/state/board/docs/k", {"GET", "PUT", "PATCH", "DELETE"}),
        ("/v1/agents/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", None),
    ],
)
async def test_a_405_names_every_allowed_method(
    http: httpx.AsyncClient, path: str, expected: set[str] | None
) -> None:
    response = await http.request("POST", path)
    assert response.status_code == 405
    assert response.json()["type"] == P + "method-not-allowed"
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    if expected is not None:
        assert allowed == expected
    else:
        assert {"GET", "PUT", "DELETE"} <= allowed


async def _write(
    http: httpx.AsyncClient, key: SigningKey, method: str, path: str, body: Any, **headers: str
) -> httpx.Response:
    content, signed = signed_request(key, method, path, body, headers=headers)
    return await http.request(method, path, content=content, headers=signed)


@pytest.mark.req("STATE-012")
async def test_an_entity_tag_may_hold_a_comma(http: httpx.AsyncClient, owner: SigningKey) -> None:
    # the document allows any quoted tag in the list; the parser once split it at commas
    assert (await _write(http, owner, "PUT", f"/v1/state/{NS}", {})).status_code == 201
    doc = f"/v1/state/{NS}/docs/k"
    created = await _write(http, owner, "PUT", doc, {"v": 1}, **{"if-none-match": "*"})
    assert created.status_code == 201, created.text
    replaced = await _write(http, owner, "PUT", doc, {"v": 2}, **{"if-match": '"a,b", "1"'})
    assert replaced.status_code == 200, replaced.text
    stale = await _write(http, owner, "PUT", doc, {"v": 3}, **{"if-match": '"1,2"'})
    assert stale.status_code == 412, stale.text  # "1,2" is one tag, not versions 1 and 2
    broken = await _write(http, owner, "PUT", doc, {"v": 3}, **{"if-match": '"1" "2"'})
    assert broken.status_code == 422, broken.text
    assert (await _write(http, owner, "GET", doc, None)).json()["value"] == {"v": 2}


@pytest.mark.req("REG-005")
async def test_the_document_declares_what_the_server_refuses(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    agents = document["paths"]["/v1/agents/{did}"]
    for method in ("put", "delete"):
        (did,) = [p for p in agents[method]["parameters"] if p["name"] == "did"]
        assert did["schema"]["pattern"] == ED25519_DID_PATTERN  # not any string (400)
    (did,) = [p for p in agents["get"]["parameters"] if p["name"] == "did"]
    assert re.search(did["schema"]["pattern"], "urn:woa:url:" + "0" * 32)
    search = {p["name"]: p["schema"] for p in document["paths"]["/v1/agents"]["get"]["parameters"]}
    for name in ("skill", "tag", "inputMode", "outputMode"):
        assert search[name]["minLength"] == 1  # an empty filter is refused (REG-042)
        assert not re.search(search[name]["pattern"], "a\x9bb")  # so is a control character
    assert re.search(search["q"]["pattern"], "")
    state = document["paths"]["/v1/state/{ns}"]["put"]["requestBody"]["content"]
    acl = state["application/json"]["schema"]["properties"]
    assert acl["writers"]["items"]["pattern"] == ED25519_DID_PATTERN


@pytest.mark.req("REG-005")
@pytest.mark.parametrize(
    ("operation", "valid"),
    [
        ({"op": "put", "key": "k", "value": 1}, True),
        ({"op": "put", "key": "k"}, False),
        ({"op": "patch", "key": "k", "patch": [], "ifMatch": '"1"'}, True),
        ({"op": "patch", "key": "k", "ifMatch": '"1"'}, False),
        ({"op": "check", "key": "k", "ttlSeconds": 5}, False),
        ({"op": "put", "key": "k", "value": 1, "ifMatch": '"1"', "ifNoneMatch": "*"}, False),
        ({"op": "put", "key": "a b", "value": 1}, False),
        ({"op": "delete", "key": "k", "ifMatch": "Z"}, False),
    ],
)
async def test_batch_operations_are_declared_as_the_server_checks_them(
    http: httpx.AsyncClient, owner: SigningKey, operation: dict[str, Any], valid: bool
) -> None:
    document = (await http.get("/openapi.json")).json()
    body = document["paths"]["/v1/state/{ns}/batch"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    declared = jsonschema.Draft202012Validator(schema).is_valid({"operations": [operation]})
    assert declared is valid
    assert (await _write(http, owner, "PUT", f"/v1/state/{NS}", {})).status_code == 201
    path = f"/v1/state/{NS}/batch"
    response = await _write(http, owner, "POST", path, {"operations": [operation]})
    assert (response.status_code != 422) is valid, response.text
