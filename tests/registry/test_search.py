"""Searching agents by filters and full text, paging, and searching by payload."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from woa_protocol import SigningKey
from woa_protocol.models import ModelFamily

from ._support import IMAGE_SCHEMA, SkillSpec, make_card, put_agent

OCR = SkillSpec(
    id="ocr",
    name="Read text",
    description="Reads printed text in images",
    tags=("image", "ocr"),
    family=ModelFamily.OCR,
    input_schema=IMAGE_SCHEMA,
    input_modes=("image/png",),
    output_modes=("text/plain",),
)
SUMMARY = SkillSpec()
EMBED = SkillSpec(
    id="embed",
    name="Embed",
    description="Sentence embeddings for semantic similarity",
    tags=("text", "embedding"),
    family=ModelFamily.MLM,
    input_schema={
        "type": "object",
        "required": ["sentences"],
        "properties": {"sentences": {"type": "array", "items": {"type": "string"}}},
    },
)


@pytest.fixture
async def agents(http: httpx.AsyncClient) -> dict[str, SigningKey]:
    keys = {name: SigningKey.generate() for name in ("reader", "writer", "encoder")}
    cards = {
        "reader": make_card(
            keys["reader"], name="Page reader", description="OCR for scans", skills=[OCR]
        ),
        "writer": make_card(
            keys["writer"], name="Summary writer", description="Writes summaries", skills=[SUMMARY]
        ),
        "encoder": make_card(
            keys["encoder"], name="Encoder", description="Vectors for text", skills=[EMBED, SUMMARY]
        ),
    }
    for name, key in keys.items():
        assert (await put_agent(http, key, cards[name])).status_code == 201
    return keys


async def _dids(http: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await http.get("/v1/agents", params=params)
    assert response.status_code == 200, response.text
    return [a["did"] for a in response.json()["agents"]]


@pytest.mark.req("REG-040")
async def test_filters(http: httpx.AsyncClient, agents: dict[str, SigningKey]) -> None:
    reader, writer, encoder = agents["reader"].did, agents["writer"].did, agents["encoder"].did
    assert await _dids(http, skill="ocr") == [reader]
    assert await _dids(http, family="slm") == sorted([writer, encoder])
    assert await _dids(http, inputMode="image/png") == [reader]
    assert await _dids(http, outputMode="text/plain") == [reader]
    assert await _dids(http, tag="embedding") == [encoder]
    assert await _dids(http, tag="text", family="mlm") == [encoder]
    assert await _dids(http, skill="ocr", family="slm") == []
    assert await _dids(http) == sorted([reader, writer, encoder])
    response = await http.get("/v1/agents", params={"tag": "text"})
    matched = response.json()["matchedSkills"]
    assert sorted(matched[encoder]) == ["embed", "summarize"]
    assert matched[writer] == ["summarize"]


@pytest.mark.req("REG-040")
async def test_full_text(http: httpx.AsyncClient, agents: dict[str, SigningKey]) -> None:
    assert await _dids(http, q="printed images") == [agents["reader"].did]
    assert await _dids(http, q="semantic") == [agents["encoder"].did]
    assert await _dids(http, q="writes") == [agents["writer"].did]
    assert await _dids(http, q="summaries") == sorted([agents["writer"].did, agents["encoder"].did])
    assert await _dids(http, q="nothing-matches-this") == []


@pytest.mark.req("REG-041")
async def test_paging_is_stable_and_complete(http: httpx.AsyncClient) -> None:
    keys = [SigningKey.generate() for _ in range(7)]
    for key in keys:
        assert (await put_agent(http, key)).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/v1/agents", params=params)).json()
        assert len(page["agents"]) <= 3
        seen += [a["did"] for a in page["agents"]]
        pages += 1
        cursor = page.get("nextCursor")
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(k.did for k in keys)


@pytest.mark.req("REG-042")
@pytest.mark.parametrize(
    ("params", "status", "slug"),
    [
        ({"cursor": "not-a-cursor"}, 400, "invalid-cursor"),
        ({"family": "giant"}, 422, "invalid-request"),
        ({"limit": 0}, 422, "invalid-request"),
        ({"limit": 1001}, 422, "invalid-request"),
        ({"limit": "ten"}, 422, "invalid-request"),
        ({"skill": ""}, 422, "invalid-request"),
    ],
)
async def test_bad_search_parameters(
    http: httpx.AsyncClient, params: dict[str, Any], status: int, slug: str
) -> None:
    response = await http.get("/v1/agents", params=params)
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:woa:problem:{slug}"


@pytest.mark.req("REG-042")
async def test_bad_search_parameters_are_each_named(
    http: httpx.AsyncClient, agents: dict[str, SigningKey]
) -> None:
    response = await http.get(
        "/v1/agents", params={"limit": "0", "family": "giant", "inputMode": "x" * 257}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:woa:problem:invalid-request"
    assert sorted(e["path"] for e in problem["errors"]) == [
        "query.family",
        "query.inputMode",
        "query.limit",
    ]
    # Unknown parameters are ignored; a parameter given twice counts with its last value.
    response = await http.get("/v1/agents?unknown=1&limit=0&limit=2")
    assert response.status_code == 200, response.text
    assert len(response.json()["agents"]) == 2


@pytest.mark.req("REG-004")
async def test_search_parameters_are_documented(http: httpx.AsyncClient) -> None:
    operation = (await http.get("/openapi.json")).json()["paths"]["/v1/agents"]["get"]
    documented = {p["name"]: p for p in operation["parameters"]}
    assert list(documented) == [
        "skill", "family", "inputMode", "outputMode", "tag", "q", "limit", "cursor",
    ]  # fmt: skip
    assert all(p["in"] == "query" and not p["required"] for p in documented.values())
    assert documented["limit"]["schema"] == {
        "default": 20,
        "description": "Page size (server-capped).",
        "maximum": 1000,
        "minimum": 1,
        "title": "Limit",
        "type": "integer",
    }
    family = documented["family"]["schema"]["anyOf"][0]["$ref"]
    assert family == "#/components/schemas/ModelFamily"


@pytest.mark.req("REG-074")
async def test_overlong_fields_are_refused(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/agents", params={"q": "x" * 257})
    assert response.json()["type"] == "urn:woa:problem:invalid-request"
    response = await http.get("/v1/agents", params={"cursor": "x" * 1025})
    assert response.json()["type"] == "urn:woa:problem:invalid-request"
    response = await http.get("/v1/agents/did:key:z" + "a" * 300)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:woa:problem:invalid-request"


@pytest.mark.req("REG-043")
async def test_payload_search(http: httpx.AsyncClient, agents: dict[str, SigningKey]) -> None:
    async def matches(body: dict[str, Any]) -> list[tuple[str, str]]:
        response = await http.post("/v1/search/payload", json=body)
        assert response.status_code == 200, response.text
        return [(m["did"], m["skillId"]) for m in response.json()["matches"]]

    writer, encoder = agents["writer"].did, agents["encoder"].did
    assert await matches({"payload": {"text": "hello"}}) == sorted(
        [(writer, "summarize"), (encoder, "summarize")]
    )
    assert await matches({"payload": {"image": "aGVsbG8="}}) == [(agents["reader"].did, "ocr")]
    assert await matches({"payload": {"sentences": ["a", "b"]}}) == [(encoder, "embed")]
    assert await matches({"payload": {"sentences": "not a list"}}) == []
    assert await matches({"payload": {"text": "hi"}, "family": "slm", "tag": "summary"}) == sorted(
        [(writer, "summarize"), (encoder, "summarize")]
    )
    assert await matches({"payload": {"text": "hi"}, "q": "vectors"}) == [(encoder, "summarize")]
    limited = (
        await http.post("/v1/search/payload", json={"payload": {"text": "x"}, "limit": 1})
    ).json()
    assert len(limited["matches"]) == 1
    assert limited["truncated"] is True
    assert (await http.post("/v1/search/payload", json={"payload": {"text": "x"}})).json()[
        "truncated"
    ] is False


@pytest.mark.req("REG-043")
@pytest.mark.parametrize(
    ("content", "slug"),
    [
        (b"{", "malformed-json"),
        (b'{"filters": {}}', "invalid-request"),
        (b'{"payload": 1, "family": "huge"}', "invalid-request"),
        (b"[" * 100_000 + b"]" * 100_000, "not-canonicalizable"),  # any depth (JCS-004)
    ],
)
async def test_bad_payload_search(http: httpx.AsyncClient, content: bytes, slug: str) -> None:
    response = await http.post(
        "/v1/search/payload", content=content, headers={"content-type": "application/json"}
    )
    assert response.json()["type"] == f"urn:woa:problem:{slug}", response.text


@pytest.mark.req("REG-075")
@pytest.mark.parametrize("name", ["skill", "inputMode", "outputMode", "tag", "q"])
@pytest.mark.parametrize("value", ["a%00b", "%1B", "a%7F", "%C2%9F"])
async def test_control_characters_in_filters_are_422(
    http: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await http.get(f"/v1/agents?{name}={value}")
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:woa:problem:invalid-request"
