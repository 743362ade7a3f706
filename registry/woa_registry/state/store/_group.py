"""Group commit, shared by the backends.

Writes that arrive while a transaction is in flight wait in a queue; the next transaction
takes them all: one write lock, one read, one set of inserts, one COMMIT (so one log
flush) for the group. Within the group each write's ``decide`` runs in arrival order on
the state its predecessors left, exactly as if they had committed one by one, and a write
whose ``decide`` raises fails alone. If the transaction itself fails, every write of the
group fails and nothing of it is stored. Hand-written because the rule that makes it
correct (sequential decisions over one staged view) belongs to this store's interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..models import Change, Namespace, Provenance, StoredDocument
from ..problems import NamespaceNotFoundError
from ._rows import decode_value, encode_headers
from .base import Decide, Mutation, check_mutations, usage_after

__all__ = ["GROUP_MAX", "Batch", "GroupCommitter", "Outcome", "Pending", "columns", "decide_group"]

GROUP_MAX = 64
"""Most writes committed by one transaction."""

Outcome = list[Change] | Exception


@dataclass
class Pending:
    """A write waiting for the next group commit."""

    namespace: str
    keys: list[str]
    decide: Decide
    writer: str | None
    at: datetime
    provenance: Provenance | None
    future: asyncio.Future[list[Change]]


def columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    """Transpose row tuples into one list per column."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


@dataclass
class Batch:
    """Rows staged by the writes of one transaction, and the state they leave behind.

    Row tuples follow the column order of ``state_requests`` (with ``id``),
    ``state_documents`` and ``state_changes``; ``usage`` holds ``(name, bytes, count)``.
    """

    last_rev: int
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    view: dict[tuple[str, str], StoredDocument | None] = field(default_factory=dict)
    requests: list[tuple[object, ...]] = field(default_factory=list)
    documents: dict[tuple[str, str], tuple[object, ...]] = field(default_factory=dict)
    changes: list[tuple[object, ...]] = field(default_factory=list)
    usage: dict[str, tuple[object, ...]] = field(default_factory=dict)

    def stage(
        self,
        namespace: Namespace,
        current: dict[str, StoredDocument | None],
        mutations: Sequence[Mutation],
        writer: str | None,
        at: datetime,
        provenance: Provenance | None,
    ) -> list[Change]:
        """Number the mutations, stage their rows, update the view; return the changes."""
        if not mutations:
            return []
        request_id = None
        if provenance is not None:
            request_id = self.last_rev + 1  # the first revision it caused: unique
            self.requests.append(
                (
                    request_id,
                    provenance.method,
                    provenance.target_uri,
                    encode_headers(provenance.headers),
                    provenance.body,
                    provenance.signer,
                    provenance.received_at,
                )
            )
        changes: list[Change] = []
        for mutation in mutations:
            old = current.get(mutation.key)
            self.last_rev += 1
            version = (old.version if old is not None else 0) + 1
            where = (namespace.name, mutation.key)
            self.documents[where] = (
                namespace.name, mutation.key, mutation.value_json, version, writer, at,
                mutation.expires_at, self.last_rev,
            )  # fmt: skip
            self.changes.append(
                (
                    self.last_rev, namespace.name, mutation.key, version, mutation.kind.value,
                    mutation.value_json, writer, at, mutation.expires_at, request_id,
                )
            )  # fmt: skip
            self.view[where] = StoredDocument(
                namespace=namespace.name,
                key=mutation.key,
                value_json=mutation.value_json,
                version=version,
                writer=writer,
                updated_at=at,
                expires_at=mutation.expires_at,
                rev=self.last_rev,
            )
            changes.append(
                Change(
                    rev=self.last_rev,
                    namespace=namespace.name,
                    key=mutation.key,
                    version=version,
                    kind=mutation.kind,
                    value=decode_value(mutation.value_json),
                    writer=writer,
                    at=at,
                    expires_at=mutation.expires_at,
                )
            )
        usage = usage_after(namespace, current, mutations)
        self.namespaces[namespace.name] = replace(
            namespace, bytes_used=usage.bytes_used, document_count=usage.document_count
        )
        self.usage[namespace.name] = (namespace.name, usage.bytes_used, usage.document_count)
        return changes


def decide_group(batch: Batch, group: Sequence[Pending]) -> list[Outcome]:
    """Run each write's ``decide`` in order on the batch's view; stage what it returns.

    ``batch`` must hold the namespaces and document rows the group names, as read under
    the write lock.
    """
    outcomes: list[Outcome] = []
    for item in group:
        ns = batch.namespaces.get(item.namespace)
        if ns is None:
            outcomes.append(NamespaceNotFoundError(f"no namespace {item.namespace!r}"))
            continue
        current = {key: batch.view.get((item.namespace, key)) for key in item.keys}
        try:
            mutations = list(item.decide(ns, current))
            check_mutations(mutations, current)
        except Exception as exc:
            outcomes.append(exc)
            continue
        outcomes.append(batch.stage(ns, current, mutations, item.writer, item.at, item.provenance))
    return outcomes


def _retrieve(future: asyncio.Future[list[Change]]) -> None:
    """Mark a write's exception as seen even if its caller was cancelled meanwhile."""
    if not future.cancelled():
        future.exception()


class GroupCommitter:
    """The queue of writes and the task that commits them, one group per transaction."""

    def __init__(self, commit: Callable[[list[Pending]], Awaitable[list[Outcome]]]) -> None:
        self._commit = commit
        self._queue: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(
        self,
        namespace: str,
        keys: Sequence[str],
        decide: Decide,
        writer: str | None,
        at: datetime,
        provenance: Provenance | None,
    ) -> list[Change]:
        """Queue one write and wait for the transaction that commits it (or its error)."""
        future: asyncio.Future[list[Change]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._queue.append(
            Pending(namespace, list(dict.fromkeys(keys)), decide, writer, at, provenance, future)
        )
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="woa-state-group-commit")
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Wait until every queued write is committed or failed."""
        if self._flusher is not None:
            await asyncio.wait([self._flusher])
            self._flusher = None

    async def _flush(self) -> None:
        while self._queue:
            group = self._queue[:GROUP_MAX]
            del self._queue[:GROUP_MAX]
            try:
                outcomes = await self._commit(group)
            except BaseException as exc:
                error = exc if isinstance(exc, Exception) else RuntimeError("the store closed")
                for item in group:
                    if not item.future.done():
                        item.future.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
                continue
            for item, outcome in zip(group, outcomes, strict=True):
                if item.future.done():
                    continue
                if isinstance(outcome, Exception):
                    item.future.set_exception(outcome)
                else:
                    item.future.set_result(outcome)
