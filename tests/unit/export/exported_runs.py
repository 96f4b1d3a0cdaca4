"""Benchmarks to export, built from the starter pool with no model: a text, an image and an
audio run, and runs that hold the items of several of them (a user's edits of one benchmark)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchagent.records import BenchmarkSample
from runcli import cli

QUERIES = {
    "text": "arithmetic word problems and unit conversions",
    "image": "read the time shown on analogue clock images",
    "audio": "answer arithmetic questions spoken aloud in audio clips",
}


def build_run(root: Path, kind: str, size: int, env: dict[str, str], export: bool) -> Path:
    """One starter-pool benchmark; the text one without the spoken subtask the planner adds (its
    plan edited, as a user would)."""
    run, no_export = root / kind, [] if export else ["--no-export"]
    if kind == "text":
        assert cli("plan", QUERIES[kind], "--size", str(size), "--out", run,
                   env=env).returncode == 0
        path = run / "plan" / "subtasks.json"
        subtasks = json.loads(path.read_text())
        path.write_text(json.dumps([s for s in subtasks if s["modalities"] == ["text"]]))
        result = cli("resume", run, *no_export, env=env)
    else:
        result = cli("build", QUERIES[kind], "--size", str(size), "--out", run, *no_export,
                     env=env)
    assert result.returncode == 0, result.stderr
    return run


def merged_run(target: Path, runs: list[Path]) -> Path:
    """A run holding the items of `runs` (their media copied in), under the first's manifest."""
    shutil.copytree(runs[0], target, ignore=shutil.ignore_patterns("exports"))
    lines = []
    for run in runs:
        lines += (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
        if (run / "media").is_dir():
            (target / "media").mkdir(exist_ok=True)
            for media in (run / "media").iterdir():
                shutil.copyfile(media, target / "media" / media.name)
    (target / "benchmark" / "benchmark.jsonl").write_text("\n".join(lines) + "\n")
    return target


def samples(run: Path) -> list[BenchmarkSample]:
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    return [BenchmarkSample.model_validate_json(line) for line in lines]
