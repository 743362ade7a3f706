"""The writer agent on real sockets: a real registry, discovery, signed calls, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from woa_agents import AgentCallError, AgentClient, JsonRpcCode, RpcError
from woa_protocol import SigningKey
from woa_protocol.models import TaskState
from woa_samples import CATALOG
from woa_samples.inputs import InputPolicy
from woa_writer import (
    MAX_TEXT_CHARS,
    ExtractOut,
    GenerateOut,
    SummarizeIn,
    SummarizeOut,
    Writer,
    build_agent,
)

from ..test_e2e import RegistryServer, free_port
from .receipts import EXPENSE_SCHEMA, FIELDS, field_correct, make_receipts
from .test_model import ARTICLE


@dataclass
class Setup:
    client: AgentClient
    url: str
    did: str


@pytest.fixture
async def served(writer: Writer, tmp_path: Path) -> AsyncIterator[Setup]:
    registry = await RegistryServer(tmp_path, free_port(), "registry.db").start()
    agent = build_agent(
        writer,
        registry_url=registry.url,
        lease_seconds=10,
        heartbeat_interval=1.0,
        max_body_bytes=256 * 1024,
    )
    try:
        async with (
            agent.running() as running,
            AgentClient(SigningKey.generate(), registry_url=registry.url, timeout=120) as client,
        ):
            assert running.lifecycle is not None
            await asyncio.wait_for(running.lifecycle.registered.wait(), 10)
            yield Setup(client, running.url, agent.did)
    finally:
        await registry.stop()


@pytest.mark.req("WRT-001")
@pytest.mark.req("WRT-003")
@pytest.mark.timeout(900)  # several model calls on a shared 2-core machine
async def test_discovered_and_called_with_signatures(served: Setup) -> None:
    client = served.client
    for skill in ("generate", "summarize", "extract"):
        assert [a.did for a in await client.find(skill=skill)] == [served.did]
    [remote] = await client.find(family="slm")
    profile = remote.skills["extract"]
    assert profile.family == "slm"
    assert profile.latency is not None
    receipt = make_receipts(1, seed=99)[0]
    out = await client.call(
        "extract", {"text": receipt.text, "json_schema": EXPENSE_SCHEMA}, ExtractOut
    )
    jsonschema.validate(out.data, EXPENSE_SCHEMA)
    assert isinstance(out.data, dict)
    assert sum(field_correct(f, out.data[f], receipt.expected[f]) for f in FIELDS) >= 4
    summary = await client.call("summarize", SummarizeIn(text=ARTICLE, max_words=30), SummarizeOut)
    assert summary.words <= 30
    # a plain text part fills summarize's single required string field
    plain = await client.call("summarize", ARTICLE, SummarizeOut)
    assert 0 < plain.words <= 60
    assert summary.words == len(summary.summary.split())


@pytest.mark.req("WRT-002")
async def test_generate_streams_partial_text(served: Setup) -> None:
    pieces: list[str] = []
    result: GenerateOut | None = None
    async for event in served.client.stream(
        "generate",
        {"prompt": "Say hello to Ada Lovelace in one short sentence.", "max_tokens": 32},
        GenerateOut,
        agent=served.url,
    ):
        if event.kind == "artifact" and not event.data.get("lastChunk"):
            assert event.data["artifact"]["artifactId"] == "result"
            pieces.extend(p["text"] for p in event.data["artifact"]["parts"])
        elif event.kind == "result":
            result = event.output
    assert result is not None
    assert len(pieces) >= 3
    assert result.text == "".join(pieces)
    assert "ada" in result.text.lower()


@pytest.mark.req("WRT-004")
@pytest.mark.timeout(900)  # several model calls on a shared 2-core machine
async def test_malformed_and_oversized_input_is_refused(served: Setup) -> None:
    client = served.client

    async def refused(skill: str, payload: object) -> RpcError:
        with pytest.raises(RpcError) as caught:
            await client.call(skill, payload, agent=served.url)
        return caught.value

    bad = await refused("summarize", {"text": "some text", "max_words": "many"})
    assert (bad.code, bad.reason) == (JsonRpcCode.INVALID_PARAMS, "SCHEMA_VALIDATION_FAILED")
    assert [v["field"] for v in bad.violations] == ["$.max_words"]

    bad = await refused("extract", {"text": "x", "json_schema": {"type": "nope"}})
    assert (bad.code, bad.reason) == (JsonRpcCode.INVALID_PARAMS, "SCHEMA_VALIDATION_FAILED")
    assert bad.violations[0]["field"] == "$.json_schema"
    assert "not a valid JSON Schema" in bad.violations[0]["description"]

    big = await refused("summarize", {"text": "word " * (MAX_TEXT_CHARS // 5 + 1)})
    assert (big.code, big.reason) == (JsonRpcCode.INVALID_PARAMS, "SCHEMA_VALIDATION_FAILED")
    assert [v["field"] for v in big.violations] == ["$.text"]

    huge = await refused("summarize", {"text": "x" * 300_000})  # over the body limit
    assert (huge.code, huge.reason) == (JsonRpcCode.INVALID_REQUEST, "PAYLOAD_TOO_LARGE")

    with pytest.raises(AgentCallError, match=r"REJECTED.*grammar"):
        await client.call(
            "extract",
            {"text": "x", "json_schema": {"type": "string", "pattern": "abc"}},
            agent=served.url,
        )
    # and it keeps serving
    out = await client.call("summarize", SummarizeIn(text=ARTICLE, max_words=15), SummarizeOut)
    assert 0 < out.words <= 15


@pytest.mark.req("WRT-006")
async def test_cancel_task_stops_generation(served: Setup, writer: Writer) -> None:
    client = served.client
    events = client.stream(
        "generate",
        {"prompt": "Count from 1 to 400, one number per line.", "max_tokens": 800},
        agent=served.url,
    )
    task_id = None
    async for event in events:
        if event.kind == "task":
            task_id = event.data["id"]
        if event.kind == "artifact":
            break
    await events.aclose()
    assert task_id is not None
    canceled = await client.cancel(task_id, agent=served.url)
    assert canceled.status.state is TaskState.CANCELED
    await writer.idle()
    assert writer.last.stopped
    assert writer.last.pieces < 200


def test_the_catalog_builds_the_writer_as_a_sample(writer: Writer) -> None:
    sample = CATALOG["writer"].build(policy=InputPolicy(), writer=writer)
    assert sample.agent.name == "writer"
    assert set(sample.agent.skills) == {"generate", "summarize", "extract"}
    assert list(sample.workers) == [writer]
