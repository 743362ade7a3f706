"""The embedder agent: all-MiniLM-L6-v2 behind four typed skills, built on the SDK's public API.

Skills: ``embed`` (texts -> unit vectors), ``similarity`` (two texts -> cosine), ``rank``
(a query against candidates) and ``classify`` (zero-shot: a text against given labels).
The model loads once, lazily on the first call or at start (``Sample.warm``), and runs on
its own worker thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

from woa_agents import Agent
from woa_protocol import SigningKey
from woa_samples import ModelWorker, Sample
from woa_samples.inputs import InputPolicy

from .encoder import DIMENSIONS, MODEL_ID, Encoder

__all__ = [
    "ClassifyIn",
    "ClassifyOut",
    "EmbedIn",
    "EmbedOut",
    "LabelScore",
    "RankIn",
    "RankOut",
    "Ranked",
    "SimilarityIn",
    "SimilarityOut",
    "build",
]

Text = Annotated[str, Field(min_length=1, max_length=8000)]


class EmbedIn(BaseModel):
    """Texts to embed (at most 128)."""

    texts: list[Text] = Field(min_length=1, max_length=128)


class EmbedOut(BaseModel):
    """One unit vector per text, in order."""

    model: str
    dimensions: int
    vectors: list[list[float]]


class SimilarityIn(BaseModel):
    """Two texts to compare."""

    a: Text
    b: Text


class SimilarityOut(BaseModel):
    """Cosine similarity of the two texts' embeddings, -1..1."""

    score: float


class RankIn(BaseModel):
    """A query and the candidates to order by similarity to it."""

    query: Text
    candidates: list[Text] = Field(min_length=1, max_length=512)
    top_k: int | None = Field(default=None, ge=1, description="Return only the best k.")


class Ranked(BaseModel):
    """A candidate, its index in the request and its cosine similarity to the query."""

    index: int
    text: str
    score: float


class RankOut(BaseModel):
    """Candidates, most similar first."""

    ranking: list[Ranked]


class ClassifyIn(BaseModel):
    """A text and the labels to choose from (zero-shot)."""

    text: Text
    labels: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=2, max_length=100
    )
    template: str = Field(
        default="This text is about {}.",
        max_length=500,
        pattern=r"\{\}",
        description="How a label becomes a sentence; '{}' stands for the label.",
    )


class LabelScore(BaseModel):
    """A label and the cosine similarity of its sentence to the text."""

    label: str
    score: float


class ClassifyOut(BaseModel):
    """The best label, and every label's score, best first."""

    label: str
    scores: list[LabelScore]


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: InputPolicy | None = None,
    model: Encoder | None = None,
    threads: int = 0,
    **options: Any,
) -> Sample:
    """Build the embedder agent (``options`` go to :class:`woa_agents.Agent`).

    ``model``: an already loaded model to use (tests share one); else it loads once, on
    the first call or at :meth:`~woa_samples.Sample.warm`.
    """
    Encoder.check_installed()
    policy = policy or InputPolicy.from_env()
    worker: ModelWorker[Encoder] = ModelWorker(lambda: model or Encoder.load(threads), "embedder")
    options.setdefault("max_body_bytes", policy.max_body_bytes)
    agent = Agent(
        "embedder",
        f"Sentence embeddings ({MODEL_ID}, {DIMENSIONS} dimensions): embed, similarity, "
        "rank and zero-shot classify.",
        key,
        registry_url,
        **options,
    )
    hints: dict[str, Any] = {
        "family": "mlm",
        "idempotent": True,
        "input_modalities": ["text"],
        "cost_per_call": 0.0,
    }

    @agent.skill(
        tags=["embedding", "vector", "all-MiniLM-L6-v2"],
        output_modalities=["data"],
        latency_ms=15,
        examples=[EmbedIn(texts=["A man is eating food."])],
        **hints,
    )
    async def embed(request: EmbedIn) -> EmbedOut:
        """Embed texts as L2-normalised 384-dimensional vectors."""
        vectors = await worker.run(lambda m: m.embed(request.texts))
        return EmbedOut(model=MODEL_ID, dimensions=DIMENSIONS, vectors=vectors.tolist())

    @agent.skill(
        tags=["similarity", "semantic"],
        latency_ms=15,
        examples=[
            (SimilarityIn(a="A man is eating food.", b="Someone has a meal."), None),
        ],
        **hints,
    )
    async def similarity(request: SimilarityIn) -> SimilarityOut:
        """Cosine similarity of two texts' embeddings."""
        return SimilarityOut(score=await worker.run(lambda m: m.similarity(request.a, request.b)))

    @agent.skill(tags=["rank", "search", "semantic"], latency_ms=90, **hints)
    async def rank(request: RankIn) -> RankOut:
        """Order candidates by semantic similarity to the query."""
        order = await worker.run(lambda m: m.rank(request.query, request.candidates))
        chosen = order[: request.top_k] if request.top_k else order
        return RankOut(
            ranking=[Ranked(index=i, text=request.candidates[i], score=s) for i, s in chosen]
        )

    @agent.skill(tags=["classify", "zero-shot"], latency_ms=25, **hints)
    async def classify(request: ClassifyIn) -> ClassifyOut:
        """Zero-shot classification: the label whose sentence is closest to the text."""
        order = await worker.run(
            lambda m: m.classify(request.text, request.labels, request.template)
        )
        scores = [LabelScore(label=request.labels[i], score=s) for i, s in order]
        return ClassifyOut(label=scores[0].label, scores=scores)

    return Sample(agent, [worker])
