"""The segmenter agent: ``segment`` an image from a box or a point prompt (SDK public API only).

The image travels as a file (an A2A file part, or ``{"raw": base64, "mediaType": ...}``
in a data part); the answer carries the mask as a PNG file and as COCO RLE, with its
bounding box, area and score. The model loads once, lazily or at start, and runs on its
own worker thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, Field, model_validator

from woa_agents import Agent, File, Rejected
from woa_protocol import SigningKey
from woa_samples import ModelWorker, Sample
from woa_samples.inputs import InputPolicy, file_bytes

from .model import MODEL_ID, Method, Segmentation, Segmenter, decode_image, mask_png, rle_of

__all__ = ["Box", "CocoRle", "Point", "SegmentIn", "SegmentOut", "build"]

IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/bmp", "image/tiff", "image/gif"]
"""Media types of the image file part (besides a data part, application/json)."""


class Box(BaseModel):
    """A box prompt in pixels: left, top (inclusive), right, bottom (exclusive)."""

    x0: int = Field(ge=0)
    y0: int = Field(ge=0)
    x1: int = Field(ge=1)
    y1: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise ValueError("a box needs x1 > x0 and y1 > y0")
        return self


class Point(BaseModel):
    """A point prompt in pixels, on the object to segment."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)


class SegmentIn(BaseModel):
    """An image and exactly one prompt: a box or a point."""

    image: File
    box: Box | None = None
    point: Point | None = None

    @model_validator(mode="after")
    def _one_prompt(self) -> Self:
        if (self.box is None) == (self.point is None):
            raise ValueError("give exactly one prompt: box or point")
        return self


class CocoRle(BaseModel):
    """COCO run-length encoding of a mask (compressed ``counts``, as pycocotools writes)."""

    size: list[int] = Field(description="[height, width]")
    counts: str


class SegmentOut(BaseModel):
    """The mask (PNG and RLE), its COCO bbox ``[x, y, width, height]``, area and score."""

    mask: File
    rle: CocoRle
    bbox: list[int]
    area: int
    score: float = Field(ge=0, le=1)
    method: Method


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: InputPolicy | None = None,
    model: Segmenter | None = None,
    threads: int = 0,
    **options: Any,
) -> Sample:
    """Build the segmenter agent (``options`` go to :class:`woa_agents.Agent`).

    ``model``: an already loaded model to use (tests share one); else it loads once, on
    the first call or at :meth:`~woa_samples.Sample.warm`.
    """
    Segmenter.check_installed()
    policy = policy or InputPolicy.from_env()
    worker: ModelWorker[Segmenter] = ModelWorker(
        lambda: model or Segmenter.load(threads), "segmenter"
    )
    options.setdefault("max_body_bytes", policy.max_body_bytes)
    agent = Agent(
        "segmenter",
        f"Promptable segmentation: {MODEL_ID} (U^2-Net-p, ONNX) for box prompts, OpenCV "
        "GrabCut for point prompts; masks as PNG and COCO RLE.",
        key,
        registry_url,
        **options,
    )

    @agent.skill(
        family="sam",
        tags=["segmentation", "mask", "box-prompt", "point-prompt", "u2netp", "grabcut"],
        input_modalities=["image", "data"],
        input_modes=["application/json", *IMAGE_TYPES],
        output_modalities=["image", "data"],
        latency_ms=600,
        cost_per_call=0.0,
        idempotent=True,
    )
    async def segment(request: SegmentIn) -> SegmentOut:
        """Segment the object a box or point prompt selects; mask as PNG and COCO RLE."""
        data = await file_bytes(request.image, policy, "image")

        def call(model: Segmenter) -> Segmentation:
            if request.box is not None:
                b = request.box
                return model.segment_box(image, (b.x0, b.y0, b.x1, b.y1))
            assert request.point is not None
            return model.segment_point(image, (request.point.x, request.point.y))

        try:
            image = decode_image(data)
            result = await worker.run(call)
        except ValueError as exc:
            raise Rejected(f"image: {exc}") from exc
        return SegmentOut(
            mask=File(raw=mask_png(result.mask), media_type="image/png", filename="mask.png"),
            rle=CocoRle.model_validate(rle_of(result.mask)),
            bbox=list(result.bbox),
            area=result.area,
            score=min(1.0, max(0.0, result.score)),
            method=result.method,
        )

    return Sample(agent, [worker])
