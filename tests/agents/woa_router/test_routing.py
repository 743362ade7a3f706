"""The classifier itself, on hand-made feature vectors (the encoder is tested with the agent)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from woa_router import SkillDoc, SkillRouter, skill_docs_from_card
from woa_router.routing import Vectors

VOCABULARY = ["text", "image", "audio", "receipt", "speech", "summary", "vector", "mask"]


async def bag_of_words(texts: Sequence[str]) -> Vectors:
    """Features for the classifier's own tests: word counts over a tiny vocabulary."""
    rows = (
        np.array([[t.lower().count(w) for w in VOCABULARY] for t in texts], dtype=np.float32) + 1e-3
    )
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def doc(skill: str, description: str, modes: tuple[str, ...] = ()) -> SkillDoc:
    return SkillDoc(
        "did:key:z6Mkexample", "agent", "http://x", skill, skill, description, (), (), modes
    )


SKILLS = [
    doc("read", "read the text in an image of a receipt", ("image/png",)),
    doc("transcribe", "transcribe speech audio to text", ("audio/wav",)),
    doc("summarize", "write a short summary of text"),
    doc("segment", "cut a mask out of an image"),
]


async def test_ranks_the_skill_whose_description_matches() -> None:
    router = SkillRouter(embed=bag_of_words)
    await router.fit(SKILLS)
    ranked = await router.rank("what does the speech in this audio say", k=2)
    assert ranked[0].skill.skill_id == "transcribe"
    assert ranked[0].probability > ranked[1].probability
    probs = [r.probability for r in await router.rank("anything", k=4)]
    assert sum(probs) == pytest.approx(1.0, abs=1e-4)


async def test_a_filter_keeps_only_skills_it_accepts() -> None:
    router = SkillRouter(embed=bag_of_words)
    await router.fit(SKILLS)
    ranked = await router.rank("speech audio", k=4, accepts=lambda s: "image/png" in s.input_modes)
    assert [r.skill.skill_id for r in ranked] == ["read"]


async def test_refit_forgets_skills_that_left_and_empty_means_no_answer() -> None:
    router = SkillRouter(embed=bag_of_words)
    await router.fit(SKILLS)
    await router.fit(SKILLS[:1])
    assert [r.skill.skill_id for r in await router.rank("speech audio", k=4)] == ["read"]
    await router.fit([])
    assert await router.rank("speech audio") == []


def test_skill_docs_come_from_the_card_and_its_extension() -> None:
    card = {
        "name": "reader",
        "skills": [
            {
                "id": "read",
                "name": "Read",
                "description": "OCR",
                "tags": ["ocr"],
                "inputModes": ["image/png"],
            }
        ],
        "capabilities": {
            "extensions": [
                {
                    "uri": "urn:woa:ext:agent-card:v1",
                    "params": {
                        "did": "did:key:z6Mkabc",
                        "skills": {"read": {"examples": [{"input": {"hint": "a till receipt"}}]}},
                    },
                }
            ]
        },
    }
    (skill,) = skill_docs_from_card(card, "http://127.0.0.1:9000")
    assert skill.key == ("did:key:z6Mkabc", "read")
    assert skill.input_modes == ("image/png",)
    assert "a till receipt" in skill.training_texts()
