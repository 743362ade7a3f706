"""The demo's inputs, generated here: a receipt photo and a voice memo.

What the receipt and memo say is chosen here; drawing and speaking are
:mod:`woa_samples.generated`'s (Pillow and DejaVu fonts, espeak-ng). Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EXPENSE_SCHEMA", "Receipt", "receipt_lines", "receipt_png", "voice_memo_wav"]

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
        default=(("Fare to airport", 38.50), ("Luggage", 2.00), ("Tip", 4.00))
    )

    @property
    def total(self) -> float:
        """The sum of the items."""
        return round(sum(price for _, price in self.items), 2)


def receipt_lines(receipt: Receipt = Receipt()) -> list[str]:
    """The receipt's printed lines: vendor, address, date, items, total."""
    return [
        receipt.vendor.upper(),
        "12 Station Road",
        f"Date: {receipt.date}",
        *(f"{name}  {price:.2f}" for name, price in receipt.items),
        f"TOTAL {receipt.currency}  {receipt.total:.2f}",
        "Paid by card. Thank you!",
    ]


def receipt_png(receipt: Receipt = Receipt()) -> bytes:
    """The receipt drawn by :func:`woa_samples.generated.receipt_png` (Pillow, DejaVu)."""
    from woa_samples.generated import receipt_png as draw

    return draw(receipt_lines(receipt))


def voice_memo_wav(text: str, *, words_per_minute: int = 150) -> bytes:
    """``text`` spoken by espeak-ng (:func:`woa_samples.generated.speak`), as WAV bytes."""
    from woa_samples.generated import speak

    return speak(text, wpm=words_per_minute)
