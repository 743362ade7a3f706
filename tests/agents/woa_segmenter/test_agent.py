"""The segmenter agent: box and point prompts through the SDK, and on real sockets."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest

from woa_agents import AgentCallError, File, RpcError, connect
from woa_samples.inputs import InputPolicy
from woa_segmenter import Segmenter
from woa_segmenter.agent import SegmentOut, build

from ..woa_samples.support import TEST_BODY_LIMIT, check_on_sockets, file_json
from .conftest import Scene, iou


@pytest.fixture
def sample(segmenter: Segmenter):  # type: ignore[no-untyped-def]
    built = build(model=segmenter, policy=InputPolicy(max_body_bytes=TEST_BODY_LIMIT))
    yield built
    built.close()


def _mask(out: SegmentOut) -> np.ndarray:  # type: ignore[type-arg]
    from PIL import Image

    assert out.mask.media_type == "image/png"
    assert out.mask.raw is not None
    return np.asarray(Image.open(io.BytesIO(out.mask.raw)).convert("L")) > 0


async def test_box_and_point_prompts(sample, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    image = file_json(scene.png(), "image/png", "scene.png")
    x0, y0, x1, y1 = scene.box
    async with connect(sample.agent) as client:
        boxed = await client.call(
            "segment", {"image": image, "box": {"x0": x0, "y0": y0, "x1": x1, "y1": y1}}, SegmentOut
        )
        pointed = await client.call(
            "segment", {"image": image, "point": {"x": scene.point[0], "y": scene.point[1]}},
            SegmentOut,
        )  # fmt: skip
    for out, method in ((boxed, "u2netp-box"), (pointed, "grabcut-point")):
        mask = _mask(out)
        assert out.method == method
        assert iou(mask, scene.truth) >= 0.7
        assert out.area == int(mask.sum())
        x, y, w, h = out.bbox
        ys, xs = np.nonzero(mask)
        assert (x, y, w, h) == (
            xs.min(),
            ys.min(),
            xs.max() - xs.min() + 1,
            ys.max() - ys.min() + 1,
        )
        assert out.rle.size == [360, 480]


async def test_prompt_errors(sample, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    image = file_json(scene.png(), "image/png")
    async with connect(sample.agent) as client:
        box = {"x0": 0, "y0": 0, "x1": 9, "y1": 9}
        with pytest.raises(RpcError) as both:
            await client.call("segment", {"image": image, "box": box, "point": {"x": 1, "y": 1}})
        assert both.value.reason == "SCHEMA_VALIDATION_FAILED"
        assert "exactly one prompt" in str(both.value.violations)
        with pytest.raises(RpcError) as reversed_box:
            await client.call(
                "segment", {"image": image, "box": {"x0": 9, "y0": 0, "x1": 2, "y1": 9}}
            )
        assert "x1 > x0" in str(reversed_box.value.violations)
        with pytest.raises(AgentCallError, match=r"REJECTED.*outside"):
            await client.call("segment", {"image": image, "point": {"x": 5000, "y": 1}})


async def test_a_plain_file_part_with_a_data_part_for_the_prompt(sample, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    async with connect(sample.agent) as client:
        out = await client.call(
            "segment",
            (File(raw=scene.png(), media_type="image/png"), {"point": {"x": 240, "y": 180}}),
            SegmentOut,
        )
    assert iou(_mask(out), scene.truth) >= 0.7


@pytest.mark.req("SMP-002")
async def test_url_inputs_are_refused_unless_allowed(sample) -> None:  # type: ignore[no-untyped-def]
    async with connect(sample.agent) as client:
        with pytest.raises(AgentCallError, match="URL inputs are disabled"):
            await client.call(
                "segment",
                {"image": {"url": "http://127.0.0.1:9/x.png"}, "point": {"x": 1, "y": 1}},
            )


@pytest.mark.req("SMP-003")
@pytest.mark.req("SMP-004")
async def test_on_real_sockets(sample, scene: Scene, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tiny = base64.b64encode(b"\x89PNG").decode()
    output = await check_on_sockets(
        tmp_path,
        sample,
        skill="segment",
        family="sam",
        payload={"image": file_json(scene.png(), "image/png"), "point": {"x": 240, "y": 180}},
        search_payload={
            "image": {"raw": tiny, "mediaType": "image/png"},
            "point": {"x": 1, "y": 1},
        },
        malformed={"image": {"mediaType": "image/png"}, "point": {"x": 1, "y": 1}},
        undecodable={"image": file_json(b"GIF89a-garbage", "image/png"), "point": {"x": 1, "y": 1}},
    )
    assert output["method"] == "grabcut-point"
    assert output["area"] > 20000
