"""The storage interface of the registry: one abstract base class, one module per backend.

Backends: :mod:`.sqlite` (embedded default, one file, WAL) and :mod:`.postgres` (several
replicas). Both pass the shared contract suite in ``tests/registry/storage``.

Rules every backend keeps:

* ``put``/``delete``/``expire`` write the agent row(s) and the change event(s) in one
  transaction; an acknowledged call is durable.
* Event sequence numbers increase strictly in commit order (a reader that has seen event
  ``n`` never later finds a committed event below ``n`` it has not seen).
* ``expire`` removes each lapsed agent exactly once, even when several replicas sweep.
* ``search`` orders by DID and pages with an opaque cursor, so pages are stable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "MAX_EVENTS_LIMIT",
    "MAX_SEARCH_LIMIT",
    "AgentRecord",
    "AgentStore",
    "ChangeEvent",
    "EventKind",
    "SearchPage",
    "SearchQuery",
    "SkillEntry",
    "StoreInputError",
]

MAX_SEARCH_LIMIT = 1000
"""Largest ``SearchQuery.limit`` a backend accepts."""

MAX_EVENTS_LIMIT = 10_000
"""Largest ``limit`` of :meth:`AgentStore.events_since`."""


class StoreInputError(ValueError):
    """An argument a store cannot accept (bad cursor, limit, naive datetime, NUL byte, ...).

    Raised before anything is written, so a rejected call changes nothing stored. The
    registry answers it with a 400 problem; the message says which argument is wrong.
    """


class EventKind(StrEnum):
    """What happened to an agent."""

    REGISTERED = "registered"
    UPDATED = "updated"
    EXPIRED = "expired"
    DEREGISTERED = "deregistered"


@dataclass(frozen=True)
class SkillEntry:
    """One skill of an agent, flattened for indexing and search."""

    skill_id: str
    name: str
    description: str
    tags: tuple[str, ...] = ()
    family: str | None = None
    input_modes: tuple[str, ...] = ()
    output_modes: tuple[str, ...] = ()
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class AgentRecord:
    """A registered agent: its card as received plus the registry's bookkeeping."""

    did: str
    card: dict[str, Any]
    name: str
    description: str
    url: str
    skills: tuple[SkillEntry, ...]
    verified: bool
    registered_at: datetime
    updated_at: datetime
    lease_expires_at: datetime
    source_url: str | None = None


@dataclass(frozen=True)
class ChangeEvent:
    """One entry of the change feed.

    ``at`` is the record's ``updated_at`` for registered/updated, the sweep's ``now`` for
    expired and the store's clock (UTC) for deregistered. ``card`` is set on registered and
    updated events only.
    """

    seq: int
    kind: EventKind
    did: str
    at: datetime
    card: dict[str, Any] | None = None


@dataclass(frozen=True)
class SearchQuery:
    """Filters are ANDed; ``text`` is full-text over name, description, skills and tags.

    ``skill``, ``family``, ``input_mode``, ``output_mode`` and ``tag`` are exact,
    case-sensitive matches that one and the same skill of the agent must satisfy together.
    ``text`` matches the agent: every word (English stemming, prefix match, stop words
    ignored) must occur in its name, description or skills; text without any searchable
    word matches nothing. A filter given as an empty string, a ``limit`` outside
    ``1..MAX_SEARCH_LIMIT`` or a cursor not made by the store raise
    :class:`StoreInputError`.
    """

    skill: str | None = None
    family: str | None = None
    input_mode: str | None = None
    output_mode: str | None = None
    tag: str | None = None
    text: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of results and the cursor of the next page (None on the last page).

    ``matched_skills`` maps each DID on the page to the ids of its skills that satisfy the
    query's skill filters; it is empty when the query has no skill filter.
    """

    agents: list[AgentRecord]
    next_cursor: str | None = None
    matched_skills: dict[str, list[str]] = field(default_factory=dict)


class AgentStore(ABC):
    """Persistent store of agent records and the change feed."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending schema migrations."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abstractmethod
    async def put(self, record: AgentRecord) -> ChangeEvent:
        """Insert or replace the agent (keyed by DID); record a registered/updated event.

        On update, ``registered_at`` of the stored row is kept.
        """

    @abstractmethod
    async def get(self, did: str) -> AgentRecord | None:
        """Return the agent, or None."""

    @abstractmethod
    async def renew(self, did: str, lease_expires_at: datetime) -> AgentRecord | None:
        """Extend an agent's lease (heartbeat); None when the agent is unknown."""

    @abstractmethod
    async def delete(self, did: str) -> ChangeEvent | None:
        """Remove the agent and record a deregistered event; None when unknown."""

    @abstractmethod
    async def expire(self, now: datetime) -> list[ChangeEvent]:
        """Remove every agent whose lease ended before ``now``; one expired event each."""

    @abstractmethod
    async def search(self, query: SearchQuery) -> SearchPage:
        """Return one page of agents matching ``query``, ordered by DID."""

    @abstractmethod
    async def skills_with_input_schema(
        self, query: SearchQuery
    ) -> Sequence[tuple[str, SkillEntry]]:
        """Return ``(did, skill)`` for skills with an input schema, filtered like ``search``.

        The agents are the page ``search`` would return for the same query restricted to
        agents having such a skill (ordered by DID, at most ``limit`` agents after
        ``cursor``); every matching skill of those agents is returned, in card order.
        """

    @abstractmethod
    async def events_since(self, seq: int, limit: int = 1000) -> list[ChangeEvent]:
        """Return events with sequence number > ``seq``, in order."""

    async def prune_events(self, before: datetime) -> int:
        """Delete the oldest events written before ``before``; return how many (REG-054).

        What goes is always a prefix of the sequence (up to the last event older than
        ``before``), and the newest event is always kept, so a feed client detects what it
        missed as a gap in the numbers. The default keeps everything.
        """
        return 0

    @abstractmethod
    async def last_seq(self) -> int:
        """Return the highest committed event sequence number (0 when none)."""

    @abstractmethod
    async def wait_for_event(self, after_seq: int, timeout: float) -> bool:
        """Wait until an event above ``after_seq`` exists (from any replica) or time runs out.

        Returns True when there is something to read. SQLite wakes on local writes and
        polls; PostgreSQL uses LISTEN/NOTIFY so that every replica wakes promptly.
        """

    @abstractmethod
    async def count(self) -> int:
        """Return the number of registered agents."""
