"""The starter pool's chart and table images: bar charts, line charts and rendered tables.

Each task draws its values (the ground truth) with a seeded rng, asks one question about
them, and renders the picture from the parameters alone (see `image`).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from PIL import Image, ImageDraw

from benchagent.pool.starter.image import (
    BLACK,
    GREY,
    SCALE,
    ImageTask,
    canvas,
    finish,
    number_options,
    pick_options,
    text,
)
from benchagent.pool.starter.tasks import NAMES, Item

CHART_SIZE = (560, 400)
PLOT = (70, 60, 535, 330)  # left, top, right, bottom of the plot area, saved-image pixels
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (23, 190, 207))
BAR_THEMES = (  # title, y label, singular noun, categories
    ("Fruit sold at a market stall", "Boxes sold", "fruit",
     ("Apples", "Bananas", "Cherries", "Grapes", "Kiwis", "Lemons", "Mangoes", "Pears")),
    ("Books borrowed from a library", "Books", "section",
     ("Fiction", "History", "Science", "Poetry", "Travel", "Cooking", "Art", "Sports")),
    ("Visitors to city parks on Sunday", "Visitors", "park",
     ("North", "Riverside", "Oak Hill", "Lakeside", "Elm Grove", "Harbor", "Meadow")),
    ("Favourite pets in a class survey", "Students", "pet",
     ("Cats", "Dogs", "Fish", "Birds", "Rabbits", "Turtles", "Hamsters")),
)
LINE_THEMES = (  # title, y label
    ("Members of a chess club", "Members"), ("Bicycles sold by a shop", "Bicycles"),
    ("Trees planted in a town", "Trees"), ("Tickets sold at a small theatre", "Tickets"),
)
CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Dublin", "Quito", "Perth", "Cairo")


def _axes(draw: ImageDraw.ImageDraw, title: str, ylabel: str, top: int) -> None:
    """Title, y axis with grid lines every 10 up to `top`, and the x axis line."""
    left, upper, right, bottom = PLOT
    text(draw, (CHART_SIZE[0] / 2, 25), title, 20)
    text(draw, (left - 8, upper - 22), ylabel, 13, anchor="ls")
    for v in range(0, top + 1, 10):
        y = bottom - (bottom - upper) * v / top
        draw.line([(left * SCALE, y * SCALE), (right * SCALE, y * SCALE)],
                  fill=GREY if v else BLACK, width=SCALE)
        text(draw, (left - 8, y), str(v), 13, anchor="rm")
    draw.line([(left * SCALE, upper * SCALE), (left * SCALE, bottom * SCALE)], fill=BLACK,
              width=2 * SCALE)


def _y(value: float, top: int) -> float:
    return PLOT[3] - (PLOT[3] - PLOT[1]) * value / top


# ---------------------------------------------------------------- bar charts


def make_bar(rng: random.Random) -> Item:
    title, ylabel, noun, names = rng.choice(BAR_THEMES)
    cats = rng.sample(names, rng.randint(4, 6))
    values = rng.sample(range(5, 100, 5), len(cats))
    params: dict[str, Any] = {"title": title, "ylabel": ylabel, "categories": cats,
                              "values": values, "colour": rng.randrange(len(PALETTE))}
    kind = rng.choice(("highest", "lowest", "value", "difference"))
    by_value = dict(zip(values, cats, strict=True))
    if kind in ("highest", "lowest"):
        answer = by_value[max(values) if kind == "highest" else min(values)]
        question = f"According to the bar chart, which {noun} has the {kind} value?"
        return Item(question, answer, pick_options(rng, answer, cats), params)
    if kind == "value":
        i = rng.randrange(len(cats))
        question = f"According to the bar chart, what is the value for {cats[i]}?"
        options = number_options(rng, values[i], [v for v in values if v != values[i]])
        return Item(question, str(values[i]), options, params)
    hi, lo = sorted(rng.sample(range(len(cats)), 2), key=lambda j: -values[j])
    diff = values[hi] - values[lo]
    question = (f"According to the bar chart, how much higher is the value for {cats[hi]} "
                f"than for {cats[lo]}?")
    options = number_options(rng, diff, [values[hi], values[lo], values[hi] + values[lo]])
    return Item(question, str(diff), options, params)


def render_bar(params: dict[str, Any]) -> Image.Image:
    cats, values = params["categories"], params["values"]
    img, draw = canvas(*CHART_SIZE)
    _axes(draw, params["title"], params["ylabel"], 100)
    left, _, right, bottom = PLOT
    slot = (right - left) / len(cats)
    colour = PALETTE[int(params["colour"])]
    for i, (cat, value) in enumerate(zip(cats, values, strict=True)):
        x0, x1 = left + slot * (i + 0.2), left + slot * (i + 0.8)
        top = _y(value, 100)
        draw.rectangle([x0 * SCALE, top * SCALE, x1 * SCALE, bottom * SCALE], fill=colour)
        text(draw, ((x0 + x1) / 2, top - 4), str(value), 14, anchor="mb")
        text(draw, ((x0 + x1) / 2, bottom + 8), cat, 14, anchor="mt")
    return finish(img)


# ---------------------------------------------------------------- line charts


def _series(rng: random.Random, n: int) -> list[int]:
    """n distinct values in 5..95 whose largest rise between neighbours is unique."""
    while True:
        values = rng.sample(range(5, 96), n)
        rises = [b - a for a, b in itertools.pairwise(values)]
        if max(rises) > 0 and rises.count(max(rises)) == 1:
            return values


def make_line(rng: random.Random) -> Item:
    title, ylabel = rng.choice(LINE_THEMES)
    n = rng.randint(5, 8)
    start = rng.randint(2008, 2016)
    years = [str(start + i) for i in range(n)]
    values = _series(rng, n)
    params: dict[str, Any] = {"title": title, "ylabel": ylabel, "years": years,
                              "values": values, "colour": rng.randrange(len(PALETTE))}
    kind = rng.choice(("highest", "lowest", "value", "rise"))
    if kind in ("highest", "lowest"):
        answer = years[values.index(max(values) if kind == "highest" else min(values))]
        question = f"According to the line chart, in which year was the value {kind}?"
        return Item(question, answer, pick_options(rng, answer, years), params)
    if kind == "value":
        i = rng.randrange(n)
        question = f"According to the line chart, what was the value in {years[i]}?"
        near = [values[j] for j in (i - 1, i + 1) if 0 <= j < n]
        return Item(question, str(values[i]), number_options(rng, values[i], near), params)
    spans = [f"{a} to {b}" for a, b in itertools.pairwise(years)]
    rises = [b - a for a, b in itertools.pairwise(values)]
    answer = spans[rises.index(max(rises))]
    question = ("According to the line chart, between which two consecutive years did the "
                "value rise the most?")
    return Item(question, answer, pick_options(rng, answer, spans), params)


def render_line(params: dict[str, Any]) -> Image.Image:
    years, values = params["years"], params["values"]
    img, draw = canvas(*CHART_SIZE)
    _axes(draw, params["title"], params["ylabel"], 100)
    left, _, right, bottom = PLOT
    step = (right - left - 40) / (len(years) - 1)
    points = [(left + 20 + step * i, _y(v, 100)) for i, v in enumerate(values)]
    colour = PALETTE[int(params["colour"])]
    draw.line([(x * SCALE, y * SCALE) for x, y in points], fill=colour, width=3 * SCALE,
              joint="curve")
    for (x, y), year, value in zip(points, years, values, strict=True):
        dot = 5 * SCALE
        draw.ellipse([x * SCALE - dot, y * SCALE - dot, x * SCALE + dot, y * SCALE + dot],
                     fill=colour)
        text(draw, (x, y - 9), str(value), 13, anchor="mb", halo=True)
        text(draw, (x, bottom + 8), year, 14, anchor="mt")
    return finish(img)


# ---------------------------------------------------------------- tables

TABLE_COLUMNS = ("Name", "Age", "City", "Score")
TABLE_WIDTH, ROW_HEIGHT = 480, 40


def make_table(rng: random.Random) -> Item:
    n = rng.randint(4, 7)
    names = rng.sample(NAMES, n)
    ages, cities = rng.sample(range(18, 71), n), rng.sample(CITIES, n)
    scores = rng.sample(range(40, 101), n)
    table = [[nm, str(a), c, str(s)] for nm, a, c, s in zip(names, ages, cities, scores,
                                                               strict=True)]
    params: dict[str, Any] = {"columns": list(TABLE_COLUMNS), "rows": table}
    kind = rng.choice(("lookup", "highest", "youngest", "city"))
    i = rng.randrange(n)
    if kind == "lookup":
        col = rng.choice((1, 2, 3))
        column = [r[col] for r in table]
        label = TABLE_COLUMNS[col].lower()
        question = f"According to the table, what is the {label} of {names[i]}?"
        if col == 2:
            return Item(question, column[i], pick_options(rng, column[i], column), params)
        value = int(column[i])
        options = number_options(rng, value, [int(v) for v in column if v != column[i]])
        return Item(question, column[i], options, params)
    if kind == "highest":
        answer = names[scores.index(max(scores))]
        question = "According to the table, who has the highest score?"
    elif kind == "youngest":
        answer = names[ages.index(min(ages))]
        question = "According to the table, who is the youngest?"
    else:
        answer = names[i]
        question = f"According to the table, who lives in {cities[i]}?"
    return Item(question, answer, pick_options(rng, answer, names), params)


def render_table(params: dict[str, Any]) -> Image.Image:
    rows = [params["columns"], *params["rows"]]
    height = ROW_HEIGHT * len(rows) + 40
    img, draw = canvas(TABLE_WIDTH, height)
    x0, y0 = 20, 20
    col_w = (TABLE_WIDTH - 2 * x0) / len(rows[0])
    for r, row in enumerate(rows):
        top = y0 + r * ROW_HEIGHT
        fill = (220, 230, 242) if r == 0 else ((255, 255, 255) if r % 2 else (246, 246, 246))
        draw.rectangle([x0 * SCALE, top * SCALE, (TABLE_WIDTH - x0) * SCALE,
                        (top + ROW_HEIGHT) * SCALE], fill=fill, outline=GREY, width=SCALE)
        for c, cell in enumerate(row):
            text(draw, (x0 + col_w * (c + 0.5), top + ROW_HEIGHT / 2), cell, 17)
    for c in range(1, len(rows[0])):
        x = (x0 + col_w * c) * SCALE
        draw.line([(x, y0 * SCALE), (x, (y0 + ROW_HEIGHT * len(rows)) * SCALE)], fill=GREY,
                  width=SCALE)
    draw.rectangle([x0 * SCALE, y0 * SCALE, (TABLE_WIDTH - x0) * SCALE,
                    (y0 + ROW_HEIGHT * len(rows)) * SCALE], outline=BLACK, width=2 * SCALE)
    return finish(img)


BAR_CHART = ImageTask(make_bar, render_bar)
LINE_CHART = ImageTask(make_line, render_line)
TABLE = ImageTask(make_table, render_table)
