"""The reader agent: ``read`` an image -> text, lines and word boxes (SDK public API only).

The image travels as a file (an A2A file part, or ``{"raw": base64, "mediaType": ...}``
in a data part). Tesseract is found and its model checked once, lazily or at start; each
read runs on the agent's worker thread.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from woa_agents import Agent, File, Rejected
from woa_protocol import SigningKey
from woa_samples import ModelWorker, Sample, require
from woa_samples.inputs import InputPolicy, file_bytes

from .ocr import EXTRA, MODEL_ID, Page, Reader

__all__ = ["LineOut", "ReadIn", "ReadOut", "WordOut", "build"]

MAX_PIXELS = 6000 * 6000
IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/bmp", "image/tiff", "image/gif"]
"""Media types of the image file part (besides a data part, application/json)."""


class ReadIn(BaseModel):
    """An image with printed text."""

    image: File


class WordOut(BaseModel):
    """A word, its box ``[x, y, width, height]`` in pixels and confidence 0..1."""

    text: str
    box: list[int]
    confidence: float = Field(ge=0, le=1)


class LineOut(BaseModel):
    """A line, its box, mean word confidence and words."""

    text: str
    box: list[int]
    confidence: float = Field(ge=0, le=1)
    words: list[WordOut]


class ReadOut(BaseModel):
    """The text read (lines joined by newlines), line by line with word boxes."""

    text: str
    lines: list[LineOut]
    model: str


def _decode(data: bytes) -> Any:
    pil = require("PIL.Image", EXTRA)
    try:
        image = pil.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise Rejected(f"image is {image.width}x{image.height}; the limit is {MAX_PIXELS} px")
        image.load()
    except (OSError, pil.DecompressionBombError) as exc:
        raise Rejected(f"image: not a decodable image ({type(exc).__name__})") from exc
    return image.convert("RGB")


def _out(page: Page) -> ReadOut:
    return ReadOut(
        text=page.text,
        model=MODEL_ID,
        lines=[
            LineOut(
                text=line.text,
                box=list(line.box),
                confidence=line.confidence,
                words=[
                    WordOut(text=w.text, box=list(w.box), confidence=w.confidence)
                    for w in line.words
                ],
            )
            for line in page.lines
        ],
    )


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: InputPolicy | None = None,
    model: Reader | None = None,
    **options: Any,
) -> Sample:
    """Build the reader agent (``options`` go to :class:`woa_agents.Agent`).

    ``model``: an already loaded model to use (tests share one); else it loads once, on
    the first call or at :meth:`~woa_samples.Sample.warm`.
    """
    Reader.check_installed()
    policy = policy or InputPolicy.from_env()
    worker: ModelWorker[Reader] = ModelWorker(lambda: model or Reader.load(), "reader")
    options.setdefault("max_body_bytes", policy.max_body_bytes)
    agent = Agent(
        "reader",
        "OCR: reads printed text from images with Tesseract 5 (English): text, lines and "
        "word boxes with confidences.",
        key,
        registry_url,
        **options,
    )

    @agent.skill(
        family="ocr",
        tags=["ocr", "text-recognition", "tesseract", "receipt", "document"],
        input_modalities=["image", "data"],
        input_modes=["application/json", *IMAGE_TYPES],
        output_modalities=["text", "data"],
        latency_ms=1000,
        cost_per_call=0.0,
        idempotent=True,
    )
    async def read(request: ReadIn) -> ReadOut:
        """Read the text in an image: lines, words, boxes and confidences."""
        image = _decode(await file_bytes(request.image, policy, "image"))
        page = await worker.run(lambda model: model.read(image))
        return _out(page)

    return Sample(agent, [worker])
