"""A build against a real HTTP server on 127.0.0.1 that misbehaves: retries, repair, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import SHARED_QUERIES

from benchagent.models.mock import instance_of
from faultserver import FaultServer, request_schema
from runcli import benchmark, cli


def _config(tmp_path: Path, server: FaultServer, max_retries: int) -> Path:
    config = tmp_path / "benchagent.toml"
    config.write_text(f'[models.flaky]\nprovider = "openai"\nmodel = "m"\n'
                      f'base_url = "{server.base_url}"\nmax_retries = {max_retries}\n'
                      "timeout = 2\n")
    return config


def _garbage_first(count: int) -> Any:
    """Answers every schema with a valid instance (the mock's), after `count` unparsable ones."""
    calls = {"n": 0}

    def respond(body: dict[str, Any]) -> str:
        calls["n"] += 1
        schema = request_schema(body)
        if calls["n"] <= count or schema is None:
            return "I think the answer is {not json"
        return json.dumps(instance_of(schema))

    return respond


def _causal_pool(tmp_path: Path, shared_pools: Path) -> Path:
    """General-Bench's Causal-Reasoning alone: every item asks a question, so every candidate
    reaches the model (Ethical-Reasoning's bare statements are rejected by rule first)."""
    pool = tmp_path / "causal-pool"
    if not pool.exists():
        shutil.copytree(shared_pools / "general-bench" / "datasets" / "nlp" / "Causal-Reasoning",
                        pool / "Causal-Reasoning")
    return pool


def _build(tmp_path: Path, shared_pools: Path, config: Path, run: Path) -> Any:
    return cli("build", SHARED_QUERIES / "causal.json", "--size", "4", "--pool",
               _causal_pool(tmp_path, shared_pools), "--model", "flaky", "--config", config,
               "--out", run)


def test_build_succeeds_through_retries_and_repair(tmp_path: Path, shared_pools: Path) -> None:
    # the truncated and slow answers consume two responses; the third is garbage to repair
    with FaultServer(responder=_garbage_first(3)) as server:
        server.script(["429:1", "500", "truncated", "invalid_json", "slow:3"])
        run = tmp_path / "run"
        result = _build(tmp_path, shared_pools, _config(tmp_path, server, 6), run)
    assert result.returncode == 0, result.stderr
    assert len(benchmark(run)) == 4
    events = [json.loads(line) for line in (run / "trace.jsonl").open()]
    retries = [e for e in events if e["event"] == "retry"]
    assert len(retries) >= 5
    assert any("429" in e["error"] for e in retries)
    assert any(e["event"] == "decision" and e["outcome"] == "repaired" for e in events)


def test_build_stops_clearly_then_resumes(tmp_path: Path, shared_pools: Path) -> None:
    run = tmp_path / "run"
    with FaultServer(responder=_garbage_first(0)) as server:
        server.script(["500"] * 3)
        config = _config(tmp_path, server, 1)
        failed = _build(tmp_path, shared_pools, config, run)
        assert failed.returncode == 1
        assert "Traceback" not in failed.stderr
        assert "gave up after 2 attempts" in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["stages"]["design"]["status"] == "failed"
        resumed = cli("resume", run)  # the server answers again now
    assert resumed.returncode == 0, resumed.stderr
    assert len(benchmark(run)) == 4


def test_a_failure_mid_execution_keeps_accepted_samples(tmp_path: Path,
                                                       shared_pools: Path) -> None:
    run = tmp_path / "run"
    with FaultServer(responder=_garbage_first(0)) as server:
        server.script(["ok", "ok", "ok", "500"])
        config = _config(tmp_path, server, 0)
        failed = cli("build", SHARED_QUERIES / "causal.json", "--size", "6", "--pool",
                     _causal_pool(tmp_path, shared_pools), "--role", "verifier=flaky", "-j", "1",
                     "--config", config, "--out", run)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        accepted = run / "samples" / "accepted.jsonl"
        before = accepted.read_text().splitlines()
        assert len(before) == 3
        resumed = cli("resume", run)
        assert resumed.returncode == 0, resumed.stderr
        assert len(server.requests) == 4 + 3
    events = [json.loads(line) for line in (run / "trace.jsonl").open()]
    assert not any(e.get("cache_hit") for e in events)  # verified samples were not redone
    after = accepted.read_text().splitlines()
    assert after[:3] == before
    assert len({json.loads(line)["key"] for line in after}) == len(after)
    assert len(benchmark(run)) == 6
