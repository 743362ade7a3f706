"""The demo's inputs, generated here: a receipt photo and a voice memo.

The photo is drawn with Pillow and Debian's DejaVu fonts, the memo spoken by espeak-ng.
Nothing is downloaded.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["EXPENSE_SCHEMA", "Receipt", "receipt_png", "voice_memo_wav"]

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

EXPENSE_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "date": {"type": "string", "description": "YYYY-MM-DD"},
        "total": {"type": "number"},
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP", "CHF"]},
        "category": {
            "type": "string",
            "enum": ["travel", "meals", "lodging", "office", "other"],
        },
    },
    "required": ["vendor", "date", "total", "currency", "category"],
    "additionalProperties": False,
}
"""The expense record the demo asks for (the writer's ``extract`` fills it)."""


@dataclass(frozen=True)
class Receipt:
    """What the generated receipt says."""

    vendor: str = "Blue Line Taxi"
    date: str = "2026-11-28"
    currency: str = "EUR"
    items: tuple[tuple[str, float], ...] = field(
        default=(("Fare city centre - airport", 38.50), ("Luggage", 2.00), ("Tip", 4.00))
    )

    @property
    def total(self) -> float:
        """The sum of the items."""
        return round(sum(price for _, price in self.items), 2)


def _font(size: int, bold: bool = False) -> object:
    from PIL import ImageFont

    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    raise FileNotFoundError(f"{name} not found: install Debian's fonts-dejavu-core")


def receipt_png(receipt: Receipt = Receipt()) -> bytes:
    """A receipt photo: dark text on a white slip on a grey table, as a PNG."""
    try:
        from PIL import Image, ImageDraw
    except ModuleNotFoundError as exc:  # pragma: no cover - the demo extra is missing
        raise ModuleNotFoundError(
            "the demo needs Pillow: pip install 'web-of-agents[demo]'"
        ) from exc
    lines = [
        receipt.vendor.upper(),
        "12 Station Road",
        f"Date: {receipt.date}",
        "",
        *(f"{name:<28}{price:>8.2f}" for name, price in receipt.items),
        "",
        f"{'TOTAL ' + receipt.currency:<28}{receipt.total:>8.2f}",
        "Paid by card. Thank you!",
    ]
    body, head = _font(22), _font(28, bold=True)
    width, height = 620, 80 + 36 * len(lines)
    canvas = Image.new("RGB", (width + 120, height + 120), (118, 118, 124))
    slip = Image.new("RGB", (width, height), (252, 252, 250))
    draw = ImageDraw.Draw(slip)
    y = 30
    for index, line in enumerate(lines):
        draw.text((30, y), line, fill=(20, 20, 20), font=head if index == 0 else body)  # type: ignore[arg-type]
        y += 36
    canvas.paste(slip, (60, 60))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def voice_memo_wav(text: str, *, words_per_minute: int = 150) -> bytes:
    """``text`` spoken by espeak-ng, as a WAV file."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise FileNotFoundError(
            "espeak-ng not found: install Debian's espeak-ng (make system-deps)"
        )
    result = subprocess.run(  # noqa: S603 - a fixed program, text passed as one argument
        [espeak, "-v", "en-us", "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout
