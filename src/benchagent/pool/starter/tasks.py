"""The starter pool's sample generators: text tasks whose answers hold by construction.

Each generator takes a seeded `random.Random` and a count and returns General-Bench rows
(`{"id", "input": {"question", "options"?}, "output": {"answer"}}`), deterministically.
`Item` and `distractors` are shared with the image and audio generators.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Row = dict[str, Any]
Maker = Callable[[random.Random], tuple[str, str, list[str]]]  # question, answer, options


@dataclass(frozen=True)
class Item:
    """One generated media sample before rendering: its text and the parameters it came from.

    `params` is everything the renderer (or the speech synthesizer) needs, and the ground
    truth the answer was computed from; it is stored with the row so the answer can be checked.
    """

    question: str
    answer: str
    options: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kira", "Liam", "Maya", "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara")
ITEMS = ("apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "cards")
WORDS = ("anchor", "bridge", "candle", "dolphin", "ember", "falcon", "garden", "harbor",
         "island", "jigsaw", "kettle", "lantern", "meadow", "nectar", "orchid", "pepper",
         "quartz", "ribbon", "saddle", "timber", "umbrella", "velvet", "walnut", "yonder")
UNITS: dict[str, dict[str, tuple[str, str, Decimal]]] = {  # kind -> unit -> names, factor
    "length": {"km": ("kilometer", "kilometers", Decimal(1000)),
               "m": ("meter", "meters", Decimal(1)),
               "cm": ("centimeter", "centimeters", Decimal("0.01")),
               "mm": ("millimeter", "millimeters", Decimal("0.001"))},
    "mass": {"kg": ("kilogram", "kilograms", Decimal(1000)), "g": ("gram", "grams", Decimal(1)),
             "mg": ("milligram", "milligrams", Decimal("0.001"))},
    "volume": {"l": ("liter", "liters", Decimal(1000)),
               "ml": ("milliliter", "milliliters", Decimal(1))},
    "time": {"h": ("hour", "hours", Decimal(3600)), "min": ("minute", "minutes", Decimal(60)),
             "s": ("second", "seconds", Decimal(1))},
}


def rows(rng: random.Random, n: int, prefix: str, make: Maker) -> list[Row]:
    """n rows with distinct questions; options (when any) shuffled by the same rng."""
    out: list[Row] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < n * 50:
        attempts += 1
        question, answer, options = make(rng)
        if question in seen:
            continue
        seen.add(question)
        row: Row = {"id": f"{prefix}{len(out):04d}", "input": {"question": question}}
        if options:
            rng.shuffle(options)
            row["input"]["options"] = options
        row["output"] = {"answer": answer}
        out.append(row)
    return out


def distractors(rng: random.Random, answer: int, near: list[int], k: int = 3) -> list[int]:
    pool = [v for v in dict.fromkeys(near) if v != answer and v >= 0]
    extra = [answer + d for d in (1, -1, 2, -2, 3, 5, 10, -10, 11, 20) if answer + d >= 0]
    rng.shuffle(extra)
    picked: list[int] = []
    for v in pool[:2] + extra + pool[2:]:
        if v != answer and v not in picked:
            picked.append(v)
        if len(picked) == k:
            break
    return picked


def arithmetic(rng: random.Random) -> tuple[str, str, list[str]]:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    kind = rng.randrange(5)
    if kind == 0:
        a, b = rng.randint(5, 60), rng.randint(2, 40)
        c = rng.randint(1, a + b - 1)
        q = (f"{name} has {a} {item}. {name} gets {b} more and then gives {c} to a friend. "
             f"How many {item} does {name} have now?")
        ans, near = a + b - c, [a + b + c, a - b + c, a + b]
    elif kind == 1:
        a, b = rng.randint(3, 24), rng.randint(2, 15)
        q = f"A box holds {a} {item}. How many {item} are in {b} such boxes?"
        ans, near = a * b, [a + b, a * (b - 1), a * (b + 1)]
    elif kind == 2:
        k, each = rng.randint(2, 9), rng.randint(2, 25)
        q = (f"{name} shares {k * each} {item} equally among {k} friends. "
             f"How many {item} does each friend get?")
        ans, near = each, [k * each - k, each + k, each * 2]
    elif kind == 3:
        price, qty = rng.randint(2, 15), rng.randint(2, 9)
        bill = next(b for b in (20, 50, 100, 200) if b > price * qty)
        q = (f"A shop sells {item} for {price} dollars each. {name} buys {qty} of them and pays "
             f"with a {bill}-dollar bill. How much change, in dollars, does {name} get back?")
        ans, near = bill - price * qty, [price * qty, bill - price - qty, bill - price]
    else:
        a = rng.randint(4, 60)
        q = (f"{name} read {a} pages on Monday and twice as many pages on Tuesday. "
             f"How many pages did {name} read on the two days together?")
        ans, near = 3 * a, [2 * a, a + 2, 4 * a]
    options = [str(v) for v in [ans, *distractors(rng, ans, near)]]
    return q, str(ans), options


def _random_date(rng: random.Random) -> dt.date:
    return dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(366 * 30))


def date_arithmetic(rng: random.Random) -> tuple[str, str, list[str]]:
    base = _random_date(rng)
    days = rng.choice([rng.randint(1, 31), rng.randint(32, 120), rng.randint(121, 400)])
    after = rng.random() < 0.5
    delta = dt.timedelta(days=days if after else -days)
    answer = base + delta
    if after:
        q = f"What date is {days} days after {base.isoformat()}?"
    else:
        q = f"What date is {days} days before {base.isoformat()}?"
    wrong = [answer + dt.timedelta(days=1), answer - dt.timedelta(days=1), base - delta,
             answer + dt.timedelta(days=rng.choice([7, -7, 30, -30]))]
    picked = [d for d in dict.fromkeys(wrong) if d != answer]
    rng.shuffle(picked)
    options = [answer.isoformat()] + [d.isoformat() for d in picked[:3]]
    return q, answer.isoformat(), options


def _fmt(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit_conversion(rng: random.Random) -> tuple[str, str, list[str]]:
    while True:
        units = UNITS[rng.choice(sorted(UNITS))]
        src, dst = rng.sample(sorted(units), 2)
        value = Decimal(rng.randint(1, 999)) / rng.choice([1, 1, 10])
        result = value * units[src][2] / units[dst][2]
        if result == result.quantize(Decimal("0.001")) and result < 10**9:
            break
    one, many, _ = units[src]
    src_name = one if value == 1 else many
    q = f"How many {units[dst][1]} are in {_fmt(value)} {src_name}?"
    return q, _fmt(result), []


def ordering(rng: random.Random) -> tuple[str, str, list[str]]:
    kind = rng.randrange(3)
    if kind == 0:
        people = rng.sample(NAMES, rng.randint(3, 5))
        facts = [f"{a} finished before {b}." for a, b in itertools.pairwise(people)]
        rng.shuffle(facts)
        first = rng.random() < 0.5
        q = (f"{len(people)} friends ran a race. {' '.join(facts)} "
             f"Who finished {'first' if first else 'last'}?")
        return q, people[0] if first else people[-1], list(people)
    if kind == 1:
        dates = sorted({_random_date(rng) for _ in range(4)})
        while len(dates) < 4:
            dates = sorted({*dates, _random_date(rng)})
        early = rng.random() < 0.5
        q = f"Which of these dates comes {'earliest' if early else 'latest'}?"
        answer = dates[0] if early else dates[-1]
        return q, answer.isoformat(), [d.isoformat() for d in dates]
    words = rng.sample(WORDS, 4)
    first = rng.random() < 0.5
    q = (f"Which of these words comes {'first' if first else 'last'} in alphabetical order: "
         f"{', '.join(words)}?")
    return q, min(words) if first else max(words), list(words)


def media_rows(items: list[Item], rng: random.Random, prefix: str, media_field: str,
               media_path: str) -> list[Row]:
    """General-Bench rows for generated media items; `media_path` is a format string on the id,
    e.g. "images/{}.png". Options are shuffled with `rng`; generator values stay in `params`."""
    rows: list[Row] = []
    for idx, item in enumerate(items):
        sid = f"{prefix}{idx:04d}"
        row: Row = {"id": sid, "input": {media_field: media_path.format(sid),
                                         "question": item.question}}
        if item.options:
            options = list(item.options)
            rng.shuffle(options)
            row["input"]["options"] = options
        row["output"] = {"answer": item.answer}
        row["params"] = item.params
        rows.append(row)
    return rows
