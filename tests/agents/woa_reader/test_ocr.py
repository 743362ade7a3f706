"""Tesseract alone: character error rate on a generated receipt, lines and word boxes."""

from __future__ import annotations

import io
import sys

import pytest

from woa_reader import Reader

from ..woa_samples.support import cer
from .conftest import RECEIPT


def test_receipt_character_error_rate(reader: Reader, receipt: bytes) -> None:
    from PIL import Image

    page = reader.read(Image.open(io.BytesIO(receipt)))
    rate = cer("\n".join(RECEIPT), page.text)
    print(f"\nreceipt CER {rate:.2%} ({len(page.lines)} lines)", file=sys.stderr)
    assert rate <= 0.05
    assert len(page.lines) == len(RECEIPT)
    total = next(line for line in page.lines if line.text.startswith("TOTAL"))
    assert [w.text for w in total.words] == ["TOTAL", "14.58"]
    label, amount = total.words
    assert label.box[0] < amount.box[0]  # left to right
    assert all(0.5 < w.confidence <= 1.0 for w in total.words)
    _x, y, w, h = total.box
    assert 300 < y < 400
    assert w > 200
    assert 15 < h < 40


def test_a_blank_image_reads_as_nothing(reader: Reader) -> None:
    from PIL import Image

    page = reader.read(Image.new("RGB", (200, 100), "white"))
    assert page.text == ""
    assert page.lines == []


def test_a_missing_model_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "tesseract-not-here")
    with pytest.raises(FileNotFoundError, match="apt-get install tesseract-ocr tesseract-ocr-eng"):
        Reader.load()
