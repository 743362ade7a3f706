"""The OpenAPI document matches the server: precondition headers, strict booleans, Allow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from woa_protocol import SigningKey

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
