"""The starter pool's image generators: analogue clocks and shape counting, plus shared helpers.

An image task is a pair of functions: `make(rng) -> Item` draws the parameters (the ground
truth) and words the question, and `render(params) -> Image` draws the picture from the
parameters alone, so an image can always be redrawn from the row that describes it.
Pictures are drawn at twice their size and scaled down (smooth edges); the same parameters
give the same PNG bytes. Text uses the font that ships inside Pillow (>= 10.1).
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from benchagent.pool.starter.tasks import Item, Row, distractors, media_rows

SCALE = 2  # drawn at SCALE x the saved size, then scaled down
WHITE = (255, 255, 255)
BLACK = (20, 20, 20)
GREY = (200, 200, 200)
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 39, 40), "blue": (31, 100, 200), "green": (44, 160, 44),
    "yellow": (245, 200, 20),
}
SHAPES = ("circle", "square", "triangle")
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class ImageTask:
    make: Callable[[random.Random], Item]
    render: Callable[[dict[str, Any]], Image.Image]


def font(size: int) -> Font:
    """Pillow's bundled scalable font at `size` pixels of the saved image (one per thread)."""
    return _font(size, threading.get_ident())


@lru_cache(maxsize=64)
def _font(size: int, thread: int) -> Font:
    return ImageFont.load_default(size=size * SCALE)


def canvas(width: int, height: int,
           background: tuple[int, int, int] = WHITE) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (width * SCALE, height * SCALE), background)
    return img, ImageDraw.Draw(img)


def finish(img: Image.Image) -> Image.Image:
    """Scale a SCALE-times drawing down to its saved size (box average: smooth edges)."""
    return img.reduce(SCALE)


def text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], value: str, size: int,
         anchor: str = "mm", halo: bool = False) -> None:
    """Text at saved-image coordinates `xy` (scaled here); `halo` outlines it in white."""
    draw.text((xy[0] * SCALE, xy[1] * SCALE), value, font=font(size), anchor=anchor, fill=BLACK,
              stroke_width=3 * SCALE if halo else 0, stroke_fill=WHITE)


def number_options(rng: random.Random, answer: int, near: list[int]) -> list[str]:
    """The answer and three plausible wrong numbers, as text (not yet shuffled)."""
    return [str(v) for v in [answer, *distractors(rng, answer, near)]]


def pick_options(rng: random.Random, answer: str, pool: list[str], k: int = 4) -> list[str]:
    """The answer and up to k-1 other values from `pool` (not yet shuffled)."""
    others = [p for p in dict.fromkeys(pool) if p != answer]
    return [answer, *rng.sample(others, min(k - 1, len(others)))]


def build_images(task: ImageTask, rng: random.Random, n: int, prefix: str,
                 folder: Path) -> list[Row]:
    """n rows with distinct items; each image written to `folder/images/<id>.png`."""
    items: list[Item] = []
    seen: set[str] = set()
    attempts = 0
    while len(items) < n and attempts < n * 50:
        attempts += 1
        item = task.make(rng)
        key = f"{item.question}|{sorted(item.params.items())}"
        if key not in seen:
            seen.add(key)
            items.append(item)
    rows = media_rows(items, rng, prefix, "image_file", "images/{}.png")
    (folder / "images").mkdir(parents=True, exist_ok=True)

    def save(pair: tuple[Row, Item]) -> None:
        row, item = pair
        task.render(item.params).save(folder / row["input"]["image_file"], format="PNG")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(save, zip(rows, items, strict=True)))
    return rows


# ---------------------------------------------------------------- analogue clocks

CLOCK_SIZE = 400
CLOCK_FACES = ((255, 255, 255), (250, 244, 228), (232, 242, 252))


def clock_time(hour: int, minute: int) -> str:
    return f"{hour}:{minute:02d}"


def _clock_distractors(hour: int, minute: int) -> list[tuple[int, int]]:
    swapped = (minute // 5 or 12, (hour % 12) * 5)  # hands read the wrong way round
    return [swapped, (hour % 12 + 1, minute), ((hour - 2) % 12 + 1, minute),
            (hour, (minute + 5) % 60), (hour, (minute + 30) % 60), (hour, (minute + 55) % 60)]


def make_clock(rng: random.Random) -> Item:
    hour, minute = rng.randint(1, 12), rng.randrange(0, 60, 5)
    answer = clock_time(hour, minute)
    wrong = [clock_time(h, m) for h, m in _clock_distractors(hour, minute)]
    wrong = [w for w in dict.fromkeys(wrong) if w != answer]
    options = [answer, wrong[0], *rng.sample(wrong[1:], 2)]
    question = "What time does the analogue clock show? Answer in hours and minutes (h:mm)."
    params = {"hour": hour, "minute": minute, "face": rng.randrange(len(CLOCK_FACES))}
    return Item(question, answer, options, params)


def _hand(draw: ImageDraw.ImageDraw, centre: float, angle_deg: float, length: float,
          width: int, fill: tuple[int, int, int]) -> None:
    rad = math.radians(angle_deg - 90)
    tip = (centre + length * math.cos(rad), centre + length * math.sin(rad))
    draw.line([(centre, centre), tip], fill=fill, width=width * SCALE)


def render_clock(params: dict[str, Any]) -> Image.Image:
    hour, minute = int(params["hour"]), int(params["minute"])
    img, draw = canvas(CLOCK_SIZE, CLOCK_SIZE)
    c, r = CLOCK_SIZE * SCALE / 2, CLOCK_SIZE * SCALE * 0.45
    draw.ellipse([c - r, c - r, c + r, c + r], fill=CLOCK_FACES[int(params["face"])],
                 outline=BLACK, width=6 * SCALE)
    for tick in range(60):
        rad = math.radians(tick * 6 - 90)
        inner = r * (0.86 if tick % 5 == 0 else 0.92)
        draw.line([(c + inner * math.cos(rad), c + inner * math.sin(rad)),
                   (c + r * 0.97 * math.cos(rad), c + r * 0.97 * math.sin(rad))],
                  fill=BLACK, width=(3 if tick % 5 == 0 else 1) * SCALE)
    for num in range(1, 13):
        rad = math.radians(num * 30 - 90)
        pos = ((c + r * 0.72 * math.cos(rad)) / SCALE, (c + r * 0.72 * math.sin(rad)) / SCALE)
        text(draw, pos, str(num), 26)
    _hand(draw, c, (hour % 12 + minute / 60) * 30, r * 0.5, 9, BLACK)
    _hand(draw, c, minute * 6, r * 0.8, 4, BLACK)
    dot = 9 * SCALE
    draw.ellipse([c - dot, c - dot, c + dot, c + dot], fill=BLACK)
    return finish(img)


# ---------------------------------------------------------------- shape counting

SHAPES_SIZE = (512, 448)


def place_shapes(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Up to `count` shapes that neither overlap nor touch the border."""
    width, height = SHAPES_SIZE
    placed: list[dict[str, Any]] = []
    for _ in range(count * 60):
        if len(placed) == count:
            break
        r = rng.randint(22, 40)
        x, y = rng.randint(r + 8, width - r - 8), rng.randint(r + 8, height - r - 8)
        if all(math.dist((x, y), (s["x"], s["y"])) > r + s["r"] + 10 for s in placed):
            placed.append({"kind": rng.choice(SHAPES), "colour": rng.choice(sorted(COLOURS)),
                           "x": x, "y": y, "r": r})
    return placed


def _count_question(rng: random.Random,
                    shapes: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A counting question and the shapes it counts (at least one)."""
    pick = rng.choice(shapes)
    kind = rng.choice(("kind", "colour", "both", "total"))
    if kind == "kind":
        hits = [s for s in shapes if s["kind"] == pick["kind"]]
        return f"How many {pick['kind']}s are there in the image?", hits
    if kind == "colour":
        hits = [s for s in shapes if s["colour"] == pick["colour"]]
        return f"How many {pick['colour']} shapes are there in the image?", hits
    if kind == "both":
        hits = [s for s in shapes if (s["kind"], s["colour"]) == (pick["kind"], pick["colour"])]
        return f"How many {pick['colour']} {pick['kind']}s are there in the image?", hits
    return "How many shapes are there in the image in total?", shapes


def make_shapes(rng: random.Random) -> Item:
    shapes = place_shapes(rng, rng.randint(4, 12))
    question, hits = _count_question(rng, shapes)
    answer = len(hits)
    options = number_options(rng, answer, [len(shapes), answer + 1, answer - 1])
    return Item(question, str(answer), options, {"shapes": shapes})


def render_shapes(params: dict[str, Any]) -> Image.Image:
    img, draw = canvas(*SHAPES_SIZE, background=(248, 248, 248))
    for s in params["shapes"]:
        x, y, r = s["x"] * SCALE, s["y"] * SCALE, s["r"] * SCALE
        fill, outline, width = COLOURS[s["colour"]], BLACK, 2 * SCALE
        if s["kind"] == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=outline, width=width)
        elif s["kind"] == "square":
            half = r * 0.8
            draw.rectangle([x - half, y - half, x + half, y + half], fill=fill,
                           outline=outline, width=width)
        else:
            draw.regular_polygon((x, y, r), 3, fill=fill, outline=outline, width=width)
    return finish(img)


CLOCK = ImageTask(make_clock, render_clock)
SHAPE_COUNTING = ImageTask(make_shapes, render_shapes)
