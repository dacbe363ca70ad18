"""Size arithmetic of image requests: the size asked for (a WxH, or the project's aspect ratio and short side), the
nearest size or aspect ratio a model renders, and the size a free-size model is asked for. Pure functions, no
Pillow (the crop and scale of a delivered image is core/images/output.py)."""
from __future__ import annotations

import math
import re
from typing import Iterable, Optional

from core.errors import InvalidRequestError

DEFAULT_ASPECT = "16:9"


def parse_size(text: str) -> tuple[int, int]:
    """"1280x720" -> (1280, 720)."""
    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*", text or "")
    if not m:
        raise InvalidRequestError(f"{text!r} is not WIDTHxHEIGHT", field="size", allowed=["e.g. 1280x720"])
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise InvalidRequestError(f"{w}x{h} is out of range", field="size", allowed=["16-8192 per side"])
    return w, h


def size_text(w: int, h: int) -> str:
    return f"{w}x{h}"


def ratio_of(aspect: str) -> float:
    try:
        a, b = (float(x) for x in aspect.split(":"))
        return a / b
    except (ValueError, ZeroDivisionError):
        raise InvalidRequestError(f"{aspect!r} is not W:H", field="aspect_ratio",
                                  allowed=["e.g. 16:9"]) from None


def size_for_aspect(aspect: Optional[str], short_side: int) -> tuple[int, int]:
    """The frame of a video of this aspect ratio and short side (both even), as the video tab renders it."""
    r = ratio_of(aspect or DEFAULT_ASPECT)
    if r >= 1:
        h, w = short_side, short_side * r
    else:
        w, h = short_side, short_side / r
    return int(round(w / 2)) * 2, int(round(h / 2)) * 2


def _distance(r1: float, r2: float) -> float:
    return abs(math.log(r1) - math.log(r2))


def nearest_aspect(width: int, height: int, allowed: Iterable[str]) -> str:
    """The allowed aspect ratio closest to width:height (on a log scale, so 2:1 and 1:2 are as far from 1:1)."""
    target = width / height
    return min(allowed, key=lambda a: (_distance(ratio_of(a), target), a))


def nearest_size(width: int, height: int, sizes: Iterable[str]) -> tuple[int, int]:
    """Of fixed sizes, the one closest in shape, then the smallest that still covers the asked size."""
    parsed = [parse_size(s) for s in sizes]
    target = width / height
    best_shape = min(_distance(w / h, target) for w, h in parsed)
    same = [(w, h) for w, h in parsed if _distance(w / h, target) - best_shape < 1e-9]
    covering = [(w, h) for w, h in same if w >= width and h >= height]
    return min(covering, key=lambda s: s[0] * s[1]) if covering else max(same, key=lambda s: s[0] * s[1])


def free_size(width: int, height: int, *, multiple: int, min_pixels: int = 0, max_pixels: int = 0,
              max_side: int = 0, max_ratio: float = 0.0) -> tuple[int, int]:
    """The size to ask a free-size model for: the asked shape, scaled into the pixel limits, sides rounded to the
    model's multiple (up, so the render covers the asked size where it can)."""
    w, h = float(width), float(height)
    if max_ratio:  # too long a shape: grow the short side (more pixels to crop from, none lost)
        r = w / h
        if r > max_ratio:
            h = w / max_ratio
        elif 1 / r > max_ratio:
            w = h / max_ratio
    area = w * h
    if min_pixels and area < min_pixels:
        s = math.sqrt(min_pixels / area)
        w, h = w * s, h * s
    if max_pixels and w * h > max_pixels:
        s = math.sqrt(max_pixels / (w * h))
        w, h = w * s, h * s
    if max_side and max(w, h) > max_side:
        s = max_side / max(w, h)
        w, h = w * s, h * s

    def snap(v: float, up: bool) -> int:
        n = math.ceil(v / multiple - 1e-9) if up else math.floor(v / multiple + 1e-9)
        return max(multiple, int(n) * multiple)

    rw, rh = snap(w, True), snap(h, True)
    # rounding up must not break an upper limit: round that side down instead
    if (max_pixels and rw * rh > max_pixels) or (max_side and max(rw, rh) > max_side):
        rw, rh = snap(w, False), snap(h, False)
    return rw, rh


def scaled(size: str, factor: float, multiple: int = 8) -> tuple[int, int]:
    w, h = parse_size(size)
    return (int(round(w * factor / multiple)) * multiple, int(round(h * factor / multiple)) * multiple)
