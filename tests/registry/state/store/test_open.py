"""``open_state_store``: the registry's database URL picks the state backend, or is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from woa_registry.state.store import SqliteStateStore, StoreInputError, open_state_store
from woa_registry.state.store.postgres import PostgresStateStore


def test_sqlite_url(tmp_path: Path) -> None:
    store = open_state_store(f"sqlite:///{tmp_path}/r.db")
    assert isinstance(store, SqliteStateStore)
    assert store.path == tmp_path / "r.db"


def test_postgres_url_with_schema() -> None:
    store = open_state_store("postgresql://postgres@127.0.0.1:5432/test?schema=team_a")
    assert isinstance(store, PostgresStateStore)
    assert store.schema == "team_a"
    assert isinstance(open_state_store("postgres://h/db"), PostgresStateStore)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite://relative.db",
        "sqlite:///x.db?mode=ro",
        "mysql://h/db",
        "no-scheme",
        "postgresql://h/db?schema=a&schema=b",
        "postgresql://h/db?schema=Bad-Name",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(StoreInputError):
        open_state_store(url)


def test_refused_sqlite_paths() -> None:
    for path in ("", ":memory:", "file:x.db"):
        with pytest.raises(StoreInputError):
            SqliteStateStore(path)
    with pytest.raises(StoreInputError):
        SqliteStateStore("x.db", busy_timeout=0)


async def test_unopened_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "x.db")
    with pytest.raises(RuntimeError, match="not open"):
        await store.last_rev()
