"""The writer model on the real GGUF: extraction accuracy, streaming, summaries, cancellation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jsonschema
import pytest

from woa_writer import ContextOverflowError, SchemaNotSupportedError, Writer
from woa_writer.model import check_json_schema, trim_to_words

from .receipts import EXPENSE_SCHEMA, FIELDS, field_correct, make_receipts

RECEIPTS = 6
"""How many generated receipts the accuracy test extracts (about 5 s each on 2 idle cores)."""

ARTICLE = (
    "The Orinoco Bridge project in Ciudad Bolivar was finished in March 2031, two years "
    "late and 40 percent over budget. Engineers from Tallinn designed the cable-stayed "
    "span, which carries four lanes of traffic and a railway line across the river. "
    "The city council says the bridge cut the average commute from 90 minutes to 25 "
    "minutes. Critics point to the cost overrun and to the relocation of 300 families "
    "who lived near the northern pier. The operator expects 40,000 vehicles a day and "
    "plans to charge a toll of two dollars per car until the construction loan is repaid. "
    "Local businesses report more visitors since the opening, and the regional government "
    "has announced a second bridge further upstream, to be planned with the same engineers."
)


@pytest.mark.req("WRT-003")
@pytest.mark.timeout(900)  # several model calls on a shared 2-core machine
async def test_extract_receipts_schema_valid_and_accurate(writer: Writer) -> None:
    receipts = make_receipts(RECEIPTS)
    validator = jsonschema.Draft202012Validator(
        EXPENSE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    right = dict.fromkeys(FIELDS, 0)
    misses: list[tuple[str, Any, Any]] = []
    started = time.perf_counter()
    for receipt in receipts:
        data = await writer.extract(receipt.text, EXPENSE_SCHEMA)
        assert list(validator.iter_errors(data)) == []  # every answer validates
        for name in FIELDS:
            if field_correct(name, data[name], receipt.expected[name]):
                right[name] += 1
            else:
                misses.append((name, data[name], receipt.expected[name]))
    per_call = (time.perf_counter() - started) / len(receipts)
    rates = {name: right[name] / len(receipts) for name in FIELDS}
    overall = sum(right.values()) / (len(FIELDS) * len(receipts))
    print(  # the figures the README reports
        f"\nwriter extract: {sum(right.values())}/{len(FIELDS) * len(receipts)} fields "
        f"({overall:.0%}), per field {rates}, {per_call:.2f} s per receipt, misses {misses}"
    )
    assert overall >= 0.9, misses
    assert min(rates.values()) >= 0.75, rates


async def test_generate_streams_pieces(writer: Writer) -> None:
    pieces = [
        piece
        async for piece in writer.generate(
            "Name the three primary colours of paint, comma-separated, nothing else.",
            max_tokens=24,
            temperature=0.0,
        )
    ]
    text = "".join(pieces).lower()
    assert len(pieces) >= 3  # streamed piece by piece, not in one block
    assert sum(colour in text for colour in ("red", "blue", "yellow")) >= 2, text


@pytest.mark.req("WRT-005")
async def test_summarize_is_shorter_and_keeps_key_words(writer: Writer) -> None:
    summary = await writer.summarize(ARTICLE, max_words=40)
    words = summary.split()
    assert 5 <= len(words) <= 40 < len(ARTICLE.split())
    kept = [w for w in ("orinoco", "bridge", "2031", "budget", "commute") if w in summary.lower()]
    assert len(kept) >= 2, summary


@pytest.mark.req("WRT-006")
async def test_cancelling_the_consumer_stops_the_model(writer: Writer) -> None:
    stream = writer.generate("Count from 1 to 500, one number per line.", max_tokens=600)
    got = [await anext(stream) for _ in range(3)]
    assert all(got)
    await stream.aclose()  # what task cancellation does to the skill's generator
    await writer.idle()
    assert writer.last.finished
    assert writer.last.stopped
    assert writer.last.pieces < 40  # stopped within a few tokens, far from 600


async def test_the_event_loop_keeps_serving_during_inference(writer: Writer) -> None:
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        await writer.summarize(ARTICLE, max_words=20)
    finally:
        ticking.cancel()
    assert len(gaps) > 20
    assert max(gaps) < 1.0  # the model ran off the loop


@pytest.mark.req("WRT-004")
def test_schemas_are_checked_before_decoding(writer: Writer) -> None:
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        check_json_schema({"type": "nope"})
    with pytest.raises(SchemaNotSupportedError, match="grammar"):
        writer.check_schema({"type": "string", "pattern": "abc"})  # unanchored: no grammar
    writer.check_schema(EXPENSE_SCHEMA)


def test_trim_to_words() -> None:
    assert trim_to_words("  one two  three ", 5) == "one two three"
    text = "The first part is long here. Then more words follow"
    assert trim_to_words(text, 8) == "The first part is long here."
    assert trim_to_words("a b c d e f g h", 4) == "a b c d…"


@pytest.mark.req("WRT-004")
async def test_input_beyond_the_context_window_is_refused(writer: Writer) -> None:
    digits = "0123456789" * 1500  # one token per digit: far beyond the 4096-token context
    with pytest.raises(ContextOverflowError, match="context"):
        await writer.summarize(digits, max_words=10)
