"""Broken tabular data: every bad file, line or row is skipped with a warning naming file and
reason; the rest still loads."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.pool.poolfiles import PNG, write

from benchagent.pool import Pool, PoolWarning

LIMIT = 50_000


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))


def jsonl(rows: list[Any]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "pool"
    write(root / "qa.jsonl", jsonl([
        {"id": "a", "question": "Is it?", "answer": "yes"},
        {"id": "b", "question": "Is it not?"},
        "{this is not json",
        [1, 2],
        {"id": "c", "question": "Pick", "options": ["x", "y"], "answer": "z"},
        {"id": "d", "question": "Pick", "options": "x or y", "answer": "x"},
    ]))
    write(root / "table.csv", "question,answer\nOne?,1\nTwo?,2,extra\n\"Three?\",3\n")
    write(root / "latin1.csv", b"question,answer\ncaf\xe9?,yes\n")
    write(root / "fake.parquet", b"PAR1 but not really a parquet file")
    pq.write_table(pa.table({"question": ["Ok?"], "answer": ["yes"]}), root / "good.parquet")
    pics = root / "pics"
    write(pics / "images" / "cat.png", PNG)
    write(root / "secret.png", PNG)
    outside = write(tmp_path / "outside.png", PNG)
    (pics / "images" / "link.png").symlink_to(outside)
    refs = ["cat.png", "../secret.png", str(outside), "link.png", "missing.png"]
    write(pics / "vqa.jsonl", jsonl([{"id": f"i{n}", "image": ref, "question": "What?",
                                      "answer": "a cat"} for n, ref in enumerate(refs)]))
    write(root / "mapped" / "m.jsonl", jsonl([{"q": "Hi?", "a": "yes"}]))
    write(root / "mapped" / "m.benchagent.toml", '[fields]\nquestion = "q"\nanswer = "label"\n')
    write(root / "badtoml" / "t.jsonl", jsonl([{"question": "Hi?", "answer": "yes"}]))
    write(root / "badtoml" / "t.benchagent.toml", "[dataset\nname = ")
    write(root / "idx" / "i.jsonl", jsonl([{"question": "Pick", "options": ["x", "y"],
                                            "label": n} for n in (0, 1, 5)]))
    write(root / "big.jsonl", jsonl([{"question": "x" * LIMIT, "answer": "y"}]))
    return root


def test_bad_rows_lines_and_files_are_reported(broken: Path) -> None:
    pool = Pool.load([broken], max_file_bytes=LIMIT)
    sizes = {c.name: c.size for c in pool.cards}
    assert sizes == {"qa": 1, "table": 2, "good": 1, "vqa": 1, "i": 2}
    reasons = {w.path: w.reason for w in pool.warnings}

    def reason(path: Path | str) -> str:
        return reasons.pop(str(path))

    qa = broken / "qa.jsonl"
    assert "no answer" in reason(f"{qa}#b")
    assert reason(f"{qa}:3").startswith("line 3 is not valid JSON")
    assert reason(f"{qa}:4") == "line 4 is not a JSON object"
    assert "'z' is not one of the 2 options" in reason(f"{qa}#c")
    assert "options in 'options' are not a list" in reason(f"{qa}#d")
    assert reason(f"{broken / 'table.csv'}:3") == (
        "malformed CSV row: 3 fields where the header has 2")
    assert "not valid UTF-8" in reason(broken / "latin1.csv")
    assert reason(broken / "fake.parquet").startswith("not a Parquet file")
    vqa = broken / "pics" / "vqa.jsonl"
    for n in (1, 2, 3):  # "..", absolute, symlink pointing outside
        assert "escapes the dataset root" in reason(f"{vqa}#i{n}")
    assert "not found" in reason(f"{vqa}#i4")
    assert "no row has: label" in reason(broken / "mapped" / "m.jsonl")
    assert reason(broken / "badtoml" / "t.benchagent.toml").startswith("invalid mapping file")
    assert "not one of the 2 options" in reason(f"{broken / 'idx' / 'i.jsonl'}#row2")
    assert "over the 50000-byte limit" in reason(broken / "big.jsonl")
    assert reasons == {}


def test_sample_ids_do_not_shift_when_a_bad_line_comes_first(tmp_path: Path) -> None:
    path = write(tmp_path / "q.jsonl", jsonl(["oops", {"question": "A?", "answer": "yes"}]))
    pool = Pool.load([path])
    assert [s.source_id for s in pool.samples(pool.cards[0].id)] == ["row1"]


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"question": ["Ok?"], "answer": ["yes"]}), path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    pool = Pool.load([path])
    assert pool.cards == []
    assert pool.warnings == [PoolWarning(str(path), "reading Parquet files needs pyarrow: "
                                                    "pip install 'benchagent[formats]'")]


def test_mapping_without_answer_and_unknown_keys(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", jsonl([{"q": "Hi?", "a": "yes"}]))
    write(tmp_path / "a.benchagent.toml", '[fields]\nquestion = "q"\n')
    write(tmp_path / "b.jsonl", jsonl([{"q": "Hi?", "a": "yes"}]))
    write(tmp_path / "b.benchagent.toml",
          '[dataset]\ncolour = "red"\n[fields]\nquestion = "q"\nanswer = "a"\n')
    pool = Pool.load([tmp_path])
    assert [c.name for c in pool.cards] == ["b"]
    assert [str(w) for w in pool.warnings] == [
        f"{tmp_path / 'a.benchagent.toml'}: invalid mapping file: [fields] names no answer column",
        f"{tmp_path / 'b.benchagent.toml'}: mapping file: unknown key dataset.colour ignored"]


def test_broken_save_to_disk_arrow_file(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    write(folder / "data-00000-of-00001.arrow", b"not arrow at all")
    write(folder / "state.json", json.dumps(
        {"_data_files": [{"filename": "data-00000-of-00001.arrow"},
                         {"filename": "../escape.arrow"}]}))
    pool = Pool.load([folder])
    assert pool.cards == []
    reasons = [str(w) for w in pool.warnings]
    assert "bad data file entry" in reasons[0]
    assert reasons[1].startswith(f"{folder / 'data-00000-of-00001.arrow'}: not an Arrow file")
    assert len(reasons) == 2
