"""The router agent: request text in, the web's skills ranked with probabilities out.

It learns the skills from the registry (every registered card), embeds their texts by calling
an agent that offers ``embed`` (the embedder), and retrains when the registry's change feed
reports agents joining, changing or leaving. Written only with the SDK's public API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from woa_agents import Agent, AgentClient, RegistryClient, SkillContext
from woa_protocol import SigningKey
from woa_samples import Sample

from .routing import RankedSkill, SkillDoc, SkillRouter, Vectors, skill_docs_from_card

__all__ = ["Candidate", "RouteIn", "RouteOut", "RouterService", "build", "build_agent"]

log = logging.getLogger("woa.router")

EMBED_SKILL = "embed"


class RouteIn(BaseModel):
    """A request in plain words, and how many skills to rank."""

    text: str = Field(min_length=1, max_length=4000, description="What the caller wants done.")
    k: int = Field(default=3, ge=1, le=20, description="How many skills to return.")
    input_mode: str | None = Field(
        default=None, description="Only skills that accept this media type (e.g. image/png)."
    )
    exclude_agents: list[str] = Field(
        default_factory=list, description="DIDs of agents not to propose (e.g. the caller)."
    )


class Candidate(BaseModel):
    """One ranked skill, with the agent that offers it."""

    skill_id: str
    skill_name: str
    agent_did: str
    agent_name: str
    agent_url: str
    probability: float = Field(ge=0, le=1)
    description: str = Field(default="", description="What the skill's card says it does.")


class RouteOut(BaseModel):
    """Ranked skills, most likely first."""

    candidates: list[Candidate]
    skills_known: int = Field(description="How many skills the classifier was trained on.")
    trained_at: str | None = Field(description="When it last retrained (RFC 3339).")


def _accepts(mode: str | None) -> Any:
    if mode is None:
        return None
    major = mode.split("/", 1)[0]

    def accepts(skill: SkillDoc) -> bool:
        modes = skill.input_modes or ("application/json",)
        return any(m in (mode, f"{major}/*", "*/*") for m in modes)

    return accepts


class RouterService:
    """Keeps the classifier in step with the registry; answers ``route``."""

    def __init__(self, key: SigningKey, registry_url: str, own_did: str) -> None:
        self.registry_url = registry_url
        self.own_did = own_did
        self.client = AgentClient(key, registry_url=registry_url)
        self.router = SkillRouter(embed=self._embed)
        self.trained_at: datetime | None = None
        self._dirty = True
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    async def _embed(self, texts: Sequence[str]) -> Vectors:
        result = await self.client.call(EMBED_SKILL, {"texts": list(texts)})
        vectors = np.asarray(result["vectors"], dtype=np.float32)
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        normalised: Vectors = vectors / norms
        return normalised

    async def _skills(self) -> list[SkillDoc]:
        docs: list[SkillDoc] = []
        async with RegistryClient(self.registry_url, None) as registry:
            async for record in registry.search_all(limit=100):
                if record.get("did") == self.own_did or not isinstance(record.get("card"), dict):
                    continue
                url = str(record.get("url") or "")
                docs += skill_docs_from_card(record["card"], url)
        return docs

    async def retrain(self) -> int:
        """Refit from every skill registered now; return how many skills were learned."""
        async with self._lock:
            started = time.perf_counter()
            skills = await self._skills()
            await self.router.fit(skills)
            self.trained_at = datetime.now(UTC)
            self._dirty = False
            log.info(
                "router trained on %d skills in %.0f ms",
                len(self.router.skills),
                (time.perf_counter() - started) * 1000,
            )
            return len(self.router.skills)

    async def _watch(self) -> None:
        async with RegistryClient(self.registry_url, None) as registry:
            async for event in registry.watch():
                if event.did != self.own_did:
                    log.info("change feed: %s %s; retraining", event.kind, event.did)
                    self._dirty = True

    def _ensure_watching(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(), name="router-feed")

    async def route(self, request: RouteIn) -> RouteOut:
        """Rank the skills for ``request`` (retraining first when the feed said so)."""
        self._ensure_watching()
        if self._dirty:
            await self.retrain()
        exclude = set(request.exclude_agents)
        base = _accepts(request.input_mode)

        def allowed(skill: SkillDoc) -> bool:
            return skill.agent_did not in exclude and (base is None or base(skill))

        ranked: list[RankedSkill] = await self.router.rank(request.text, request.k, accepts=allowed)
        return RouteOut(
            candidates=[
                Candidate(
                    skill_id=r.skill.skill_id,
                    skill_name=r.skill.name,
                    agent_did=r.skill.agent_did,
                    agent_name=r.skill.agent_name,
                    agent_url=r.skill.agent_url,
                    probability=round(r.probability, 6),
                    description=r.skill.description,
                )
                for r in ranked
            ],
            skills_known=len(self.router.skills),
            trained_at=None if self.trained_at is None else self.trained_at.isoformat(),
        )

    async def warm(self) -> None:
        """Start following the registry's change feed (``Sample.warm``, before serving)."""
        self._ensure_watching()

    def close(self) -> None:
        """Stop following the change feed (``Sample.close``)."""
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()

    async def aclose(self) -> None:
        """Stop watching and close connections."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher
        await self.client.aclose()


def build_agent(
    registry_url: str, key: SigningKey | str | Path | None = None, **agent_options: Any
) -> Agent:
    """The router agent, learning from the registry at ``registry_url``."""
    agent = Agent(
        "router",
        "Routes a request in plain words to the skills on the web most likely to do it: "
        "learned top-k routing over expert agents (encoder embeddings + a softmax classifier).",
        key=key,
        registry_url=registry_url,
        **agent_options,
    )
    service = RouterService(agent.key, registry_url, agent.did)

    @agent.skill(
        family="moe",
        tags=["routing", "discovery", "experts"],
        idempotent=True,
        latency_ms=30,
        input_modalities=["text"],
        examples=[RouteIn(text="read the text on this receipt photo", k=3)],
    )
    async def route(request: RouteIn, ctx: SkillContext) -> RouteOut:
        """Rank the skills registered on the web for a request in plain words."""
        return await service.route(request)

    agent.router_service = service  # type: ignore[attr-defined]
    return agent


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: Any = None,
    **options: Any,
) -> Sample:
    """The router as a sample agent (``woa agents run router``); its feed watcher is its worker.

    ``policy`` (file inputs) is accepted for the catalog's sake: the router takes only text.
    """
    if not registry_url:
        raise ValueError("the router learns the skills from a registry: give registry_url")
    agent = build_agent(registry_url, key, **options)
    return Sample(agent, [agent.router_service])  # type: ignore[attr-defined]
