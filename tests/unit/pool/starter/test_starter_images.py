"""The starter pool's image datasets: load through the pool, right answers, faithful pictures."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.unit.pool.poolfiles import samples_with_params

from benchagent.pool import Pool
from benchagent.pool.starter.charts import (
    CHART_SIZE,
    PALETTE,
    PLOT,
    ROW_HEIGHT,
    TABLE_WIDTH,
    render_bar,
    render_line,
    render_table,
)
from benchagent.pool.starter.generate import LICENSE, MEDIA_SAMPLES_PER_DATASET, MEDIA_SPECS
from benchagent.pool.starter.image import (
    CLOCK_SIZE,
    COLOURS,
    SHAPES_SIZE,
    render_clock,
    render_shapes,
)
from benchagent.records import FieldRole, Modality, SourceSample

Finder = Callable[[Pool, str], str]
Renderer = Callable[[dict[str, Any]], Image.Image]
# Shape-Detection (two samples per image, no options in its rows) has its own tests.
IMAGE_SPECS = [s for s in MEDIA_SPECS if s.modality is Modality.image and s.detect is None]
RENDERERS: dict[str, Renderer] = {
    "Bar-Chart-QA": render_bar, "Line-Chart-QA": render_line, "Table-Lookup": render_table,
    "Analog-Clock-Reading": render_clock, "Shape-Counting": render_shapes,
}


def _with_params(pool: Pool, by_name: Finder,
                 name: str) -> list[tuple[SourceSample, dict[str, Any]]]:
    """The dataset's loaded samples, each with the generator parameters stored in its row."""
    pairs = samples_with_params(pool, by_name(pool, name))
    for s, _ in pairs:
        assert s.options.count(s.answer) == 1 and len(set(s.options)) == len(s.options) == 4
    return pairs


def _expected_size(name: str, params: dict[str, Any]) -> tuple[int, int]:
    if name == "Table-Lookup":
        return TABLE_WIDTH, ROW_HEIGHT * (len(params["rows"]) + 1) + 40
    return {"Analog-Clock-Reading": (CLOCK_SIZE, CLOCK_SIZE),
            "Shape-Counting": SHAPES_SIZE}.get(name, CHART_SIZE)


def test_image_cards(starter_pool: Pool) -> None:
    assert starter_pool.warnings == []
    cards = {c.name: c for c in starter_pool.cards}
    for spec in IMAGE_SPECS:
        card = cards[spec.name]
        assert card.format == "starter" and card.license == LICENSE
        assert card.modalities_in == [Modality.image, Modality.text]
        assert card.fields[FieldRole.image] == "input.image_file"
        assert card.answer_type is spec.answer_type
        assert card.size == MEDIA_SAMPLES_PER_DATASET
        assert card.source.endswith(f"datasets/image/{spec.name}/annotation.json")


@pytest.mark.parametrize(("query", "expected"), [
    ("bar chart", "Bar-Chart-QA"), ("line chart trend", "Line-Chart-QA"),
    ("read the time on a clock", "Analog-Clock-Reading"), ("table lookup", "Table-Lookup"),
    ("counting shapes", "Shape-Counting"),
])
def test_search_finds_image_datasets(starter_pool: Pool, query: str, expected: str) -> None:
    hits = starter_pool.search(query, k=3, modalities={Modality.image})
    assert hits and hits[0].card.name == expected, [h.card.name for h in hits]


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_images_exist_open_and_match_their_parameters(
        starter_pool: Pool, by_name: Finder, name: str) -> None:
    folder = Path(starter_pool.card(by_name(starter_pool, name)).source).parent
    for i, (s, params) in enumerate(_with_params(starter_pool, by_name, name)):
        (path,) = s.images
        assert Path(path).is_file() and Path(path).parent == (folder / "images").resolve()
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == _expected_size(name, params)
            if i < 4:  # the picture is exactly the one its parameters describe
                assert RENDERERS[name](params).tobytes() == img.convert("RGB").tobytes()


def _kinds(found: set[str], expected: set[str]) -> None:
    assert found == expected, f"question kinds seen: {found}"


def test_bar_chart_answers(starter_pool: Pool, by_name: Finder) -> None:
    kinds = set()
    for s, p in _with_params(starter_pool, by_name, "Bar-Chart-QA"):
        value = dict(zip(p["categories"], p["values"], strict=True))
        q = s.question
        if m := re.search(r"has the (highest|lowest) value", q):
            kinds.add(m.group(1))
            pick = max if m.group(1) == "highest" else min
            assert s.answer == pick(value, key=value.__getitem__)
            assert set(s.options) <= set(value)
        elif m := re.search(r"what is the value for (.+)\?$", q):
            kinds.add("value")
            assert int(s.answer) == value[m.group(1)]
        else:
            m = re.search(r"higher is the value for (.+) than for (.+)\?$", q)
            assert m, q
            kinds.add("difference")
            assert int(s.answer) == value[m.group(1)] - value[m.group(2)] > 0
    _kinds(kinds, {"highest", "lowest", "value", "difference"})


def _bar_height(img: Image.Image, p: dict[str, Any], i: int) -> float:
    """The value bar i shows, read back from the picture's pixels."""
    left, upper, right, bottom = PLOT
    x = round(left + (right - left) / len(p["values"]) * (i + 0.5))
    colour = PALETTE[p["colour"]]
    ys = [y for y in range(upper - 5, bottom) if img.getpixel((x, y)) == colour]
    return (bottom - min(ys)) / (bottom - upper) * 100


def test_bar_pixels_show_the_values(starter_pool: Pool, by_name: Finder) -> None:
    for s, p in _with_params(starter_pool, by_name, "Bar-Chart-QA")[:6]:
        with Image.open(s.images[0]) as img:
            rgb = img.convert("RGB")
            for i, value in enumerate(p["values"]):
                assert abs(_bar_height(rgb, p, i) - value) <= 1.0, (s.source_id, i, value)


def test_line_chart_answers(starter_pool: Pool, by_name: Finder) -> None:
    kinds = set()
    for s, p in _with_params(starter_pool, by_name, "Line-Chart-QA"):
        years, values = p["years"], p["values"]
        q = s.question
        if m := re.search(r"in which year was the value (highest|lowest)", q):
            kinds.add(m.group(1))
            pick = max if m.group(1) == "highest" else min
            assert s.answer == years[values.index(pick(values))]
        elif m := re.search(r"what was the value in (\d{4})\?$", q):
            kinds.add("value")
            assert int(s.answer) == values[years.index(m.group(1))]
        else:
            assert "rise the most" in q, q
            kinds.add("rise")
            rises = {f"{a} to {b}": vb - va for (a, va), (b, vb)
                     in itertools.pairwise(zip(years, values, strict=True))}
            assert rises[s.answer] == max(rises.values())
            assert sorted(rises.values()).count(max(rises.values())) == 1
    _kinds(kinds, {"highest", "lowest", "value", "rise"})


def test_table_answers(starter_pool: Pool, by_name: Finder) -> None:
    kinds = set()
    for s, p in _with_params(starter_pool, by_name, "Table-Lookup"):
        cols = [c.lower() for c in p["columns"]]
        people = {row[0]: dict(zip(cols, row, strict=True)) for row in p["rows"]}
        q = s.question
        if m := re.search(r"what is the (\w+) of (\w+)\?$", q):
            kinds.add("lookup")
            assert s.answer == people[m.group(2)][m.group(1)]
        elif "highest score" in q:
            kinds.add("highest")
            assert s.answer == max(people, key=lambda n: int(people[n]["score"]))
        elif "youngest" in q:
            kinds.add("youngest")
            assert s.answer == min(people, key=lambda n: int(people[n]["age"]))
        else:
            m = re.search(r"who lives in (\w+)\?$", q)
            assert m, q
            kinds.add("city")
            assert people[s.answer]["city"] == m.group(1)
    _kinds(kinds, {"lookup", "highest", "youngest", "city"})


def _dark_at(img: Image.Image, angle_deg: float, radius_frac: float) -> bool:
    """Whether the clock picture is dark at that angle (0 = 12 o'clock) and radius."""
    c, r = CLOCK_SIZE / 2, CLOCK_SIZE * 0.45
    rad = math.radians(angle_deg - 90)
    x, y = c + r * radius_frac * math.cos(rad), c + r * radius_frac * math.sin(rad)
    level = img.getpixel((round(x), round(y)))
    assert isinstance(level, int)
    return level < 100


def test_clock_answers_and_hands(starter_pool: Pool, by_name: Finder) -> None:
    for s, p in _with_params(starter_pool, by_name, "Analog-Clock-Reading"):
        assert s.answer == f"{p['hour']}:{p['minute']:02d}"
        assert all(re.fullmatch(r"(1[0-2]|[1-9]):[0-5][05]", o) for o in s.options)
        with Image.open(s.images[0]) as img:
            grey = img.convert("L")
        minute_angle = p["minute"] * 6
        hour_angle = (p["hour"] % 12 + p["minute"] / 60) * 30
        assert _dark_at(grey, minute_angle, 0.6)  # only the minute hand reaches this far
        assert _dark_at(grey, hour_angle, 0.4)
        for other in range(0, 360, 30):  # no hand where neither points
            gap = min(abs(other - a) % 360 for a in (minute_angle, hour_angle))
            if min(gap, 360 - gap) > 15:
                assert not _dark_at(grey, other, 0.4), (s.source_id, other)


def _blobs(img: Image.Image, colour: tuple[int, int, int]) -> int:
    """How many separate regions of exactly `colour` the picture holds (4-connected)."""
    width, height = img.size
    data = img.load()
    assert data is not None
    todo = {(x, y) for x in range(width) for y in range(height) if data[x, y] == colour}
    count = 0
    while todo:
        count += 1
        stack = [todo.pop()]
        while stack:
            x, y = stack.pop()
            for n in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if n in todo:
                    todo.remove(n)
                    stack.append(n)
    return count


def test_shape_counting_answers_and_pixels(starter_pool: Pool, by_name: Finder) -> None:
    kinds = set()
    samples = _with_params(starter_pool, by_name, "Shape-Counting")
    for s, p in samples:
        shapes = p["shapes"]
        q = s.question
        if m := re.search(r"How many (red|blue|green|yellow) (circle|square|triangle)s ", q):
            kinds.add("both")
            hits = [x for x in shapes if (x["colour"], x["kind"]) == m.groups()]
        elif m := re.search(r"How many (red|blue|green|yellow) shapes", q):
            kinds.add("colour")
            hits = [x for x in shapes if x["colour"] == m.group(1)]
        elif m := re.search(r"How many (circle|square|triangle)s ", q):
            kinds.add("kind")
            hits = [x for x in shapes if x["kind"] == m.group(1)]
        else:
            assert "in total" in q, q
            kinds.add("total")
            hits = shapes
        assert int(s.answer) == len(hits) >= 1
    _kinds(kinds, {"both", "colour", "kind", "total"})
    for s, p in samples[:3]:  # the picture holds as many shapes of each colour as the params
        with Image.open(s.images[0]) as img:
            rgb = img.convert("RGB")
        for name, colour in COLOURS.items():
            assert _blobs(rgb, colour) == sum(x["colour"] == name for x in p["shapes"])
