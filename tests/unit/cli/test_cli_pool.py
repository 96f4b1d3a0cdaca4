"""`benchagent pool ...` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from runcli import cli


def test_index_then_ls_search_show(tmp_path: Path, shared_pools: Path) -> None:
    env = {"BENCHAGENT_CACHE": str(tmp_path / "cache")}
    indexed = cli("pool", "index", shared_pools / "general-bench", shared_pools / "bigbench",
                  env=env)
    assert indexed.returncode == 0, indexed.stderr
    assert "indexed 40 datasets" in indexed.stdout
    registry = json.loads((tmp_path / "cache" / "pools.json").read_text())
    assert len(registry) == 2

    listed = cli("pool", "ls", env=env)
    assert listed.returncode == 0 and "snarks" in listed.stdout
    found = cli("pool", "search", "sarcasm", "-k", "3", env=env)
    assert found.returncode == 0
    first_row = next(line for line in found.stdout.splitlines() if "│ 1 " in line)
    assert "snarks" in first_row
    images = cli("pool", "search", "medical", "--modality", "image", env=env)
    assert "Lung" in images.stdout and "snarks" not in images.stdout
    shown = cli("pool", "show", "snarks", "--examples", "1", env=env)
    assert shown.returncode == 0 and '"answer_type"' in shown.stdout


def test_index_reports_what_it_skipped(tmp_path: Path) -> None:
    pool = tmp_path / "pool" / "datasets" / "nlp"
    (pool / "Bad").mkdir(parents=True)
    (pool / "Bad" / "annotation.json").write_text("{oops")
    (pool / "Good").mkdir(parents=True)
    (pool / "Good" / "annotation.json").write_text(json.dumps({
        "task": "Good", "modality": {"in": ["text"], "out": ["text"]},
        "data": [{"id": f"g{i}", "input": {"question": f"What is {i}+1?"},
                  "output": {"answer": str(i + 1)}} for i in range(5)]}))
    result = cli("pool", "index", tmp_path / "pool",
                 env={"BENCHAGENT_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert "indexed 1 datasets" in result.stdout
    assert "skipped 1" in result.stdout and "annotation.json" in result.stdout


def test_without_a_registered_pool_the_error_says_what_to_do(tmp_path: Path) -> None:
    result = cli("pool", "ls", env={"BENCHAGENT_CACHE": str(tmp_path / "empty")})
    assert result.returncode == 1
    assert "pool index" in result.stderr and "Traceback" not in result.stderr
