"""Shared SQLite plumbing: option checks, pragmas, WAL and the migration runner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from woa_registry.db import Migration, SchemaTooNewError
from woa_registry.db import sqlite as db_sqlite
from woa_registry.storage import StoreInputError

STEPS = (
    Migration(1, "one table", ("CREATE TABLE t (x INTEGER)",)),
    Migration(2, "a row", ("INSERT INTO t VALUES (7)",)),
)


@pytest.mark.parametrize("path", ["", ":memory:", "file:x.db?mode=memory"])
def test_non_file_paths_are_refused(path: str) -> None:
    with pytest.raises(StoreInputError, match="durable database file"):
        db_sqlite.check_options(path, 1.0, 1.0, needed_by="the test")


@pytest.mark.parametrize(("busy", "poll"), [(0, 1.0), (1.0, 0), (-1, 1.0)])
def test_non_positive_timings_are_refused(busy: float, poll: float) -> None:
    with pytest.raises(StoreInputError, match="must be positive"):
        db_sqlite.check_options("x.db", busy, poll, needed_by="the test")


def test_options_give_path_and_milliseconds(tmp_path: Path) -> None:
    assert db_sqlite.check_options(tmp_path / "a.db", 2.5, 0.1, needed_by="x") == (
        tmp_path / "a.db",
        2500,
    )


def test_connections_are_durable_and_reader_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db_sqlite.prepare_file(path, 1000, "my_versions", STEPS)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader = db_sqlite.connect(path, 1234, query_only=True)
    try:
        assert reader.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert reader.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
        assert reader.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("INSERT INTO t VALUES (1)")
    finally:
        reader.close()


def test_migrations_apply_once_into_the_named_table(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db_sqlite.prepare_file(path, 1000, "my_versions", STEPS[:1])
    db_sqlite.prepare_file(path, 1000, "my_versions", STEPS)
    db_sqlite.prepare_file(path, 1000, "my_versions", STEPS)
    with sqlite3.connect(path) as raw:
        versions = raw.execute("SELECT version, description FROM my_versions").fetchall()
        assert versions == [(1, "one table"), (2, "a row")]
        assert raw.execute("SELECT x FROM t").fetchall() == [(7,)]


def test_a_newer_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db_sqlite.prepare_file(path, 1000, "my_versions", STEPS)
    with pytest.raises(SchemaTooNewError, match="version 2"):
        db_sqlite.prepare_file(path, 1000, "my_versions", STEPS[:1])
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM my_versions").fetchone()[0] == 2


def test_a_failing_step_rolls_back_everything(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    broken = (*STEPS, Migration(3, "broken", ("CREATE TABLE u (y)", "NOT SQL")))
    with pytest.raises(sqlite3.OperationalError):
        db_sqlite.prepare_file(path, 1000, "my_versions", broken)
    with sqlite3.connect(path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert "t" not in tables
    assert "u" not in tables


def test_version_table_names_must_be_plain_identifiers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain lower-case identifier"):
        db_sqlite.prepare_file(tmp_path / "a.db", 1000, "v; DROP TABLE t", STEPS)
