from __future__ import annotations

import pytest

from woa_reader import Reader
from woa_samples.generated import RECEIPT, receipt_png

__all__ = ["RECEIPT"]


@pytest.fixture(scope="session")
def reader() -> Reader:
    """Tesseract with its model checked, once per test session."""
    return Reader.load()


@pytest.fixture(scope="session")
def receipt() -> bytes:
    """A receipt drawn with DejaVu Sans (bold for the shop and the total)."""
    return receipt_png()
