"""Cards are cached by content hash: reused while the data stays, rebuilt when it changes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from benchagent.pool import Pool
from benchagent.pool.formats import bigbench, generalbench
from benchagent.pool.formats.tabular import table as tabular
from benchagent.records import SourceSample

ROWS = [{"question": f"Is {i} even?", "answer": "yes" if i % 2 == 0 else "no"} for i in range(4)]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "cards"


def counting(module: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of the module's `profiled_fields` (the expensive part of a card)."""
    calls: list[int] = []
    real: Callable[[Sequence[SourceSample]], dict[str, Any]] = module.profiled_fields

    def wrapper(samples: Sequence[SourceSample]) -> dict[str, Any]:
        calls.append(len(samples))
        return real(samples)

    monkeypatch.setattr(module, "profiled_fields", wrapper)
    return calls


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_second_load_reuses_the_card_and_edits_rebuild_it(
        tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(tabular, monkeypatch)
    data = write_rows(tmp_path / "even.jsonl", ROWS)
    first = Pool.load([data]).cards[0]
    (cached,) = cache.glob("*.json")
    assert cached.stem == first.content_hash and calls == [4]
    mtime = cached.stat().st_mtime_ns
    second = Pool.load([data]).cards[0]
    assert second == first and calls == [4] and cached.stat().st_mtime_ns == mtime

    write_rows(data, [*ROWS, {"question": "Is 9 even?", "answer": "no"}])
    third = Pool.load([data]).cards[0]
    assert calls == [4, 5] and third.size == 5 and third.content_hash != first.content_hash
    assert len(list(cache.glob("*.json"))) == 2

    (tmp_path / "even.benchagent.toml").write_text('[dataset]\ndescription = "Parity."\n')
    fourth = Pool.load([data]).cards[0]
    assert calls == [4, 5, 5] and fourth.description == "Parity."


def test_a_hand_edited_cached_card_is_kept(tmp_path: Path, cache: Path) -> None:
    data = write_rows(tmp_path / "even.jsonl", ROWS)
    card = Pool.load([data]).cards[0]
    path = cache / f"{card.content_hash}.json"
    path.write_text(card.model_copy(update={"description": "Written by a person."})
                    .model_dump_json())
    assert Pool.load([data]).cards[0].description == "Written by a person."
    path.write_text("{not json")  # a broken cache file is rebuilt, not an error
    reloaded = Pool.load([data])
    assert reloaded.warnings == [] and reloaded.cards[0] == card


def test_general_bench_and_bigbench_cards_are_cached_too(
        tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gb_calls = counting(generalbench, monkeypatch)
    bb_calls = counting(bigbench, monkeypatch)
    ann = tmp_path / "gb" / "datasets" / "nlp" / "Parity" / "annotation.json"
    ann.parent.mkdir(parents=True)
    ann.write_text(json.dumps({"task": "Parity", "data_source": "made up here", "data": [
        {"id": f"q{i}", "input": {"question": r["question"]}, "output": {"answer": r["answer"]}}
        for i, r in enumerate(ROWS)]}))
    task = tmp_path / "bb" / "parity" / "task.json"
    task.parent.mkdir(parents=True)
    task.write_text(json.dumps({"name": "parity", "description": "Parity.", "keywords": ["x"],
                                "examples": [{"input": r["question"], "target": r["answer"]}
                                             for r in ROWS]}))
    paths = [tmp_path / "gb", tmp_path / "bb"]
    first = Pool.load(paths).cards
    assert Pool.load(paths).cards == first and gb_calls == [4] and bb_calls == [4]
    gb, bb = first
    assert (gb.citation, gb.language, bb.license, bb.language) == (
        "made up here", "en", "Apache-2.0", "en")
    assert gb.text_stats and bb.answer_length_mean == 2.5


def test_no_cache_root_means_no_files(tmp_path: Path, cache: Path) -> None:
    from benchagent.pool.base import LoadContext
    from benchagent.pool.formats import load_path

    data = write_rows(tmp_path / "even.jsonl", ROWS)
    (ds,) = load_path(data, LoadContext(cache_root=None))
    assert ds.card.content_hash and not cache.exists()
