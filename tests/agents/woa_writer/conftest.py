"""The writer's tests share one model, loaded once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from woa_writer import LlamaCppBackend, Writer


@pytest.fixture(scope="session")
def writer() -> Iterator[Writer]:
    """The shipped GGUF (assembled and checked on first use) on llama.cpp, loaded once."""
    backend = LlamaCppBackend(n_ctx=4096)
    backend.load()
    model = Writer(backend)
    yield model
    model.close()
