"""Candidate boxes drawn on an image as lettered options (Pillow), written once by content.

Each box is outlined just outside its edges in its own colour over a white halo, and its letter
sits in a tag of that colour at a corner of the box, placed where it covers no box and no other
tag if it can. The file is named by the hash of the source image's bytes, the boxes and the
letters, so the same inputs give the same file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from benchagent.pool.formats.boxes import Box

DRAW_VERSION = "3"  # bump when the drawing changes
PALETTE = ((230, 0, 200), (0, 170, 230), (255, 120, 0), (110, 40, 220), (0, 150, 90),
           (200, 30, 30))
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
Rect = tuple[float, float, float, float]


def derived_dir(cache_root: Path | None) -> Path:
    """Where drawn images go: the pool cache, else the system's temporary folder."""
    base = cache_root if cache_root is not None else Path(tempfile.gettempdir()) / "benchagent"
    return base / "derived-media"


def draw_lettered_boxes(image: Path, boxes: list[Box], letters: list[str], out_dir: Path) -> Path:
    """The image with each box drawn and lettered; an existing drawing of the same is reused."""
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    spec = json.dumps([DRAW_VERSION, digest, [b.rounded() for b in boxes], letters])
    key = hashlib.sha256(spec.encode()).hexdigest()[:32]
    target = out_dir / key[:2] / f"{key}.png"
    if target.is_file():
        return target
    with Image.open(image) as src:
        canvas = src.convert("RGB")
    _draw(canvas, boxes, letters)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".draw-", suffix=".png", dir=target.parent)
    os.close(fd)
    try:
        canvas.save(tmp, format="PNG")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _draw(canvas: Image.Image, boxes: list[Box], letters: list[str]) -> None:
    draw = ImageDraw.Draw(canvas)
    short = min(canvas.size)
    line = max(2, round(short / 160))
    font = ImageFont.load_default(size=max(14, round(short / 22)))
    for i, box in enumerate(boxes):
        rect = _around(box, line + 2, canvas.size)
        draw.rectangle(rect, outline=WHITE, width=line + 2)
        draw.rectangle(_inset(rect, 1), outline=PALETTE[i % len(PALETTE)], width=line)
    tags: list[Rect] = []
    for i, (box, letter) in enumerate(zip(boxes, letters, strict=True)):
        left, top, right, bottom = draw.textbbox((0, 0), letter, font=font, stroke_width=2)
        size = (right - left + 2 * line + 4, bottom - top + 2 * line + 4)
        tag = _place_tag(box, size, canvas.size, tags, boxes)
        tags.append(tag)
        draw.rectangle(tag, fill=PALETTE[i % len(PALETTE)], outline=WHITE, width=1)
        centre = ((tag[0] + tag[2]) / 2, (tag[1] + tag[3]) / 2)
        draw.text(centre, letter, font=font, anchor="mm", fill=WHITE, stroke_width=2,
                  stroke_fill=BLACK)


def _around(box: Box, pad: float, image: tuple[int, int]) -> Rect:
    """The rectangle drawn for a box: just outside it (its lines hide none of the object),
    within the image."""
    return (max(0.0, box.x - pad), max(0.0, box.y - pad),
            min(image[0] - 1.0, box.right - 1 + pad), min(image[1] - 1.0, box.bottom - 1 + pad))


def _inset(rect: Rect, by: float) -> Rect:
    return (rect[0] + by, rect[1] + by, rect[2] - by, rect[3] - by)


def _place_tag(box: Box, size: tuple[float, float], image: tuple[int, int], taken: list[Rect],
               boxes: list[Box]) -> Rect:
    """A tag at a corner of its box, kept inside the image: the first corner that covers no
    box (so no object a box marks) and no other tag, else the first that covers no other tag,
    else the first corner."""
    w, h = size
    corners = [(box.x, box.y - h), (box.right - w, box.y - h), (box.x, box.bottom),
               (box.right - w, box.bottom), (box.x - w, box.y), (box.right, box.y),
               (box.x - w, box.bottom - h), (box.right, box.bottom - h), (box.x, box.y),
               (box.right - w, box.bottom - h)]
    placed = [_inside_image((x, y, x + w, y + h), image) for x, y in corners]
    marked = [(b.x, b.y, b.right, b.bottom) for b in boxes]
    for blocked in (taken + marked, taken):
        for rect in placed:
            if all(not _overlap(rect, other) for other in blocked):
                return rect
    return placed[0]


def _inside_image(rect: Rect, image: tuple[int, int]) -> Rect:
    w, h = rect[2] - rect[0], rect[3] - rect[1]
    x = min(max(0.0, rect[0]), image[0] - w)
    y = min(max(0.0, rect[1]), image[1] - h)
    return (x, y, x + w, y + h)


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
