"""The ordered list of pool formats: which loader takes which path, walks, marker files, and
adding a format without touching the others."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.unit.pool.poolfiles import FEATURES, hf_table, save_split, sentiment, write

from benchagent.pool import Pool, PoolError
from benchagent.pool.base import LoadContext, LoadedDataset
from benchagent.pool.formats import LOADERS, load_path
from benchagent.pool.formats.loader import FoundBelow, Loader
from benchagent.pool.formats.tabular.files import Row
from benchagent.pool.formats.tabular.table import TableSpec, load_table


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))


def _yes_no(n: int, tag: str) -> dict[str, object]:
    return {"task": tag, "data": [{"id": f"{tag}{i}", "input": {"question": f"Is {i} even?"},
                                   "output": {"answer": "yes" if i % 2 == 0 else "no"}}
                                  for i in range(n)]}


def _task(folder: Path, n: int = 3) -> Path:
    examples = [{"input": f"{folder.name} {i}?", "target": "yes" if i % 2 else "no"}
                for i in range(n)]
    write(folder / "task.json", json.dumps({"description": folder.name, "examples": examples}))
    return folder


def _jsonl(path: Path, n: int = 3) -> Path:
    return write(path, "".join(json.dumps({"question": f"{path.stem} {i}?", "answer": str(i)})
                               + "\n" for i in range(n)))


def _parquet_folder(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    pq.write_table(hf_table(sentiment(3), FEATURES),
                   folder / "data" / "train-00000-of-00001.parquet")
    return folder


def _hub_folder(folder: Path) -> Path:
    """A Hub-layout folder: taken by `datasets` when it is installed, else as Parquet."""
    write(folder / "README.md", "---\nconfigs:\n- config_name: default\n  data_files: "
          "data/*.parquet\n---\n")
    return _parquet_folder(folder)


hub_folder_taker = ("HubFolderLoader" if importlib.util.find_spec("datasets")
                    else "ParquetFolderLoader")


def _taker(path: Path | str) -> str:
    return next(type(f).__name__ for f in LOADERS if f.recognises(Path(path)))


def test_formats_are_tried_in_one_fixed_order() -> None:
    assert [type(f).__name__ for f in LOADERS] == [
        "HubLoader", "AnnotationFileLoader", "TaskLoader", "StarterLoader", "RootLoader",
        "HubFolderLoader", "SavedLoader", "FolderLoader", "ParquetFolderLoader",
        "MarkerFileLoader", "RootLoader", "FileLoader", "AnyFileLoader", "PlainFolderLoader"]
    assert all(isinstance(f, Loader) for f in LOADERS)


def test_each_kind_of_path_goes_to_its_format(tmp_path: Path) -> None:
    gb = write(tmp_path / "gb" / "datasets" / "nlp" / "X" / "annotation.json",
               json.dumps(_yes_no(3, "x")))
    bb = _task(tmp_path / "bb" / "t1")
    saved = save_split(tmp_path / "saved", sentiment(3), FEATURES, "train")
    mapped = _jsonl(tmp_path / "mapped" / "train.jsonl").parent
    write(mapped / "benchagent-dataset.toml", "")
    write(tmp_path / "starter" / "pool.json", json.dumps({"format": "starter"}))
    (tmp_path / "starter" / "datasets").mkdir()
    assert [_taker(p) for p in (
        "hf:org/name", gb, bb, bb / "task.json", tmp_path / "starter", tmp_path / "gb", saved,
        _hub_folder(tmp_path / "hub"), mapped, _parquet_folder(tmp_path / "pq"),
        saved / "state.json", tmp_path / "bb",
        mapped / "train.jsonl", write(tmp_path / "x.benchagent.toml", ""),
        write(tmp_path / "notes.txt", "hi"), tmp_path,
    )] == ["HubLoader", "AnnotationFileLoader", "TaskLoader", "TaskLoader", "StarterLoader",
           "RootLoader", "SavedLoader", hub_folder_taker, "FolderLoader", "ParquetFolderLoader",
           "MarkerFileLoader", "RootLoader", "FileLoader", "FileLoader", "AnyFileLoader",
           "PlainFolderLoader"]


def test_a_walk_loads_annotation_files_then_tasks_then_dataset_folders_then_data_files(
        tmp_path: Path) -> None:
    root = tmp_path / "pool"
    write(root / "z" / "annotation.json", json.dumps(_yes_no(3, "late-annotation")))
    _task(root / "tasks" / "a-task")
    _parquet_folder(root / "b-parquet")
    save_split(root / "c-saved", sentiment(3), FEATURES, "train")
    _parquet_folder(root / "d-parquet")
    _jsonl(root / "a-first.jsonl")
    _jsonl(root / ".hidden.jsonl")
    _jsonl(root / ".hidden" / "x.jsonl")
    pool = Pool.load([root])
    assert [c.name for c in pool.cards] == [
        "z", "a-task", "b-parquet", "c-saved", "d-parquet", "a-first"]
    assert pool.warnings == []


def test_a_marker_file_stands_for_the_folder_it_marks(tmp_path: Path) -> None:
    mapped = _jsonl(tmp_path / "mapped" / "x.jsonl").parent
    write(mapped / "benchagent-dataset.toml", '[dataset]\nname = "Mapped"\n')
    write(mapped / "state.json", "{}")  # a save_to_disk marker, but no Arrow files
    (card,) = Pool.load([mapped / "state.json"]).cards
    assert (card.name, card.format) == ("Mapped", "jsonl")
    stray = Pool.load([write(tmp_path / "lone" / "dataset_info.json", "{}")])
    assert [w.reason for w in stray.warnings] == [
        "its folder is not a Hugging Face dataset saved to disk"]


def test_a_folder_that_is_two_formats_loads_as_the_first_in_the_list(tmp_path: Path) -> None:
    both = _task(tmp_path / "pool" / "sub" / "both")
    _jsonl(both / "train.jsonl")
    write(both / "benchagent-dataset.toml", '[dataset]\nname = "Mapped"\n')
    given = Pool.load([both]).cards
    walked = Pool.load([tmp_path / "pool"]).cards
    assert [c.format for c in given] == [c.format for c in walked] == ["bigbench"]


def test_missing_and_odd_paths(tmp_path: Path) -> None:
    ctx = LoadContext(cache_root=None)
    with pytest.raises(PoolError, match="pool path does not exist"):
        load_path(tmp_path / "nope", ctx)
    (tmp_path / "empty").mkdir()
    assert load_path(tmp_path / "empty", ctx) == []
    assert [w.reason for w in ctx.sink.items] == [
        "no datasets found (no annotation.json, task.json or datasets/)"]


class QaTextLoader:
    """A made-up format: `*.qa.txt` files of `question<TAB>answer` lines."""

    name = "qa-text"
    walk_group = "qa text file"

    def recognises(self, path: Path) -> bool:
        return path.is_file() and self.finds(path)

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return self.load_found([path], path.parent, ctx)

    def finds(self, path: Path) -> bool:
        return path.name.endswith(".qa.txt")

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        out = []
        for path in paths:
            rows = [Row(path, i, dict(zip(("question", "answer"), line.split("\t"), strict=True)))
                    for i, line in enumerate(path.read_text().splitlines())]
            ds = load_table(TableSpec(name=path.name, format="jsonl", source=str(path),
                                      rel=path.relative_to(root).as_posix(), rows=rows,
                                      features={}, media_root=path.parent), ctx)
            out += [ds] if ds else []
        return out


@pytest.fixture
def qa_text_format() -> Iterator[None]:
    LOADERS.insert(LOADERS.index(next(f for f in LOADERS if type(f).__name__ == "FileLoader")),
                   QaTextLoader())
    yield
    LOADERS[:] = [f for f in LOADERS if not isinstance(f, QaTextLoader)]


@pytest.mark.usefixtures("qa_text_format")
def test_a_new_format_is_one_loader_in_the_list(tmp_path: Path) -> None:
    assert isinstance(QaTextLoader(), FoundBelow)
    root = tmp_path / "pool"
    write(root / "sub" / "capitals.qa.txt", "Capital of France?\tParis\nOf Peru?\tLima\n")
    _jsonl(root / "numbers.jsonl")
    pool = Pool.load([root])
    assert [c.name for c in pool.cards] == ["capitals.qa.txt", "numbers"]
    assert [s.answer for s in pool.samples(pool.cards[0].id)] == ["Paris", "Lima"]
    (alone,) = Pool.load([root / "sub" / "capitals.qa.txt"]).cards
    assert (alone.name, alone.size) == ("capitals.qa.txt", 2)
