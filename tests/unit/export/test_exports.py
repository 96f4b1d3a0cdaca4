"""`benchagent export` and the exports `build` writes: self-contained folders, every item with
its provenance and licence, audio left out of lm-eval (and said so), the Hugging Face export
loaded back by `datasets` with its media bytes intact."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from tests.unit.export.exported_runs import samples

from benchagent import api
from benchagent.records import Modality
from runcli import cli

TARGETS = ("lm-eval", "inspect", "hf")


def test_build_writes_every_export_and_no_export_writes_none(
        starter_runs: dict[str, Path]) -> None:
    exports = starter_runs["image"] / "benchmark" / "exports"
    assert sorted(p.name for p in exports.iterdir()) == sorted(TARGETS)
    assert not (starter_runs["text"] / "benchmark" / "exports").exists()


def _exported(run: Path, tmp_path: Path) -> Path:
    result = cli("export", run, "--to", "all", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    return tmp_path / "out"


def test_exported_code_needs_nothing_of_benchagent(text_image_audio: Path,
                                                   tmp_path: Path) -> None:
    out = _exported(text_image_audio, tmp_path)
    code = [out / "lm-eval" / "utils.py", out / "inspect" / "task.py"]
    for path in code:
        text = path.read_text()
        compile(text, str(path), "exec")
        assert not re.search(r"^\s*(from|import)\s+benchagent", text, re.MULTILINE), path


def test_every_item_carries_its_provenance_and_licence(text_image_audio: Path,
                                                       tmp_path: Path) -> None:
    out = _exported(text_image_audio, tmp_path)
    items = {s.id: s for s in samples(text_image_audio)}
    rows = [(out / "lm-eval", json.loads(line)) for path in (out / "lm-eval" / "data").glob(
        "*.jsonl") for line in path.read_text().splitlines()]
    rows += [(out / "inspect", json.loads(line)) for line in
             (out / "inspect" / "data" / "benchmark.jsonl").read_text().splitlines()]
    assert {r["id"] for _, r in rows} == set(items)
    for folder, row in rows:
        item = items[row["id"]]
        assert row["license"] == item.provenance.license and row["license"]
        assert json.loads(row["provenance"]) == item.provenance.model_dump(mode="json")
        assert len(row["images"]) + len(row["audio"]) == len(item.media)
        assert all((folder / rel).is_file() for rel in row["images"] + row["audio"])


def test_lm_eval_leaves_audio_out_and_says_how_many(text_image_audio: Path,
                                                    tmp_path: Path) -> None:
    result = cli("export", text_image_audio, "--to", "lm-eval", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    with_audio = sum(any(m.kind == Modality.audio for m in s.media)
                     for s in samples(text_image_audio))
    assert with_audio > 0
    readme = (tmp_path / "lm-eval" / "README.md").read_text()
    assert f"{with_audio} items with audio are left out" in readme
    assert f"{with_audio} items with audio left out" in result.stdout
    kept = sum(len(p.read_text().splitlines()) for p in (tmp_path / "lm-eval" / "data").iterdir())
    assert kept == len(samples(text_image_audio)) - with_audio


def test_unknown_target_and_missing_run_are_one_line(tmp_path: Path,
                                                     text_and_image: Path) -> None:
    bad = cli("export", text_and_image, "--to", "lm_eval")
    assert bad.returncode != 0 and "unknown export target 'lm_eval'" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    missing = cli("export", tmp_path / "nothing", "--to", "all")
    assert missing.returncode != 0 and "not a run directory" in missing.stderr


def test_hf_export_loads_every_item_with_its_media_bytes(text_image_audio: Path,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    folder = _exported(text_image_audio, tmp_path) / "hf"
    items = samples(text_image_audio)
    configs = datasets.get_dataset_config_names(str(folder))
    assert "all" in configs and len(configs) == len({s.subtask for s in items}) + 1
    raw = {"images": datasets.List(datasets.Image(decode=False)),
           "audio": datasets.List(datasets.Audio(decode=False))}  # no torchcodec needed
    seen: dict[str, dict[str, object]] = {}
    for config in configs:
        ds = datasets.load_dataset(str(folder), config, split="test")
        assert isinstance(ds.features["images"].feature, datasets.Image)
        assert isinstance(ds.features["audio"].feature, datasets.Audio)
        for column, feature in raw.items():
            ds = ds.cast_column(column, feature)
        rows = list(ds)
        if config != "all":
            assert len({r["subtask"] for r in rows}) == 1
            seen.update({r["id"]: r for r in rows})
        else:
            assert len(rows) == len(items)
    assert set(seen) == {s.id for s in items}
    for item in items:
        row = seen[item.id]
        for kind, column in ((Modality.image, "images"), (Modality.audio, "audio")):
            expected = [(text_image_audio / m.path).read_bytes() for m in item.media
                        if m.kind == kind]
            assert [m["bytes"] for m in row[column]] == expected  # type: ignore[index]
        assert row["answer"] == item.answer and row["options"] == item.options
        assert row["license"] == item.provenance.license
    assert any(row["audio"] for row in seen.values()) and any(row["images"] for row in
                                                              seen.values())
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: all" in card
    assert os.path.getsize(folder / "README.md") > 0


def test_without_pyarrow_the_other_exports_are_written_and_hf_is_one_line(
        text_and_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    written, problems = api.export(text_and_image, ["all"], out=tmp_path, keep_going=True)
    assert [w.target for w in written] == ["lm-eval", "inspect"]
    assert problems == ["hf: needs pyarrow (pip install 'benchagent[formats]')"]
    assert not (tmp_path / "hf").exists()
    refused = cli("export", text_and_image, "--to", "hf", "--out", tmp_path / "again")
    assert refused.returncode != 0 and "hf: needs pyarrow" in refused.stderr
