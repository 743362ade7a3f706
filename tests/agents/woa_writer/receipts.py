"""Generated receipts: the text an OCR agent would read from them, and the expected expense.

Varied vendors, layouts, date formats, currencies, item lists, tax lines and payment lines,
drawn from a seeded generator so every run sees the same receipts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

EXPENSE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "description": "the shop's name, printed at the top"},
        "date": {
            "type": "string",
            "format": "date",
            "description": "purchase date as YYYY-MM-DD (dd.mm.yyyy on the receipt is day first)",
        },
        "total": {"type": "number", "description": "the TOTAL line: paid, taxes and tip included"},
        "currency": {
            "type": "string",
            "enum": ["USD", "EUR", "GBP", "CHF", "CAD", "JPY"],
            "description": "ISO 4217 code of the amounts: $ is USD, € is EUR, £ is GBP",
        },
        "category": {
            "type": "string",
            "enum": ["groceries", "restaurant", "fuel", "travel", "office", "pharmacy"],
            "description": "what was bought: groceries (food shop), restaurant (meals, "
            "drinks), fuel (petrol station), travel (tickets, fares), office (stationery), "
            "pharmacy (medicine)",
        },
    },
    "required": ["vendor", "date", "total", "currency", "category"],
    "additionalProperties": False,
}
"""The five-field expense schema the tests extract with."""

FIELDS = ("vendor", "date", "total", "currency", "category")

_VENDORS: dict[str, list[tuple[str, list[tuple[str, float]]]]] = {
    "groceries": [
        (
            "Greenleaf Market",
            [
                ("Bananas 1kg", 1.49),
                ("Whole milk 2L", 2.19),
                ("Rye bread", 3.40),
                ("Eggs x12", 3.95),
            ],
        ),
        (
            "FreshWay Foods",
            [("Apples", 2.80), ("Cheddar 400g", 4.75), ("Pasta 500g", 1.29), ("Tomatoes", 2.15)],
        ),
    ],
    "restaurant": [
        (
            "Trattoria Bella Vista",
            [("Margherita pizza", 11.50), ("Tiramisu", 6.00), ("Espresso", 2.50)],
        ),
        ("The Copper Kettle Cafe", [("Club sandwich", 9.80), ("Latte", 3.60), ("Soup", 5.40)]),
    ],
    "fuel": [
        ("Shell Station 214", [("Unleaded 95  38.2 L", 61.89), ("Car wash", 8.00)]),
        ("Esso Riverside", [("Diesel  42.5 L", 68.43), ("Windscreen fluid", 4.99)]),
    ],
    "travel": [
        ("Northline Railways", [("Ticket Leeds-York return", 24.60), ("Seat reservation", 4.00)]),
        ("SkyHop Airlines", [("Fare LHR-AMS", 89.00), ("Checked bag", 35.00)]),
    ],
    "office": [
        ("Paperclip Office Supplies", [("A4 paper 500 sh", 5.99), ("Stapler", 12.49)]),
        ("DeskPro Stationers", [("Ink cartridge black", 27.90), ("Sticky notes", 3.25)]),
    ],
    "pharmacy": [
        ("CityCare Pharmacy", [("Ibuprofen 200mg", 4.29), ("Plasters", 3.10), ("Vitamin C", 6.50)]),
        ("Boots Chemist", [("Cough syrup", 7.45), ("Hand cream", 5.25)]),
    ],
}
_CURRENCIES = [
    ("USD", "$", "{sym}{amount}"),
    ("EUR", "€", "{amount} {sym}"),
    ("GBP", "£", "{sym}{amount}"),
    ("CHF", "CHF", "{sym} {amount}"),
    ("CAD", "CAD", "{sym} {amount}"),
]
_STREETS = ["12 High Street", "412 Oak Avenue", "7 Rue du Port", "88 Station Road", "3 Market Sq"]
_CITIES = ["Portland", "Leeds", "Lyon", "Geneva", "Toronto", "York"]


@dataclass(frozen=True)
class Receipt:
    """A receipt as OCR text, and the expense it records."""

    text: str
    expected: dict[str, Any]


def _date_text(rng: random.Random, day: date) -> str:
    style = rng.randrange(4)
    if style == 0:
        return day.isoformat()
    if style == 1:
        return day.strftime("%d %b %Y").upper()
    if style == 2:
        return day.strftime("%B %d, %Y")
    return day.strftime("%d.%m.%Y")


def make_receipt(rng: random.Random) -> Receipt:
    """One receipt drawn from ``rng``."""
    category = rng.choice(sorted(_VENDORS))
    vendor, catalogue = rng.choice(_VENDORS[category])
    code, symbol, pattern = rng.choice(_CURRENCIES)
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
    items = rng.sample(catalogue, k=rng.randint(max(1, len(catalogue) - 2), len(catalogue)))
    lines: list[tuple[str, float]] = []
    for name, price in items:
        qty = rng.choice([1, 1, 1, 2, 3]) if category in ("groceries", "pharmacy") else 1
        lines.append((f"{name}" + (f" x{qty}" if qty > 1 else ""), round(price * qty, 2)))
    subtotal = round(sum(p for _, p in lines), 2)
    rate = rng.choice([0.0, 0.05, 0.08, 0.2])
    tax = round(subtotal * rate, 2)
    tip = round(subtotal * 0.1, 2) if category == "restaurant" and rng.random() < 0.5 else 0.0
    total = round(subtotal + tax + tip, 2)

    def money(amount: float) -> str:
        return pattern.format(sym=symbol, amount=f"{amount:.2f}")

    width = 34
    out = [
        vendor.upper().center(width).rstrip(),
        rng.choice(_STREETS).center(width).rstrip(),
        rng.choice(_CITIES).center(width).rstrip(),
        f"Tel {rng.randint(200, 999)}-555-{rng.randint(1000, 9999)}",
        f"{rng.choice(['Date:', 'DATE', 'Date'])} {_date_text(rng, day)}  "
        f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}",
        f"Receipt #{rng.randint(10000, 99999)}",
        "-" * width,
    ]
    out += [f"{name[:22]:<22}{money(price):>12}" for name, price in lines]
    out.append("-" * width)
    out.append(f"{'SUBTOTAL':<22}{money(subtotal):>12}")
    if tax:
        out.append(f"{f'TAX {round(rate * 100)}%':<22}{money(tax):>12}")
    if tip:
        out.append(f"{'TIP':<22}{money(tip):>12}")
    out.append(f"{'TOTAL':<22}{money(total):>12}")
    paid = rng.choice(["VISA **** 4821", "MASTERCARD **** 0093", "CASH", "DEBIT **** 7710"])
    out.append(paid)
    out.append(rng.choice(["THANK YOU!", "Thank you, come again", "Keep this receipt"]))
    expected = {
        "vendor": vendor,
        "date": day.isoformat(),
        "total": total,
        "currency": code,
        "category": category,
    }
    return Receipt("\n".join(out), expected)


def make_receipts(n: int, seed: int = 14) -> list[Receipt]:
    """``n`` receipts from a fixed seed."""
    rng = random.Random(seed)
    return [make_receipt(rng) for _ in range(n)]


def field_correct(name: str, got: Any, want: Any) -> bool:
    """Whether one extracted field is right (vendor: case and spacing ignored; total: cents)."""
    if name == "vendor":
        return isinstance(got, str) and " ".join(got.lower().split()) == want.lower()
    if name == "total":
        return isinstance(got, int | float) and abs(float(got) - want) < 0.005
    return bool(got == want)
