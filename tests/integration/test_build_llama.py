"""A real build through llama.cpp's OpenAI-compatible server with the 0.5B model."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SHARED_QUERIES

from runcli import benchmark, cli, model_calls


def test_build_with_the_local_server(tmp_path: Path, shared_pools: Path,
                                     llama_server: str) -> None:
    config = tmp_path / "benchagent.toml"
    config.write_text("[build]\nmax_subtasks = 1\nconcurrency = 2\n"
                      '[models.qwen]\nprovider = "openai"\nmodel = "qwen"\n'
                      f'base_url = "{llama_server}"\nmax_concurrency = 2\n')
    run = tmp_path / "run"
    result = cli("build", SHARED_QUERIES / "temporal.json", "--size", "2", "--pool",
                 shared_pools / "general-bench", "--model", "qwen", "--config", config,
                 "--out", run)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    usage = manifest["usage"]
    for role in ("design", "grounding", "allocation", "executor", "verifier"):
        assert usage[role]["calls"] >= 1, role
    samples = benchmark(run)
    assert len(samples) + sum(s["missing"] for s in manifest["shortfall"]) == 2
    assert samples, "the model should accept at least one item"
    accepted = [json.loads(line) for line in (run / "samples" / "accepted.jsonl").open()]
    assert all(any(c["check"] == "semantic" and c["passed"] for c in row["checks"])
               for row in accepted)
    decisions = [json.loads(line) for line in (run / "trace.jsonl").open()
                 if '"decision"' in line]
    assert {d["outcome"] for d in decisions} <= {"valid", "repaired", "fallback"}
    assert {d["role"] for d in decisions} >= {"design", "verifier"}

    calls = model_calls(run)
    assert cli("resume", run).returncode == 0
    assert model_calls(run) == calls
