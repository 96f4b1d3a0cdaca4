"""Broken pools: every bad file or sample is skipped with a warning; the rest still loads."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from tests.unit.pool.poolfiles import PNG

from benchagent.pool import Pool, PoolError, PoolWarning

LIMIT = 50_000


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _yes_no_rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "input": {"question": f"Is {i} even?"},
             "output": {"answer": "yes" if i % 2 == 0 else "no"}} for i in range(n)]


def _image_rows(refs: list[str]) -> list[dict[str, Any]]:
    return [{"id": f"img{i}", "input": {"image_file": ref, "question": "What is shown?"},
             "output": {"text": "a cat"}} for i, ref in enumerate(refs)]


@pytest.fixture
def broken_pool(tmp_path: Path) -> tuple[Path, Path]:
    gb, bb = tmp_path / "gb", tmp_path / "bb"
    nlp = gb / "datasets" / "nlp"
    _write(nlp / "Good" / "annotation.json", {"task": "Good", "data": _yes_no_rows(30)})
    _write(nlp / "Bad-Json" / "annotation.json", '{"task": "x", "data": [')
    _write(nlp / "Not-Utf8" / "annotation.json",
           b'{"data": [{"input": {"question": "caf\xe9?"}, "output": {"answer": "yes"}}]}')
    _write(nlp / "Too-Big" / "annotation.json",
           {"data": _yes_no_rows(3), "padding": "x" * (LIMIT + 10)})
    rows = _yes_no_rows(4)
    del rows[1]["output"]
    rows[2]["input"]["question"] = "Lone \ud800 surrogate?"
    _write(nlp / "Some-Bad-Samples" / "annotation.json", {"data": rows})
    pick = {"question": "Pick", "options": ["x", "y"]}
    _write(nlp / "Letter-Out-Of-Range" / "annotation.json", {"data": [
        {"id": "a", "input": pick, "output": {"answer": "A"}},
        {"id": "b", "input": pick, "output": {"answer": "E"}},
    ]})
    pics = gb / "datasets" / "image" / "pics"
    _write(pics / "images" / "good.png", PNG)
    _write(pics / "images" / "broken.png", b"this is not an image at all")
    _write(pics / "images" / "empty.png", b"")
    _write(gb / "datasets" / "image" / "secret.png", PNG)
    outside = _write(tmp_path / "outside.png", PNG)
    (pics / "images" / "link.png").symlink_to(outside)
    refs = ["good.png", "images/broken.png", "empty.png", "missing.png", str(outside),
            "../secret.png", "images/../../secret.png", "link.png"]
    _write(pics / "json" / "annotation.json",
           {"modality": {"in": ["image", "text"], "out": ["text"]}, "data": _image_rows(refs)})
    _write(bb / "good_task" / "task.json", {"name": "good_task", "description": "Good.",
           "keywords": ["logic"], "examples": [
               {"input": "1+1?", "target_scores": {"2": 1, "3": 0}},
               {"input": "2+2?"},
               {"input": "3+3?", "target": ["6", "six"]}]})
    _write(bb / "broken_task" / "task.json", "[1, 2,")
    _write(bb / "empty_task" / "task.json", {"name": "empty_task", "examples": []})
    return gb, bb


def _reasons(warnings: list[PoolWarning]) -> dict[str, str]:
    return {w.path: w.reason for w in warnings}


def test_good_datasets_load_and_each_bad_one_is_reported(broken_pool: tuple[Path, Path]) -> None:
    gb, bb = broken_pool
    pool = Pool.load([gb, bb], max_file_bytes=LIMIT)
    sizes = {c.name: c.size for c in pool.cards}
    assert sizes == {"Good": 30, "Some-Bad-Samples": 2, "Letter-Out-Of-Range": 1, "pics": 1,
                     "good_task": 2}
    for card in pool.cards:
        assert card.size == len(pool.samples(card.id))
    reasons = _reasons(pool.warnings)
    nlp = gb / "datasets" / "nlp"

    def reason(path: Path | str) -> str:
        return reasons.pop(str(path))

    assert "invalid JSON" in reason(nlp / "Bad-Json" / "annotation.json")
    assert "not valid UTF-8" in reason(nlp / "Not-Utf8" / "annotation.json")
    assert "over the 50000-byte limit" in reason(nlp / "Too-Big" / "annotation.json")
    bad = nlp / "Some-Bad-Samples" / "annotation.json"
    assert "no answer" in reason(f"{bad}#q1")
    assert "UTF-8" in reason(f"{bad}#q2")
    assert "not one of the 2 options" in reason(
        f"{nlp / 'Letter-Out-Of-Range' / 'annotation.json'}#b")
    pics = gb / "datasets" / "image" / "pics" / "json" / "annotation.json"
    assert "broken" in reason(f"{pics}#img1")
    assert "empty" in reason(f"{pics}#img2")
    assert "not found" in reason(f"{pics}#img3")
    for i in (4, 5, 6, 7):  # absolute, "..", "images/../..", symlink pointing outside
        assert "escapes the dataset root" in reason(f"{pics}#img{i}")
    assert "no target" in reason(f"{bb / 'good_task' / 'task.json'}#ex00001")
    assert "invalid JSON" in reason(bb / "broken_task" / "task.json")
    assert "no examples" in reason(bb / "empty_task" / "task.json")
    assert reasons == {}


def test_good_image_sample_is_confined_and_absolute(broken_pool: tuple[Path, Path]) -> None:
    gb, _ = broken_pool
    pool = Pool.load([gb / "datasets" / "image"], max_file_bytes=LIMIT)
    (card,) = pool.cards
    (sample,) = pool.samples(card.id)
    assert sample.source_id == "img0"
    assert sample.images == [str((gb / "datasets/image/pics/images/good.png").resolve())]
    assert card.modalities_in[0].value == "image"


def test_warnings_are_logged(broken_pool: tuple[Path, Path],
                             caplog: pytest.LogCaptureFixture) -> None:
    gb, _ = broken_pool
    with caplog.at_level(logging.WARNING, logger="benchagent.pool"):
        pool = Pool.load([gb / "datasets" / "nlp" / "Bad-Json"])
    assert pool.cards == [] and len(pool.warnings) == 1
    assert "invalid JSON" in caplog.text


def test_missing_path_raises_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(PoolError) as err:
        Pool.load([tmp_path / "nope"])
    assert "does not exist" in str(err.value) and "\n" not in str(err.value)


def test_empty_folder_warns(tmp_path: Path) -> None:
    pool = Pool.load([tmp_path])
    assert pool.cards == []
    assert [w.reason for w in pool.warnings] == [
        "no datasets found (no annotation.json, task.json or datasets/)"]


def test_unknown_dataset_id_raises(tmp_path: Path) -> None:
    pool = Pool.load([tmp_path])
    with pytest.raises(PoolError, match="no dataset with id"):
        pool.samples("deadbeef")


def test_same_pool_twice_keeps_one_copy(broken_pool: tuple[Path, Path]) -> None:
    _, bb = broken_pool
    pool = Pool.load([bb / "good_task", bb / "good_task"])
    assert len(pool.cards) == 1
    assert any("duplicate dataset id" in w.reason for w in pool.warnings)


def test_card_without_data_file_is_reported(tmp_path: Path) -> None:
    _write(tmp_path / "datasets" / "nlp" / "Here" / "annotation.json", {"data": _yes_no_rows(3)})
    _write(tmp_path / "cards" / "0000_card.json", {
        "dataset_id": "0000", "name": "Gone",
        "raw_meta": {"source_json": "data/datasets/nlp/Gone/annotation.json"}})
    _write(tmp_path / "cards" / "junk_card.json", {"name": "no source"})
    pool = Pool.load([tmp_path])
    assert [c.name for c in pool.cards] == ["Here"]
    assert _reasons(pool.warnings) == {
        str(tmp_path / "cards" / "junk_card.json"): "not a dataset card (no raw_meta.source_json)",
        str(tmp_path / "datasets/nlp/Gone/annotation.json"):
            "a dataset card names this data file, but it is missing",
    }
