"""End-to-end: the `benchagent` command as a user runs it, on the mock model: in this process,
and in a real one for a build, a resume, an error and SIGKILL."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.conftest import SHARED_QUERIES

from benchagent.cli import show
from benchagent.executor.run import SYSTEMATIC_AFTER
from runcli import CliResult, benchmark, cli, cli_popen, cli_subprocess, model_calls


def _check_samples(samples: list[dict[str, object]]) -> None:
    for s in samples:
        assert s["question"] and s["answer"] and s["answer_type"]
        prov = s["provenance"]
        assert isinstance(prov, dict) and prov["source_dataset"] and prov["source_id"]
    assert len({s["id"] for s in samples}) == len(samples)


@pytest.mark.parametrize("model", [["--model", "mock"], []], ids=["mock", "rules"])
def test_build_temporal_query(tmp_path: Path, shared_pools: Path, model: list[str]) -> None:
    run = tmp_path / "run"
    result = cli("build", SHARED_QUERIES / "temporal.json", "--size", "12", "--pool",
                 shared_pools / "general-bench", *model, "--out", run)
    assert result.returncode == 0, result.stderr
    samples = benchmark(run)
    assert len(samples) == 12
    _check_samples(samples)
    manifest = json.loads((run / "manifest.json").read_text())
    assert all(st["status"] == "done" for st in manifest["stages"].values())
    assert (model_calls(run) > 0) == bool(model)

    calls_before = model_calls(run)
    resumed = cli("resume", run)
    assert resumed.returncode == 0, resumed.stderr
    assert model_calls(run) == calls_before
    assert benchmark(run) == samples

    shown = cli("show", run)
    assert shown.returncode == 0 and "execution" in shown.stdout and "done" in shown.stdout


def test_starter_pool_is_the_default(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = cli_subprocess("build", "date arithmetic and unit conversion word problems",
                            "--size", "8", "--out", run)
    assert result.returncode == 0, result.stderr
    assert len(benchmark(run)) == 8


def test_plan_then_resume_builds(tmp_path: Path, shared_pools: Path) -> None:
    run = tmp_path / "run"
    planned = cli("plan", SHARED_QUERIES / "causal.json", "--size", "10", "--pool",
                  _causal_pool(tmp_path, shared_pools), "--out", run)
    assert planned.returncode == 0, planned.stderr
    plan_md = (run / "plan" / "plan.md").read_text()
    assert "quota" in plan_md and not (run / "benchmark").exists()
    resumed = cli_subprocess("resume", run)
    assert resumed.returncode == 0, resumed.stderr
    assert len(benchmark(run)) == 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_clear_line(result: CliResult | subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0], lines[0]


def test_bad_input_gives_one_clear_line(tmp_path: Path, shared_pools: Path) -> None:
    query = SHARED_QUERIES / "temporal.json"
    _one_clear_line(cli("build", query, "--pool", tmp_path / "nope", "--out", tmp_path / "a"),
                    "does not exist")
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x", "description": ')
    _one_clear_line(cli("build", broken, "--out", tmp_path / "b"), "cannot read query file")
    _one_clear_line(cli_subprocess("build", broken, "--out", tmp_path / "b2"),
                    "cannot read query file")
    missing_field = tmp_path / "nofield.json"
    missing_field.write_text('{"id": "x"}')
    _one_clear_line(cli("build", missing_field, "--out", tmp_path / "c"), "description")
    bad_pool = tmp_path / "badpool" / "datasets" / "nlp" / "Bad"
    bad_pool.mkdir(parents=True)
    (bad_pool / "annotation.json").write_text("{not json")
    result = cli("build", query, "--pool", tmp_path / "badpool", "--out", tmp_path / "d")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no usable dataset" in result.stderr
    url = f"http://127.0.0.1:{_free_port()}/v1"
    cfg = tmp_path / "benchagent.toml"
    cfg.write_text(f'[models.m]\nprovider = "openai"\nmodel = "x"\nbase_url = "{url}"\n'
                   "max_retries = 1\n")
    result = cli("build", query, "--pool", shared_pools / "general-bench", "--model", "m",
                 "--config", cfg, "--out", tmp_path / "e")
    _one_clear_line(result, "cannot reach")
    assert (tmp_path / "e" / "manifest.json").exists()  # the run directory stays, resumable


def _slow_mock(tmp_path: Path) -> Path:
    script = tmp_path / "slow.json"
    script.write_text(json.dumps({"latency_s": 0.05, "rules": []}))
    return script


def test_sigkill_mid_execution_resumes_to_the_same_benchmark(tmp_path: Path,
                                                            shared_pools: Path) -> None:
    args = [SHARED_QUERIES / "temporal.json", "--size", "24", "--pool",
            shared_pools / "general-bench", "--model", f"mock:{_slow_mock(tmp_path)}",
            "--seed", "7", "-j", "4"]
    clean = tmp_path / "clean"
    assert cli("build", *args, "--out", clean).returncode == 0
    killed = tmp_path / "killed"
    proc = cli_popen("build", *args, "--out", killed)
    accepted = killed / "samples" / "accepted.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if accepted.exists() and len(accepted.read_text().splitlines()) >= 5:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(accepted.read_text().splitlines())
    assert 0 < kept < 24
    resumed = cli("resume", killed)
    assert resumed.returncode == 0, resumed.stderr
    assert benchmark(killed) == benchmark(clean)
    keys = [json.loads(line)["key"] for line in accepted.read_text().splitlines()]
    assert len(keys) == len(set(keys))


def test_a_usage_error_names_the_mistake() -> None:
    wrong = cli("show", "--bogus")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "No such option: --bogus" in wrong.stderr and "unexpected" not in wrong.stderr
    bare = cli()
    assert bare.returncode == 2 and "Usage: benchagent" in bare.stdout and not bare.stderr.strip()


def test_ctrl_c_says_how_to_continue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(root: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(show.RunStore, "open", interrupted)
    result = cli("show", tmp_path)
    assert result.returncode == 130
    assert result.stderr.strip() == ("interrupted: `benchagent resume RUN_DIR` continues where it"
                                     " stopped")


def test_editing_subtasks_reruns_only_downstream(tmp_path: Path, shared_pools: Path) -> None:
    run = tmp_path / "run"
    assert cli("plan", SHARED_QUERIES / "temporal.json", "--size", "10", "--pool",
               shared_pools / "general-bench", "--out", run).returncode == 0
    manifest = json.loads((run / "manifest.json").read_text())
    design_finished = manifest["stages"]["design"]["finished"]
    subtasks = json.loads((run / "plan" / "subtasks.json").read_text())
    (run / "plan" / "subtasks.json").write_text(json.dumps(subtasks[:1]))
    time.sleep(1.1)  # stage timestamps have one-second resolution
    assert cli("resume", run).returncode == 0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["design"]["finished"] == design_finished
    assert {s["subtask"] for s in benchmark(run)} == {subtasks[0]["name"]}


def test_every_command_has_help_and_models_lists_roles() -> None:
    for command in ("build", "plan", "resume", "show", "models", "tools"):
        result = cli(command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, command
    listed = cli("models", "--model", "mock", "--role", "judge=rules", "--check")
    assert listed.returncode == 0, listed.stderr
    assert "verifier" in listed.stdout and "ok" in listed.stdout
    judge_line = next(line for line in listed.stdout.splitlines() if "judge" in line)
    assert "rules" in judge_line
    tools = json.loads(cli("tools", "--json").stdout)
    shuffle = next(t for t in tools if t["name"] == "shuffle_options")
    assert shuffle["requires"] == ["answer", "options"] and not shuffle["calls_model"]


def test_shortfall_is_reported_and_the_build_fails_when_every_item_is_rejected(tmp_path: Path,
                                                          shared_pools: Path) -> None:
    script = tmp_path / "harsh.json"
    script.write_text(json.dumps([{"match": "Gold answer", "response": {
        "reason": "never good enough", "answerable": True, "answer_correct": False}}]))
    run = tmp_path / "run"
    result = cli("build", SHARED_QUERIES / "causal.json", "--size", "3", "--pool",
                 _causal_pool(tmp_path, shared_pools), "--model", "mock", "--role",
                 f"verifier=mock:{script}", "--out", run)
    assert result.returncode == 3  # an empty benchmark is a failed build
    assert "shortfall" in result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "the benchmark is empty" in result.stderr and "never good enough" in result.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert sum(s["missing"] for s in manifest["shortfall"]) == 3
    assert all("never good enough" in s["cause"] for s in manifest["shortfall"])
    rejected = (run / "samples" / "rejected.jsonl").read_text().splitlines()
    # one check failing every candidate stops the pair before its budget of 3 * 5
    assert len(rejected) == SYSTEMATIC_AFTER
    assert all("stopped early" in s["cause"] for s in manifest["shortfall"])
    assert "shortfall" in cli("show", run).stdout


def test_a_designed_plan_that_cannot_be_grounded_falls_back_to_rules(
        tmp_path: Path, shared_pools: Path) -> None:
    script = tmp_path / "deaf.json"
    script.write_text(json.dumps([{"match": "Propose between", "response": {"subtasks": [
        {"name": "Watching", "description": "Questions on video clips.",
         "modalities": ["video"], "answer_type": "multiple_choice"}]}}]))
    run = tmp_path / "run"
    result = cli("build", SHARED_QUERIES / "causal.json", "--size", "6", "--pool",
                 _causal_pool(tmp_path, shared_pools), "--model", f"mock:{script}", "--out", run)
    assert result.returncode == 0, result.stderr
    assert len(benchmark(run)) == 6
    subtasks = json.loads((run / "plan" / "subtasks.json").read_text())
    assert "Watching" not in {s["name"] for s in subtasks}
    events = [json.loads(line) for line in (run / "trace.jsonl").open()]
    assert any(e["event"] == "decision" and e["role"] == "design" and e["outcome"] == "fallback"
               for e in events)
    calls = model_calls(run)
    assert cli("resume", run).returncode == 0
    assert model_calls(run) == calls  # the replaced subtasks are not redone on resume


def _causal_pool(tmp_path: Path, shared_pools: Path) -> Path:
    """A pool of General-Bench's Causal-Reasoning alone: items that ask a question, so what
    rejects them is the verifier under test, not the rule that an item must ask something
    (Ethical-Reasoning's bare statements, which causal.json also finds, fail that rule)."""
    pool = tmp_path / "causal-pool"
    shutil.copytree(shared_pools / "general-bench" / "datasets" / "nlp" / "Causal-Reasoning",
                    pool / "Causal-Reasoning")
    return pool
