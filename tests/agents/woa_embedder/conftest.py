from __future__ import annotations

import pytest

from woa_embedder import Encoder


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real model, loaded once per test session."""
    return Encoder.load()
