"""Generated inputs for the sample agents' tests, benchmarks and README examples.

Nothing is downloaded: images are drawn with Pillow and Debian's DejaVu fonts
(``fonts-dejavu-core``), speech is synthesised by Debian's ``espeak-ng``. Needs Pillow
and numpy (the segmenter or reader extra).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FONTS",
    "RECEIPT",
    "SENTENCES",
    "Scene",
    "receipt_png",
    "scene",
    "speak",
]

FONTS = Path("/usr/share/fonts/truetype/dejavu")
"""Where Debian's fonts-dejavu-core puts DejaVu Sans."""

RECEIPT = [
    "CORNER BAKERY",
    "12 Market Street, Springfield",
    "Date: 2026-03-14  Time: 09:41",
    "Sourdough loaf        4.50",
    "Croissant x2          5.20",
    "Flat white            3.80",
    "Subtotal             13.50",
    "Tax 8%                1.08",
    "TOTAL                14.58",
    "Paid by card  **** 4821",
    "Thank you for visiting!",
]
"""The lines of the generated receipt (the shop and the total in bold)."""

SENTENCES = [
    "Please schedule the project review meeting for Tuesday afternoon "
    "and send the agenda to the whole team.",
    "The weather today is sunny with a light breeze from the west.",
    "Remember to buy milk, bread and fresh apples on the way home.",
]
"""A short spoken memo, about 15 s at 130 words a minute."""


def _font(size: int, bold: bool = False) -> Any:
    from PIL import ImageFont

    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: apt-get install fonts-dejavu-core")
    return ImageFont.truetype(str(path), size)


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def receipt_png(lines: list[str] | None = None) -> bytes:
    """A receipt drawn black on white with DejaVu Sans, 38 px a line."""
    from PIL import Image, ImageDraw

    lines = lines or RECEIPT
    regular, bold = _font(22), _font(26, bold=True)
    image = Image.new("RGB", (520, 40 + 38 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        strong = i == 0 or line.startswith("TOTAL")
        draw.text((24, 20 + 38 * i), line, font=bold if strong else regular, fill="black")
    return _png(image)


@dataclass(frozen=True)
class Scene:
    """A generated image, the true mask of its object, and a box and a point prompt."""

    image: NDArray[np.uint8]
    truth: NDArray[np.bool_]
    box: tuple[int, int, int, int]
    point: tuple[int, int]

    def png(self) -> bytes:
        """The image as PNG bytes."""
        from PIL import Image

        return _png(Image.fromarray(self.image))


def scene(seed: int = 7) -> Scene:
    """A gradient-filled noisy quadrilateral on a noisy background, and a distracting disc."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
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


def speak(text: str, wpm: int = 130, voice: str = "en-us") -> bytes:
    """WAV bytes of ``text`` spoken by espeak-ng (FileNotFoundError when it is missing)."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise FileNotFoundError("espeak-ng is missing: apt-get install espeak-ng")
    done = subprocess.run(  # noqa: S603 - Debian's espeak-ng, text as one argument
        [program, "-v", voice, "-s", str(wpm), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout
