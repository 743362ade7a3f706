"""The embedder agent: its skills in memory and on real sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from woa_agents import connect
from woa_embedder import Encoder
from woa_embedder.agent import ClassifyOut, EmbedOut, RankOut, SimilarityOut, build
from woa_samples.inputs import InputPolicy

from ..woa_samples.support import TEST_BODY_LIMIT, check_on_sockets


@pytest.fixture
def sample(encoder: Encoder):  # type: ignore[no-untyped-def]
    built = build(model=encoder, policy=InputPolicy(max_body_bytes=TEST_BODY_LIMIT))
    yield built
    built.close()


async def test_skills_in_memory(sample) -> None:  # type: ignore[no-untyped-def]
    async with connect(sample.agent) as client:
        embedded = await client.call("embed", {"texts": ["a cat", "a dog"]}, EmbedOut)
        assert embedded.dimensions == 384
        assert [len(v) for v in embedded.vectors] == [384, 384]
        sim = await client.call("similarity", {"a": "a cat", "b": "a kitten"}, SimilarityOut)
        assert 0.5 < sim.score <= 1.0
        ranked = await client.call(
            "rank",
            {"query": "weather tomorrow", "candidates": ["stock prices", "rain forecast"]},
            RankOut,
        )
        assert [r.text for r in ranked.ranking] == ["rain forecast", "stock prices"]
        top = await client.call(
            "rank",
            {"query": "q", "candidates": ["a", "b", "c"], "top_k": 1},
            RankOut,
        )
        assert len(top.ranking) == 1
        classified = await client.call(
            "classify",
            {"text": "The goalkeeper saved a penalty.", "labels": ["cooking", "sports"]},
            ClassifyOut,
        )
        assert classified.label == "sports"
        assert [s.label for s in classified.scores] == ["sports", "cooking"]


def test_card_declares_family_modalities_and_hints(sample) -> None:  # type: ignore[no-untyped-def]
    card = sample.agent.card("http://127.0.0.1:1/")
    ext = next(e for e in card["capabilities"]["extensions"] if "woa" in e["uri"])
    skills = ext["params"]["skills"]
    assert set(skills) == {"embed", "similarity", "rank", "classify"}
    for profile in skills.values():
        assert profile["family"] == "mlm"
        assert profile["inputModalities"] == ["text"]
        assert profile["latency"]["p50Ms"] > 0
        assert profile["cost"]["perCall"] == 0.0


@pytest.mark.req("SMP-004")
async def test_on_real_sockets(sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = await check_on_sockets(
        tmp_path,
        sample,
        skill="rank",
        family="mlm",
        payload={
            "query": "How do I reset my password?",
            "candidates": ["Football results", "Changing your account password"],
        },
        search_payload={"query": "q", "candidates": ["a"]},
        malformed={"query": "q", "candidates": []},
    )
    assert output["ranking"][0]["index"] == 1
