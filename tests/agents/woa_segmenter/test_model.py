"""The segmenter alone: IoU against the drawn shape for box and point prompts; RLE and PNG."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from woa_segmenter import Segmenter
from woa_segmenter.model import decode_image, mask_png, rle_of

from .conftest import Scene, iou


def test_box_prompt_iou(segmenter: Segmenter, scene: Scene) -> None:
    result = segmenter.segment_box(scene.image, scene.box)
    score = iou(result.mask, scene.truth)
    print(f"\nbox prompt IoU {score:.3f}, score {result.score:.2f}", file=sys.stderr)
    assert score >= 0.7
    assert result.method == "u2netp-box"
    assert 0.5 <= result.score <= 1.0
    x, _y, w, _h = result.bbox
    assert scene.box[0] <= x
    assert x + w <= scene.box[2]
    assert result.area == int(result.mask.sum())


def test_point_prompt_iou(segmenter: Segmenter, scene: Scene) -> None:
    result = segmenter.segment_point(scene.image, scene.point)
    score = iou(result.mask, scene.truth)
    print(f"\npoint prompt IoU {score:.3f}, score {result.score:.2f}", file=sys.stderr)
    assert score >= 0.7
    assert result.method == "grabcut-point"
    assert result.mask[scene.point[1], scene.point[0]]


def test_point_on_the_distractor_selects_the_distractor(segmenter: Segmenter, scene: Scene) -> None:
    result = segmenter.segment_point(scene.image, (75, 255))
    assert iou(result.mask, scene.truth) < 0.05
    assert 2500 < result.area < 5500  # the disc: pi * 35^2 ~ 3850 pixels


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # numpy 2
def test_rle_round_trips_through_pycocotools(scene: Scene) -> None:
    from pycocotools import mask as coco

    rle = rle_of(scene.truth)
    assert rle["size"] == [360, 480]
    decoded = coco.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    assert (decoded.astype(bool) == scene.truth).all()
    assert int(coco.area({"size": rle["size"], "counts": rle["counts"].encode()})) == int(
        scene.truth.sum()
    )


def test_mask_png_decodes_to_the_mask(scene: Scene) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(mask_png(scene.truth)))
    assert image.size == (480, 360)
    assert ((np.asarray(image.convert("L")) > 0) == scene.truth).all()


def test_bad_inputs_are_value_errors(segmenter: Segmenter, scene: Scene) -> None:
    with pytest.raises(ValueError, match="not a decodable image"):
        decode_image(b"not an image at all")
    with pytest.raises(ValueError, match="outside"):
        segmenter.segment_point(scene.image, (999, 5))
    with pytest.raises(ValueError, match="2x2"):
        segmenter.segment_box(scene.image, (600, 10, 700, 50))
