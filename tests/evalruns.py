"""A text, an image and an audio benchmark built once from the starter pool for the tests of
the commands that work on a built run (`eval`, `judge`); `fresh` copies one for a test."""

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


def build_runs(root: Path, env: dict[str, str]) -> dict[str, Path]:
    """The three runs (the text one without the spoken subtask the planner adds: its plan is
    edited, as a user would)."""
    built = {}
    for kind, query in QUERIES.items():
        run = root / kind
        if kind == "text":
            assert cli("plan", query, "--size", "8", "--out", run, env=env).returncode == 0
            path = run / "plan" / "subtasks.json"
            subtasks = json.loads(path.read_text())
            path.write_text(json.dumps([s for s in subtasks if s["modalities"] == ["text"]]))
            result = cli("resume", run, env=env)
        else:
            result = cli("build", query, "--size", "6", "--out", run, env=env)
        assert result.returncode == 0, result.stderr
        built[kind] = run
    return built


def fresh(runs: dict[str, Path], kind: str, tmp_path: Path) -> Path:
    """A copy of a built run, so that every test starts with no eval or judge in it."""
    run = tmp_path / kind
    shutil.copytree(runs[kind], run)
    return run


def samples(run: Path) -> list[BenchmarkSample]:
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    return [BenchmarkSample.model_validate_json(line) for line in lines]
