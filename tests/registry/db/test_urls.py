"""The ``schema`` query parameter of PostgreSQL URLs, and PostgreSQL option checks."""

from __future__ import annotations

import pytest

from woa_registry.db.urls import split_schema
from woa_registry.storage import StoreInputError


def test_schema_is_split_off_and_other_parameters_stay() -> None:
    assert split_schema("postgresql://u@h:5432/db?sslmode=disable&schema=abc") == (
        "postgresql://u@h:5432/db?sslmode=disable",
        "abc",
    )
    assert split_schema("postgres://u@h/db") == ("postgres://u@h/db", None)


def test_schema_given_twice_is_refused() -> None:
    with pytest.raises(StoreInputError, match="more than once"):
        split_schema("postgresql://u@h/db?schema=a&schema=b")


@pytest.mark.parametrize(
    ("schema", "sizes", "poll", "message"),
    [
        ("Bad-Name", (1, 2), 1.0, "lower-case letters"),
        ("9lives", (1, 2), 1.0, "lower-case letters"),
        ("x" * 51, (1, 2), 1.0, "lower-case letters"),
        ("ok", (0, 2), 1.0, "pool sizes"),
        ("ok", (3, 2), 1.0, "pool sizes"),
        ("ok", (1, 2), 0.0, "poll_interval"),
    ],
)
def test_postgres_options_are_checked(
    schema: str, sizes: tuple[int, int], poll: float, message: str
) -> None:
    from woa_registry.db import postgres as db_postgres

    with pytest.raises(StoreInputError, match=message):
        db_postgres.check_options(schema, sizes[0], sizes[1], poll)
    assert db_postgres.check_options("ok_1", 1, 1, 0.5) == "ok_1"
