"""Bounding boxes in detection answers: parsing the shapes General-Bench writes them in, and the
geometry the detection items need (conversion to pixels, IoU, overlap, clipping).

Answers look like `{"bird": [[x, y, w, h]]}`, `{"bbox": [{"Fall": [x, y, w, h]}]}`,
`[{"label": "cat", "bbox": [...]}]` or a bare `[x, y, w, h]`. Boxes are [x, y, width, height]
in pixels unless they only fit the image as [x1, y1, x2, y2], or are all within 0..1
(fractions of the image size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WRAPPER_KEYS = frozenset({"bbox", "bboxes", "box", "boxes", "bounding_box", "bounding_boxes",
                          "objects", "detections", "annotations", "instances"})
LABEL_KEYS = ("label", "class", "category", "class_name", "name")
MAX_BOXES = 500  # per sample; more is not an annotation a question can be asked about
_MIN_SIDE = 2.0  # pixels
_SLACK = 0.02  # share of the image size a box may overrun before it counts as not fitting


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: left, top, width, height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return self.w * self.h

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def rounded(self) -> list[int]:
        return [round(self.x), round(self.y), round(self.w), round(self.h)]


@dataclass(frozen=True)
class Labelled:
    label: str
    box: Box


RawBox = tuple[str, list[float]]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _as_box(value: Any) -> list[float] | None:
    if isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    return None


def parse_boxes(value: Any, label: str = "") -> list[RawBox] | None:
    """Every (class label, four numbers) in a detection answer; None when the value holds
    anything that is not a box (a text answer is never read as boxes)."""
    out: list[RawBox] = []
    if not _collect(value, label, out, 0) or len(out) > MAX_BOXES:
        return None
    return out


def _collect(value: Any, label: str, out: list[RawBox], depth: int) -> bool:
    if depth > 6 or len(out) > MAX_BOXES:
        return False
    box = _as_box(value)
    if box is not None:
        out.append((label, box))
        return True
    if isinstance(value, list):
        return all(_collect(v, label, out, depth + 1) for v in value)
    if not isinstance(value, dict):
        return False
    named = next((value[k] for k in LABEL_KEYS if isinstance(value.get(k), str)), None)
    if named is not None:
        inner = [v for k, v in value.items() if k in WRAPPER_KEYS]
        return len(inner) == 1 and _collect(inner[0], named.strip(), out, depth + 1)
    for key, inner in value.items():
        name = label if str(key).lower() in WRAPPER_KEYS else str(key).strip()
        if not _collect(inner, name, out, depth + 1):
            return False
    return True


def _fits(boxes: list[Box], width: int, height: int) -> bool:
    sx, sy = width * _SLACK, height * _SLACK
    return all(b.x >= -sx and b.y >= -sy and b.w > 0 and b.h > 0
               and b.right <= width + sx and b.bottom <= height + sy for b in boxes)


def to_pixels(raw: list[RawBox], width: int, height: int) -> list[Labelled] | None:
    """The boxes in pixels [x, y, w, h], clipped to the image; None when they fit it in no
    reading (xywh, xyxy, or fractions of the image)."""
    nums = [b for _, b in raw]
    if nums and all(0 <= v <= 1 for b in nums for v in b):
        nums = [[b[0] * width, b[1] * height, b[2] * width, b[3] * height] for b in nums]
    xywh = [Box(*b) for b in nums]
    xyxy = [Box(b[0], b[1], b[2] - b[0], b[3] - b[1]) for b in nums]
    boxes = xywh if _fits(xywh, width, height) else xyxy if _fits(xyxy, width, height) else None
    if boxes is None:
        return None
    clipped = [clip(b, width, height) for b in boxes]
    if any(b is None for b in clipped):
        return None
    return [Labelled(label, b) for (label, _), b in zip(raw, clipped, strict=True) if b]


def clip(box: Box, width: int, height: int) -> Box | None:
    """The part of `box` inside the image, or None when that is thinner than two pixels."""
    x1, y1 = max(0.0, box.x), max(0.0, box.y)
    x2, y2 = min(float(width), box.right), min(float(height), box.bottom)
    if x2 - x1 < _MIN_SIDE or y2 - y1 < _MIN_SIDE:
        return None
    return Box(x1, y1, x2 - x1, y2 - y1)


def intersection(a: Box, b: Box) -> float:
    w = min(a.right, b.right) - max(a.x, b.x)
    h = min(a.bottom, b.bottom) - max(a.y, b.y)
    return max(0.0, w) * max(0.0, h)


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def covered(obj: Box, by: Box) -> float:
    """The share of `obj`'s area that `by` covers."""
    return intersection(obj, by) / obj.area if obj.area > 0 else 0.0
