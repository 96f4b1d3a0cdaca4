"""The generated starter pool: deterministic bytes, right answers, read by the same loader."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from benchagent.pool import Pool, default_starter_pool, generate_starter_pool
from benchagent.pool.starter.generate import LICENSE, SPECS, TEXT_SPECS, VERSION
from benchagent.pool.starter.tasks import UNITS
from benchagent.records import AnswerType, SourceSample

Finder = Callable[[Pool, str], str]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path: Path, starter_root: Path) -> None:
    again = _tree(generate_starter_pool(tmp_path / "a", seed=0))
    assert again == _tree(starter_root)
    assert any(k.endswith(".png") for k in again)  # images (and audio, with espeak-ng) too
    assert any(k.endswith(".wav") for k in again) == bool(shutil.which("espeak-ng"))
    other = _tree(generate_starter_pool(tmp_path / "b", seed=1))
    assert set(other) != set(again)  # card ids depend on the seed
    assert other[next(k for k in other if "Date-Arithmetic" in k)] != \
        again[next(k for k in again if "Date-Arithmetic" in k)]


def test_layout_and_cards(starter_pool: Pool, starter_root: Path) -> None:
    assert starter_pool.warnings == []
    assert json.loads((starter_root / "pool.json").read_text())["format"] == "starter"
    cards = {c.name: c for c in starter_pool.cards}
    assert set(cards) <= {s.name for s in SPECS}
    assert {s.name for s in TEXT_SPECS} == {"Arithmetic-Word-Problems", "Date-Arithmetic",
                                             "Unit-Conversion", "Ordering"}
    for card in (cards[s.name] for s in TEXT_SPECS):
        assert card.format == "starter" and card.license == LICENSE
        assert card.size == 120 == len(starter_pool.samples(card.id))
        assert (starter_root / "cards" / f"{card.id}_card.json").is_file()
        data = json.loads(Path(card.source).read_text())
        assert set(data) >= {"task", "modality", "data"}
        assert card.source.endswith(f"datasets/nlp/{card.name}/annotation.json")
    assert cards["Unit-Conversion"].answer_type is AnswerType.number
    for name in ("Arithmetic-Word-Problems", "Date-Arithmetic", "Ordering"):
        assert cards[name].answer_type is AnswerType.multiple_choice


def _samples(pool: Pool, by_name: Finder, name: str) -> list[SourceSample]:
    samples = pool.samples(by_name(pool, name))
    assert samples and len({s.question for s in samples}) == len(samples)
    for s in samples:
        if s.options:
            assert len(set(s.options)) == len(s.options) and s.options.count(s.answer) == 1
    return samples


def test_date_answers(starter_pool: Pool, by_name: Finder) -> None:
    pattern = re.compile(r"What date is (\d+) days (after|before) (\d{4}-\d{2}-\d{2})\?")
    for s in _samples(starter_pool, by_name, "Date-Arithmetic"):
        m = pattern.fullmatch(s.question)
        assert m, s.question
        days = int(m.group(1)) * (1 if m.group(2) == "after" else -1)
        expected = dt.date.fromisoformat(m.group(3)) + dt.timedelta(days=days)
        assert s.answer == expected.isoformat() and len(s.options) == 4


def test_arithmetic_answers(starter_pool: Pool, by_name: Finder) -> None:
    checks: list[tuple[re.Pattern[str], Callable[[list[int]], int]]] = [
        (re.compile(r"\w+ has (\d+) \w+\. \w+ gets (\d+) more and then gives (\d+)"),
         lambda n: n[0] + n[1] - n[2]),
        (re.compile(r"A box holds (\d+) \w+\. How many \w+ are in (\d+) such"),
         lambda n: n[0] * n[1]),
        (re.compile(r"\w+ shares (\d+) \w+ equally among (\d+) friends"), lambda n: n[0] // n[1]),
        (re.compile(r"for (\d+) dollars each\. \w+ buys (\d+) of them .* with a (\d+)-dollar"),
         lambda n: n[2] - n[0] * n[1]),
        (re.compile(r"read (\d+) pages on Monday and twice as many"), lambda n: 3 * n[0]),
    ]
    samples = _samples(starter_pool, by_name, "Arithmetic-Word-Problems")
    for s in samples:
        found = [(p.search(s.question), f) for p, f in checks]
        results = [f([int(x) for x in m.groups()]) for m, f in found if m]
        assert results == [int(s.answer)], s.question
        assert len(s.options) == 4 and all(o.isdigit() for o in s.options)


def test_unit_conversion_answers(starter_pool: Pool, by_name: Finder) -> None:
    factor = {name: f for units in UNITS.values() for one, many, f in units.values()
              for name in (one, many)}
    pattern = re.compile(r"How many (\w+) are in ([\d.]+) (\w+)\?")
    for s in _samples(starter_pool, by_name, "Unit-Conversion"):
        m = pattern.fullmatch(s.question)
        assert m, s.question
        expected = Decimal(m.group(2)) * factor[m.group(3)] / factor[m.group(1)]
        assert Decimal(s.answer) == expected and s.options == []


def test_ordering_answers(starter_pool: Pool, by_name: Finder) -> None:
    kinds = set()
    for s in _samples(starter_pool, by_name, "Ordering"):
        q = s.question
        if "ran a race" in q:
            kinds.add("race")
            before = dict(re.findall(r"(\w+) finished before (\w+)\.", q))
            first = (set(before) - set(before.values())).pop()
            last = (set(before.values()) - set(before)).pop()
            assert s.answer == (first if q.endswith("first?") else last)
        elif "dates" in q:
            kinds.add("dates")
            assert s.answer == (min(s.options) if "earliest" in q else max(s.options))
        else:
            kinds.add("words")
            words = q.rsplit(": ", 1)[1].rstrip("?").split(", ")
            assert sorted(words) == sorted(s.options)
            assert s.answer == (min(words) if "comes first" in q else max(words))
    assert kinds == {"race", "dates", "words"}


def test_default_starter_pool_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))
    path = default_starter_pool()
    suffix = "" if shutil.which("espeak-ng") else "-noaudio"
    assert path == tmp_path / "cache" / "starter-pool" / f"{VERSION}-0{suffix}"
    marker = path / "pool.json"
    stamp = marker.stat().st_mtime_ns
    assert default_starter_pool() == path and marker.stat().st_mtime_ns == stamp
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp dirs left
    assert len(Pool.load([path]).cards) == (13 if not suffix else 10)


def test_default_starter_pool_replaces_incomplete_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path))
    suffix = "" if shutil.which("espeak-ng") else "-noaudio"
    stale = tmp_path / "starter-pool" / f"{VERSION}-3{suffix}"
    (stale / "datasets").mkdir(parents=True)
    path = default_starter_pool(seed=3)
    assert path == stale and (path / "pool.json").is_file()
