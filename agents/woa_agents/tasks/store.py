"""Where tasks are kept: one abstract base class and the in-memory default.

A store keeps each task with its owner (the DID that created it, or ``None`` for an
unsigned caller); only the owner sees it through GetTask, ListTasks, CancelTask and
SubscribeToTask (spec AGT-024). ``SqliteTaskStore`` (``woa_agents.tasks.sqlite``) keeps
them across restarts.
"""

from __future__ import annotations

import abc
import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from woa_protocol import strict_json
from woa_protocol.models import TERMINAL_TASK_STATES, Task, TaskState

__all__ = ["InMemoryTaskStore", "StoredTask", "TaskPage", "TaskStore"]


@dataclass(frozen=True)
class StoredTask:
    """A task and the DID that owns it."""

    task: Task
    owner: str | None


@dataclass(frozen=True)
class TaskPage:
    """One page of a task listing."""

    tasks: list[Task]
    next_page_token: str
    total_size: int


def _keyset_token(position: object) -> str:
    """A page token naming the last task of a page (its place in the order), not an offset.

    Tasks that arrive while a client pages do not shift later pages (AGT-028).
    """
    return "k" + base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _keyset_position(page_token: str) -> Any:
    """The position a token names (None for the first page); ValueError for any other text."""
    if not page_token:
        return None
    try:
        if not page_token.startswith("k"):
            raise ValueError
        raw = page_token[1:]
        position = strict_json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if position is None:
            raise ValueError
        return position
    except (ValueError, binascii.Error):
        raise ValueError(f"invalid page token {page_token[:80]!r}") from None


class TaskStore(abc.ABC):
    """Persistence for tasks (extension point; see the in-memory and SQLite stores)."""

    @abc.abstractmethod
    async def save(self, task: Task, owner: str | None) -> None:
        """Insert or replace ``task``; the owner is set on first save and never changes."""

    @abc.abstractmethod
    async def get(self, task_id: str) -> StoredTask | None:
        """Return the task with this id, or None."""

    @abc.abstractmethod
    async def list(
        self,
        owner: str | None,
        *,
        context_id: str | None = None,
        state: TaskState | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> TaskPage:
        """Return the owner's tasks, newest first; raises ValueError on a bad page token."""

    async def save_settled(self, task: Task, owner: str | None, wire: bytes) -> None:
        """Save a task that has just reached a terminal state, given its JSON.

        ``wire`` is ``task`` as the JSON binding writes it (camelCase members, none null),
        the bytes the agent also answers with: a store that keeps JSON can keep them rather
        than serialise the task again. The default calls :meth:`save`, and so do the stores
        here when a subclass overrides their ``save``: whatever it adds sees every write.
        """
        await self.save(task, owner)

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the store (create tables, ...); the default does nothing."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; the default does nothing."""


def _overrides_save(store: TaskStore, base: type[TaskStore]) -> bool:
    """True when ``store``'s class replaces ``base.save`` (then ``save_settled`` must call it)."""
    return type(store).save is not base.save


_Entry = tuple[str | None, str, str, Task | bytes, int]
"""``(owner, context id, state, task, saved)``: a live task as the object the runner
updates, a finished one as its wire JSON; ``saved`` numbers the saves (newest highest)."""


class InMemoryTaskStore(TaskStore):
    """Tasks in a dict: fast, bounded, and gone when the process ends.

    At most ``max_tasks`` are kept; beyond that the least recently saved *finished* tasks
    are dropped first (a live task is never dropped), so a long-running agent does not
    grow without bound. Use the SQLite store to keep every result.

    A finished task is kept as its JSON in a tuple of strings and bytes, which the garbage
    collector does not track: thousands of kept results as model objects would make every
    full collection walk them all (measured: ~10 % of a signed call's time, and pauses of
    ~0.1 s at 10,000 tasks). :meth:`get` and :meth:`list` return fresh copies of them.
    """

    def __init__(self, max_tasks: int = 10_000) -> None:
        if max_tasks < 1:
            raise ValueError("max_tasks must be at least 1")
        self.max_tasks = max_tasks
        self._tasks: dict[str, _Entry] = {}
        self._saves = 0

    async def save(self, task: Task, owner: str | None) -> None:
        """Insert or replace the task (the first owner is kept); evict old finished tasks."""
        finished = task.status.state in TERMINAL_TASK_STATES
        kept = task.to_json_bytes() if finished else task
        self._put(task, owner, kept)

    async def save_settled(self, task: Task, owner: str | None, wire: bytes) -> None:
        """Keep the finished task as the JSON given (no second serialisation)."""
        if _overrides_save(self, InMemoryTaskStore):
            await self.save(task, owner)
        else:
            self._put(task, owner, wire)

    def _put(self, task: Task, owner: str | None, kept: Task | bytes) -> None:
        existing = self._tasks.pop(task.id, None)
        self._saves += 1
        self._tasks[task.id] = (
            existing[0] if existing else owner,
            task.context_id,
            task.status.state.value,
            kept,
            self._saves,
        )
        if len(self._tasks) > self.max_tasks:
            self._evict()

    def _evict(self) -> None:
        # down to 90 % of the bound, so the scan runs once per max_tasks/10 saves
        excess = len(self._tasks) - (self.max_tasks - self.max_tasks // 10)
        finished = [
            task_id for task_id, entry in self._tasks.items() if isinstance(entry[3], bytes)
        ][:excess]
        for task_id in finished:
            del self._tasks[task_id]

    @staticmethod
    def _task(entry: _Entry) -> Task:
        kept = entry[3]
        return Task.model_validate_json(kept) if isinstance(kept, bytes) else kept

    async def get(self, task_id: str) -> StoredTask | None:
        """Return the stored task or None."""
        entry = self._tasks.get(task_id)
        return None if entry is None else StoredTask(self._task(entry), entry[0])

    async def list(
        self,
        owner: str | None,
        *,
        context_id: str | None = None,
        state: TaskState | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> TaskPage:
        """Filter, newest first (most recently saved first), then page after the token."""
        after = _keyset_position(page_token)
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
            raise ValueError(f"invalid page token {page_token[:80]!r}")
        matching = [
            entry
            for entry in reversed(self._tasks.values())
            if entry[0] == owner
            and (context_id is None or entry[1] == context_id)
            and (state is None or entry[2] == state.value)
        ]
        rest = matching if after is None else [e for e in matching if e[4] < after]
        page = rest[:page_size]
        more = len(rest) > page_size
        token = _keyset_token(page[-1][4]) if more else ""
        return TaskPage([self._task(entry) for entry in page], token, len(matching))
