"""Router accuracy on held-out requests over the real sample agents' signed cards.

The requests are written here in users' words, not copied from the skills' descriptions.
The features are the real encoder's (all-MiniLM-L6-v2, what the embedder agent serves);
the cards are those the catalog's agents really publish. Run with ``-s`` for the figure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from woa_router.routing import SkillDoc, SkillRouter, Vectors, skill_docs_from_card
from woa_samples import CATALOG

# (request, the skill that should get it)
HELD_OUT: list[tuple[str, str]] = [
    ("what does the sign in this photo say", "read"),
    ("get the printed words off this scanned invoice", "read"),
    ("OCR the menu picture so I can copy the dishes", "read"),
    ("pull the numbers from the screenshot of the bank statement", "read"),
    ("turn this voice note into text", "transcribe"),
    ("what is being said in this podcast clip", "transcribe"),
    ("write down the words of the interview recording", "transcribe"),
    ("cut the dog out of this picture", "segment"),
    ("give me a mask of the car in the image", "segment"),
    ("separate the person from the background of the photo", "segment"),
    ("how close in meaning are 'buy a car' and 'purchase a vehicle'", "similarity"),
    ("are these two sentences saying the same thing", "similarity"),
    ("sort these search results by how well they match my question", "rank"),
    ("which of these documents is most relevant to 'tax deadlines'", "rank"),
    ("is this review about food, service or price", "classify"),
    ("put this support ticket into one of the categories billing, bug or feature", "classify"),
    ("turn these sentences into vectors for my search index", "embed"),
    ("I need numeric feature vectors for these product titles", "embed"),
    ("shorten this long article to a few lines", "summarize"),
    ("give me the gist of this meeting transcript", "summarize"),
    ("fill in this JSON form with the name and amount from the text", "extract"),
    ("pull the invoice number, date and total out of this text as JSON", "extract"),
    ("write a short poem about autumn", "generate"),
    ("draft a polite email declining the invitation", "generate"),
    ("sort out my travel costs from these attachments and submit them once I confirm", "act"),
    ("do the whole job: read these files and produce the report, asking me first", "act"),
]
FLOOR = 0.80


@pytest.fixture(scope="module")
def encoder():  # type: ignore[no-untyped-def]
    from woa_embedder import Encoder

    return Encoder.load()


def _cards() -> list[SkillDoc]:
    docs: list[SkillDoc] = []
    for name, spec in CATALOG.items():
        if name == "router" or not spec.installed():
            continue
        options = {"registry_url": "http://127.0.0.1:9"} if name == "planner" else {}
        sample = spec.build(**options)
        url = f"http://127.0.0.1:9/{name}/"
        docs += skill_docs_from_card(sample.agent.card(url), url)
        sample.close()
    return docs


def test_held_out_requests_reach_the_right_skill(encoder) -> None:  # type: ignore[no-untyped-def]
    async def embed(texts: Sequence[str]) -> Vectors:
        vectors: Vectors = np.asarray(encoder.embed(list(texts)), dtype=np.float32)
        return vectors

    skills = _cards()
    known = {s.skill_id for s in skills}
    cases = [(text, skill) for text, skill in HELD_OUT if skill in known]
    assert len(cases) >= 20

    async def evaluate() -> tuple[int, list[str]]:
        router = SkillRouter(embed=embed)
        await router.fit(skills)
        right, wrong = 0, []
        for text, skill in cases:
            top = (await router.rank(text, 1))[0].skill.skill_id
            if top == skill:
                right += 1
            else:
                wrong.append(f"{text!r}: {top} (want {skill})")
        return right, wrong

    right, wrong = asyncio.run(evaluate())
    accuracy = right / len(cases)
    print(f"\nrouter top-1: {right}/{len(cases)} = {accuracy:.0%} over {len(skills)} skills")
    for line in wrong:
        print("  wrong:", line)
    assert accuracy >= FLOOR, wrong
