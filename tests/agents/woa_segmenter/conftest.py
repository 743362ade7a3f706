from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from woa_segmenter import Segmenter


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    """The real model, loaded once per test session."""
    return Segmenter.load()


@dataclass(frozen=True)
class Scene:
    """A generated image, the true mask of its object, and prompts for it."""

    image: NDArray[np.uint8]
    truth: NDArray[np.bool_]
    box: tuple[int, int, int, int]
    point: tuple[int, int]

    def png(self) -> bytes:
        import io

        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(self.image).save(out, format="PNG")
        return out.getvalue()


@pytest.fixture(scope="session")
def scene() -> Scene:
    """A gradient-filled noisy polygon on a noisy background, with a distracting disc."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(7)
    w, h = 480, 360
    background = rng.normal(0, 20, (h, w, 3)) + np.array([200, 190, 170])
    shape = [(150, 90), (330, 110), (300, 270), (170, 250)]
    outline = Image.new("L", (w, h), 0)
    ImageDraw.Draw(outline).polygon(shape, fill=255)
    truth = np.asarray(outline) > 0
    ramp = np.linspace(0, 1, w)[None, :, None]
    fill = np.array([20, 60, 160]) * (1 - ramp) + np.array([60, 160, 90]) * ramp
    fill = fill + rng.normal(0, 12, (h, w, 3))
    pixels = np.where(truth[..., None], fill, background)
    canvas = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    ImageDraw.Draw(canvas).ellipse((40, 220, 110, 290), fill=(200, 40, 40))
    return Scene(np.asarray(canvas), truth, (130, 70, 350, 290), (240, 180))


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max(int((a | b).sum()), 1))
