"""A task store in one SQLite file (aiosqlite): completed results survive a restart."""

from __future__ import annotations

import time
from pathlib import Path

import aiosqlite

from woa_protocol.models import Task, TaskState

from .store import (
    StoredTask,
    TaskPage,
    TaskStore,
    _keyset_position,
    _keyset_token,
    _overrides_save,
)

__all__ = ["SqliteTaskStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS woa_tasks (
    id TEXT PRIMARY KEY,
    owner TEXT,
    context_id TEXT NOT NULL,
    state TEXT NOT NULL,
    updated REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS woa_tasks_owner ON woa_tasks (owner, updated);
"""


class SqliteTaskStore(TaskStore):
    """Tasks in a SQLite database file (WAL mode); open with :meth:`open` or ``async with``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> SqliteTaskStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Open (creating) the database and its table."""
        if self._db is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.executescript(_SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            await self._db.close()
            self._db = None

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteTaskStore is not open: call open() first")
        return self._db

    async def save(self, task: Task, owner: str | None) -> None:
        """Insert or replace the task; the first owner is kept."""
        await self._put(task, owner, task.to_json_bytes().decode())

    async def save_settled(self, task: Task, owner: str | None, wire: bytes) -> None:
        """Store the finished task's JSON as given (no second serialisation)."""
        if _overrides_save(self, SqliteTaskStore):
            await self.save(task, owner)
        else:
            await self._put(task, owner, wire.decode())

    async def _put(self, task: Task, owner: str | None, body: str) -> None:
        db = self._conn()
        await db.execute(
            "INSERT INTO woa_tasks (id, owner, context_id, state, updated, body) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "state = excluded.state, updated = excluded.updated, body = excluded.body",
            (
                task.id,
                owner,
                task.context_id,
                task.status.state.value,
                time.time(),
                body,
            ),
        )
        await db.commit()

    async def get(self, task_id: str) -> StoredTask | None:
        """Return the stored task or None."""
        async with self._conn().execute(
            "SELECT body, owner FROM woa_tasks WHERE id = ?", (task_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return StoredTask(Task.model_validate_json(row[0]), row[1])

    async def list(
        self,
        owner: str | None,
        *,
        context_id: str | None = None,
        state: TaskState | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> TaskPage:
        """Filter, newest first, then page after the token's ``(updated, id)``."""
        after = _keyset_position(page_token)
        if after is not None and not (
            isinstance(after, list)
            and len(after) == 2
            and isinstance(after[0], int | float)
            and isinstance(after[1], str)
        ):
            raise ValueError(f"invalid page token {page_token[:80]!r}")
        where = ["owner IS ?"]
        args: list[object] = [owner]
        if context_id is not None:
            where.append("context_id = ?")
            args.append(context_id)
        if state is not None:
            where.append("state = ?")
            args.append(state.value)
        clause = " AND ".join(where)
        db = self._conn()
        async with db.execute(f"SELECT count(*) FROM woa_tasks WHERE {clause}", args) as cursor:  # noqa: S608
            row = await cursor.fetchone()
        total = int(row[0]) if row else 0
        if after is not None:
            clause += " AND (updated < ? OR (updated = ? AND id > ?))"
            args += [after[0], after[0], after[1]]
        async with db.execute(
            f"SELECT body, updated, id FROM woa_tasks WHERE {clause} "  # noqa: S608 - clause is built from constants
            "ORDER BY updated DESC, id LIMIT ?",
            [*args, page_size + 1],
        ) as cursor:
            rows = list(await cursor.fetchall())
        more = len(rows) > page_size
        rows = rows[:page_size]
        tasks = [Task.model_validate_json(r[0]) for r in rows]
        token = _keyset_token([rows[-1][1], rows[-1][2]]) if more else ""
        return TaskPage(tasks, token, total)
