"""The starter pool's detection dataset: shapes on a canvas with a box for every shape.

Rows are written as General-Bench detection tasks write them (an instruction, the image, and
`output.bbox` mapping each class to its [x, y, width, height] boxes in pixels). Every shape is
annotated, so the annotation file says `"all_instances_annotated": true`. A box is the bounding
box of the shape's own pixels as rendered (a mask drawn with the same primitives), so it is
right by construction.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from benchagent.pool.starter.image import SCALE, SHAPES, SHAPES_SIZE, place_shapes, render_shapes
from benchagent.pool.starter.tasks import Row

PROMPT = ("Detect every circle, square and triangle in the image. Give each box as "
          "[x, y, width, height] in pixels.")


def shape_box(shape: dict[str, Any]) -> list[int]:
    """[x, y, width, height] of the pixels the shape covers in the saved image."""
    mask = Image.new("1", (SHAPES_SIZE[0] * SCALE, SHAPES_SIZE[1] * SCALE), 0)
    draw = ImageDraw.Draw(mask)
    x, y, r = shape["x"] * SCALE, shape["y"] * SCALE, shape["r"] * SCALE
    width = 2 * SCALE
    if shape["kind"] == "circle":
        draw.ellipse([x - r, y - r, x + r, y + r], fill=1, outline=1, width=width)
    elif shape["kind"] == "square":
        half = r * 0.8
        draw.rectangle([x - half, y - half, x + half, y + half], fill=1, outline=1, width=width)
    else:
        draw.regular_polygon((x, y, r), 3, fill=1, outline=1, width=width)
    left, top, right, bottom = mask.getbbox() or (0, 0, 0, 0)
    x1, y1 = left // SCALE, top // SCALE
    x2, y2 = -(-right // SCALE), -(-bottom // SCALE)  # round up: the scaled-down edge pixels
    return [x1, y1, x2 - x1, y2 - y1]


def boxes_by_class(shapes: list[dict[str, Any]]) -> dict[str, list[list[int]]]:
    return {kind: [shape_box(s) for s in shapes if s["kind"] == kind]
            for kind in SHAPES if any(s["kind"] == kind for s in shapes)}


def build_detection(rng: random.Random, n: int, prefix: str, folder: Path) -> list[Row]:
    """n rows, each image written to `folder/images/<id>.png`."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for idx in range(n):
        sid = f"{prefix}{idx:04d}"
        shapes = place_shapes(rng, rng.randint(3, 9))
        image = f"images/{sid}.png"
        render_shapes({"shapes": shapes}).save(folder / image, format="PNG")
        rows.append({"id": sid, "input": {"image_file": image, "prompt": PROMPT},
                     "output": {"bbox": boxes_by_class(shapes)}, "params": {"shapes": shapes}})
    return rows
