"""``open_store`` URLs, the refusal of in-memory SQLite, and the missing-extra message."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from storage_support import POSTGRES_DSN, record

import woa_registry.storage as storage
from woa_registry.storage import AgentStore, SqliteAgentStore, StoreInputError, open_store


def test_public_names() -> None:
    assert sorted(storage.__all__) == [
        "AgentRecord",
        "AgentStore",
        "ChangeEvent",
        "EventKind",
        "MAX_EVENTS_LIMIT",
        "MAX_SEARCH_LIMIT",
        "SchemaTooNewError",
        "SearchPage",
        "SearchQuery",
        "SkillEntry",
        "SqliteAgentStore",
        "StoreInputError",
        "open_store",
    ]
    for name in storage.__all__:
        assert getattr(storage, name) is not None
    assert issubclass(StoreInputError, ValueError)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///registry.db", "registry.db"),
        ("sqlite:///data/registry.db", "data/registry.db"),
        ("sqlite:////var/lib/woa/registry.db", "/var/lib/woa/registry.db"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    store = open_store(url)
    assert isinstance(store, SqliteAgentStore)
    assert store.path == Path(path)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///:memory:", "in-memory SQLite is not allowed"),
        ("sqlite:///", "names no file"),
        ("sqlite://", "must look like"),
        ("sqlite://host/registry.db", "must look like"),
        ("sqlite:///registry.db?mode=memory", "must not carry query parameters"),
        ("mysql://root@127.0.0.1/db", "unsupported storage URL scheme 'mysql'"),
        ("registry.db", "unsupported storage URL scheme"),
        ("", "unsupported storage URL scheme"),
        ("postgresql://127.0.0.1/test?schema=Bad-Name", "schema 'Bad-Name' must be"),
        ("postgresql://127.0.0.1/test?schema=a&schema=b", "more than once"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StoreInputError, match=message):
        open_store(url)


@pytest.mark.parametrize("path", [":memory:", "", "file:registry.db?mode=memory"])
def test_sqlite_store_refuses_non_file_databases(path: str) -> None:
    with pytest.raises(StoreInputError, match="durable database file"):
        SqliteAgentStore(path)


async def test_sqlite_url_opens_a_durable_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/registry.db"
    store: AgentStore = open_store(url)
    await store.open()
    rec = record()
    await store.put(rec)
    await store.close()
    again = open_store(url)
    await again.open()
    try:
        assert await again.get(rec.did) == rec
    finally:
        await again.close()
    assert (tmp_path / "registry.db").exists()


@pytest.mark.postgres
async def test_postgres_url_with_schema(pg_schema: str) -> None:
    from woa_registry.storage.postgres import PostgresAgentStore

    for scheme in ("postgresql", "postgres"):
        dsn = POSTGRES_DSN.replace("postgresql://", f"{scheme}://", 1)
        store = open_store(f"{dsn}?schema={pg_schema}")
        assert isinstance(store, PostgresAgentStore)
        assert store.schema == pg_schema
        await store.open()
        try:
            await store.put(record())
            assert await store.count() == (1 if scheme == "postgresql" else 2)
        finally:
            await store.close()
    assert isinstance(open_store(POSTGRES_DSN), PostgresAgentStore)
    assert open_store(POSTGRES_DSN).schema == "woa_registry"  # type: ignore[attr-defined]


def test_missing_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # Make ``import asyncpg`` fail as it does when the extra is not installed.
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    monkeypatch.delitem(sys.modules, "woa_registry.storage.postgres", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'web-of-agents\[postgres\]'"):
        open_store("postgresql://user:secret@127.0.0.1/test")
    with pytest.raises(ImportError, match=r"web-of-agents\[postgres\]") as info:
        import woa_registry.storage.postgres  # noqa: F401
    assert "secret" not in str(info.value)
    # SQLite needs no extra.
    assert isinstance(open_store("sqlite:///x.db"), SqliteAgentStore)
