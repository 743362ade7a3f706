from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from woa_samples.generated import Scene
from woa_samples.generated import scene as draw_scene
from woa_segmenter import Segmenter

__all__ = ["Scene", "iou"]


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    """The real model, loaded once per test session."""
    return Segmenter.load()


@pytest.fixture(scope="session")
def scene() -> Scene:
    """A gradient-filled noisy quadrilateral on a noisy background, with a distracting disc."""
    return draw_scene()


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max(int((a | b).sum()), 1))
