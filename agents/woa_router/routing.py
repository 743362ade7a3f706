"""Learned top-k routing over skills: encoder embeddings and a small softmax classifier.

Each skill on the web is one class. Its training texts are what its card says about it
(name, description, tags, the text of its examples); the features are the texts' sentence
embeddings (any encoder: the router agent asks the embedder agent). The classifier is
multinomial logistic regression, initialised at the class centroids and trained by full-batch
gradient descent with L2 — a 384 x N linear layer, so it is written here in numpy rather
than pulling scikit-learn and SciPy (~100 MB) into an agent image for it.

This is routing over experts (agents), not a sparse mixture-of-experts transformer.
No I/O here: the agent module feeds it skills and embeddings.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Embed", "RankedSkill", "SkillDoc", "SkillRouter", "skill_docs_from_card"]

Vectors = npt.NDArray[np.float32]
Embed = Callable[[Sequence[str]], Awaitable[Vectors]]
"""Texts in, one L2-normalised row per text out (the router agent asks the embedder agent)."""


@dataclass(frozen=True)
class SkillDoc:
    """What the router knows of one skill: where it lives and what its card says."""

    agent_did: str
    agent_name: str
    agent_url: str
    skill_id: str
    name: str
    description: str
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    input_modes: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """(agent DID, skill id): one class of the classifier."""
        return self.agent_did, self.skill_id

    def training_texts(self) -> list[str]:
        """The texts this skill is learned from."""
        words = re.sub(r"[_\-]+", " ", self.skill_id)
        texts = [
            f"{self.name}: {self.description}",
            self.description,
            f"{words} {' '.join(self.tags)}".strip(),
        ]
        texts += [example for example in self.examples if example.strip()]
        return [t for t in dict.fromkeys(texts) if t.strip()]


@dataclass(frozen=True)
class RankedSkill:
    """One routing answer: a skill and the classifier's probability for it."""

    skill: SkillDoc
    probability: float


def _example_text(value: Any) -> str:
    """The natural-language content of an example input: its strings, joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_example_text(v) for k, v in value.items() if k not in ("raw", "url"))
    if isinstance(value, list):
        return " ".join(_example_text(v) for v in value[:8])
    return ""


def skill_docs_from_card(card: dict[str, Any], url: str) -> list[SkillDoc]:
    """The skills of one agent card (A2A ``skills`` plus the Web of Agents extension)."""
    did = ""
    profiles: dict[str, Any] = {}
    for ext in (card.get("capabilities") or {}).get("extensions") or []:
        params = ext.get("params") or {}
        if isinstance(params.get("did"), str):
            did = params["did"]
            profiles = params.get("skills") or {}
    docs = []
    for skill in card.get("skills") or []:
        profile = profiles.get(skill.get("id"), {}) if isinstance(profiles, dict) else {}
        examples = [str(e) for e in skill.get("examples") or []]
        examples += [_example_text(e.get("input")) for e in profile.get("examples") or []]
        for schema in ("inputSchema", "outputSchema"):  # what the skill takes and gives
            described = (profile.get(schema) or {}).get("description")
            if isinstance(described, str):
                examples.append(described.split("\n\n")[0])
        docs.append(
            SkillDoc(
                agent_did=did,
                agent_name=str(card.get("name", "")),
                agent_url=url,
                skill_id=str(skill["id"]),
                name=str(skill.get("name", skill["id"])),
                description=str(skill.get("description", "")),
                tags=tuple(skill.get("tags") or ()),
                examples=tuple(e for e in examples if e),
                input_modes=tuple(skill.get("inputModes") or card.get("defaultInputModes") or ()),
            )
        )
    return docs


@dataclass
class SkillRouter:
    """A softmax classifier from request embeddings to skills, refitted as skills change."""

    embed: Embed
    l2: float = 1e-3
    steps: int = 300
    learning_rate: float = 0.5
    temperature: float = 0.05
    skills: list[SkillDoc] = field(default_factory=list, init=False)
    _weights: Vectors | None = field(default=None, init=False, repr=False)
    _bias: Vectors | None = field(default=None, init=False, repr=False)

    async def fit(self, skills: Sequence[SkillDoc]) -> None:
        """Learn the classes from ``skills``' training texts (replaces what was learned)."""
        unique = list({s.key: s for s in skills}.values())
        if not unique:
            self.skills, self._weights, self._bias = [], None, None
            return
        texts: list[str] = []
        labels: list[int] = []
        for index, skill in enumerate(unique):
            for text in skill.training_texts():
                texts.append(text)
                labels.append(index)
        x = np.asarray(await self.embed(texts), dtype=np.float32)
        y = np.asarray(labels)
        n_classes = len(unique)
        centroids = np.zeros((n_classes, x.shape[1]), dtype=np.float32)
        np.add.at(centroids, y, x)
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
        weights = (centroids / self.temperature).T.copy()  # start at nearest-centroid
        bias = np.zeros(n_classes, dtype=np.float32)
        onehot = np.eye(n_classes, dtype=np.float32)[y]
        for _ in range(self.steps):
            probs = _softmax(x @ weights + bias)
            grad = probs - onehot
            weights -= self.learning_rate * (x.T @ grad / len(x) + self.l2 * weights)
            bias -= self.learning_rate * grad.mean(axis=0)
        self.skills, self._weights, self._bias = unique, weights, bias

    async def rank(
        self, text: str, k: int = 3, *, accepts: Callable[[SkillDoc], bool] | None = None
    ) -> list[RankedSkill]:
        """The ``k`` most likely skills for ``text`` (only those ``accepts`` allows)."""
        if self._weights is None or self._bias is None:
            return []
        x = np.asarray(await self.embed([text]), dtype=np.float32)
        logits = (x @ self._weights + self._bias)[0]
        allowed = np.array([accepts is None or accepts(s) for s in self.skills])
        if not allowed.any():
            return []
        logits = np.where(allowed, logits, -np.inf)
        probs = _softmax(logits[None, :])[0]
        order = np.argsort(-probs)[: max(k, 0)]
        return [RankedSkill(self.skills[i], float(probs[i])) for i in order if allowed[i]]


def _softmax(z: Vectors) -> Vectors:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    result: Vectors = e / e.sum(axis=1, keepdims=True)
    return result
