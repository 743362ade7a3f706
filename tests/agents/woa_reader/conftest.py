from __future__ import annotations

import pytest

from woa_reader import Reader

from ..woa_samples.support import font, png

RECEIPT = [
    "CORNER BAKERY",
    "12 Market Street, Springfield",
    "Date: 2026-03-14  Time: 09:41",
    "Sourdough loaf        4.50",
    "Croissant x2          5.20",
    "Flat white            3.80",
    "Subtotal             13.50",
    "Tax 8%                1.08",
    "TOTAL                14.58",
    "Paid by card  **** 4821",
    "Thank you for visiting!",
]


@pytest.fixture(scope="session")
def reader() -> Reader:
    """Tesseract with its model checked, once per test session."""
    return Reader.load()


@pytest.fixture(scope="session")
def receipt_png() -> bytes:
    """A receipt drawn with DejaVu Sans (bold for the shop and the total)."""
    from PIL import Image, ImageDraw

    regular, bold = font(22), font(26, bold=True)
    image = Image.new("RGB", (520, 40 + 38 * len(RECEIPT)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(RECEIPT):
        draw.text((24, 20 + 38 * i), line, font=bold if i in (0, 8) else regular, fill="black")
    return png(image)
