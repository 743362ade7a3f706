"""The one interface every shared-state backend implements, and the rules they share.

A backend stores namespaces, documents (with tombstones, so a key's version never repeats)
and an append-only log of changes, each numbered by a revision that is global to the store,
gapless and increasing in commit order. Writes go through :meth:`StateStore.write`: the
backend opens a transaction that serialises all writers, reads the namespace and the named
documents, lets the caller's ``decide`` function check preconditions, ACL and quotas and
return the mutations (or raise, which rolls everything back), then applies them. So every
write is atomic and linearizable, and the logic that decides lives outside the backends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..models import Change, ChangeKind, Namespace, Provenance, StoredDocument

__all__ = [
    "MAX_PAGE",
    "Decide",
    "DecideNamespace",
    "Mutation",
    "StateStore",
    "StoreUsage",
    "check_mutations",
    "prefix_upper_bound",
    "usage_after",
]

MAX_PAGE = 1000
"""Largest page any listing, history or change query returns."""


@dataclass(frozen=True)
class Mutation:
    """One document change decided inside a write transaction.

    ``value_json`` is the canonical JSON text of the new value, None to delete.
    """

    key: str
    kind: ChangeKind
    value_json: str | None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class StoreUsage:
    """A namespace's quota usage: bytes of live values and number of stored documents."""

    bytes_used: int
    document_count: int


Decide = Callable[[Namespace, Mapping[str, StoredDocument | None]], Sequence[Mutation]]
"""Given the namespace and the current rows of the named keys, return the mutations."""

DecideNamespace = Callable[[Namespace | None], Namespace]
"""Given the current namespace (None if absent), return the namespace to store."""


def usage_after(
    namespace: Namespace,
    current: Mapping[str, StoredDocument | None],
    mutations: Sequence[Mutation],
) -> StoreUsage:
    """The namespace usage once ``mutations`` are applied (tombstones count for nothing).

    Expired documents count until the sweeper turns them into tombstones.
    """
    size, count = namespace.bytes_used, namespace.document_count
    for mutation in mutations:
        old = current.get(mutation.key)
        if old is not None and old.value_json is not None:
            size -= old.size
            count -= 1
        if mutation.value_json is not None:
            size += len(mutation.value_json.encode("utf-8"))
            count += 1
    return StoreUsage(size, count)


def check_mutations(
    mutations: Sequence[Mutation], current: Mapping[str, StoredDocument | None]
) -> None:
    """Refuse mutations of keys that were not read, or two mutations of one key."""
    seen: set[str] = set()
    for mutation in mutations:
        if mutation.key not in current:
            raise ValueError(f"decide returned a mutation of unread key {mutation.key!r}")
        if mutation.key in seen:
            raise ValueError(f"decide returned two mutations of key {mutation.key!r}")
        seen.add(mutation.key)


def prefix_upper_bound(prefix: str) -> str:
    """Smallest string above every key starting with ``prefix`` (keys are printable ASCII)."""
    return prefix + "\x7f"


class StateStore(ABC):
    """Storage of namespaces, versioned documents and the change log (one per backend)."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply migrations (idempotent)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the store can be opened again."""

    @abstractmethod
    async def put_namespace(
        self, name: str, decide: DecideNamespace, now: datetime
    ) -> tuple[Namespace, bool]:
        """Create or update a namespace atomically; return it and whether it was created.

        ``decide`` receives the current namespace (or None) inside the transaction and
        returns the ACL/contextId to store (usage fields are kept by the store); it may
        raise to abort.
        """

    @abstractmethod
    async def get_namespace(self, name: str) -> Namespace | None:
        """Return the namespace, or None."""

    @abstractmethod
    async def namespaces_for_context(self, context_id: str) -> list[Namespace]:
        """Return the namespaces tied to an A2A contextId, by name."""

    @abstractmethod
    async def public_namespaces(self, after: str = "", limit: int = MAX_PAGE) -> list[Namespace]:
        """Return up to ``limit`` namespaces with public read, by name, after ``after``."""

    @abstractmethod
    async def read(self, namespace: str, key: str) -> StoredDocument | None:
        """Return the stored row of a key (live, expired or tombstone), or None."""

    @abstractmethod
    async def list_live(
        self, namespace: str, prefix: str, after: str | None, limit: int, now: datetime
    ) -> list[StoredDocument]:
        """Return up to ``limit`` live documents under ``prefix`` with keys above ``after``."""

    @abstractmethod
    async def write(
        self,
        namespace: str,
        keys: Sequence[str],
        decide: Decide,
        *,
        writer: str | None,
        at: datetime,
        provenance: Provenance | None,
    ) -> list[Change]:
        """Apply ``decide``'s mutations to ``keys`` in one serialised transaction.

        Raises :class:`~woa_registry.state.problems.NamespaceNotFoundError` when the
        namespace does not exist, and whatever ``decide`` raises; in both cases nothing
        changes. Each mutation gets the key's next version and the next revision.
        """

    @abstractmethod
    async def expire(self, now: datetime, limit: int = 500) -> list[Change]:
        """Turn up to ``limit`` documents whose TTL ended by ``now`` into tombstones."""

    @abstractmethod
    async def history(self, namespace: str, key: str, after_rev: int, limit: int) -> list[Change]:
        """Return a key's changes above ``after_rev`` in order, with their provenance."""

    @abstractmethod
    async def changes_since(
        self, namespace: str, prefix: str, after_rev: int, limit: int
    ) -> list[Change]:
        """Return the namespace's changes under ``prefix`` above ``after_rev`` in order."""

    @abstractmethod
    async def last_rev(self) -> int:
        """Return the highest committed revision (0 when nothing was written)."""

    @abstractmethod
    async def wait_for_change(self, after_rev: int, timeout: float) -> bool:
        """Wait until a revision above ``after_rev`` is committed (True) or ``timeout``."""
