"""The exports run unmodified in the real harnesses against a real model: a text benchmark from
the starter pool, exported for lm-eval and Inspect AI, answered by Qwen2.5-0.5B behind
llama.cpp's OpenAI-compatible server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.export.test_harnesses import HARNESS_TIMEOUT, offline_env

from runcli import cli

pytest.importorskip("lm_eval", reason="needs the harness extra")
BIN = Path(sys.executable).parent


def _text_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    built = cli("build", "arithmetic word problems and unit conversions", "--size", "2",
                "--out", run, "--no-export")
    assert built.returncode == 0, built.stderr
    items = [json.loads(line) for line in (run / "benchmark" / "benchmark.jsonl").open()]
    assert items and all(not item["media"] for item in items)
    return run


def _export(run: Path, target: str, out: Path) -> Path:
    result = cli("export", run, "--to", target, "--out", out)
    assert result.returncode == 0, result.stderr
    return out / target


def test_lm_eval_and_inspect_run_the_export_against_llama_cpp(tmp_path: Path,
                                                              llama_server: str) -> None:
    run = _text_run(tmp_path)
    items = sum(1 for _ in (run / "benchmark" / "benchmark.jsonl").open())
    folder = _export(run, "lm-eval", tmp_path / "exports")
    group = next(p.stem for p in folder.glob("*.yaml") if "group:" in p.read_text())
    lm_eval = subprocess.run(
        [BIN / "lm-eval", "run", "--model", "local-chat-completions", "--model_args",
         f"base_url={llama_server}/chat/completions,model=qwen,tokenizer_backend=None,"
         "num_concurrent=1,max_retries=1", "--apply_chat_template", "--include_path", folder,
         "--tasks", group, "--output_path", tmp_path / "out", "--gen_kwargs", "max_gen_toks=32"],
        cwd=tmp_path, env=offline_env(tmp_path), capture_output=True, text=True,
        timeout=HARNESS_TIMEOUT)
    assert lm_eval.returncode == 0, lm_eval.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    scores = {**results["results"], **results.get("groups", {})}
    accuracy = [v for k, v in scores[group].items() if k.startswith("acc,")]
    assert accuracy and all(0.0 <= float(a) <= 1.0 for a in accuracy), scores[group]
    assert sum(int(n["effective"]) for n in results["n-samples"].values()) == items

    from inspect_ai.log import list_eval_logs, read_eval_log
    folder = _export(run, "inspect", tmp_path / "exports")
    env = offline_env(tmp_path, LLAMA_BASE_URL=llama_server, LLAMA_API_KEY="none")
    inspect = subprocess.run(
        [BIN / "inspect", "eval", "task.py", "--model", "openai-api/llama/qwen",
         "--max-connections", "1", "--max-tokens", "32", "--display", "plain"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=HARNESS_TIMEOUT)
    assert inspect.returncode == 0, inspect.stderr[-3000:]
    (log_path,) = list_eval_logs(str(tmp_path / "inspect-logs"))
    log = read_eval_log(log_path)
    assert log.status == "success", log.error
    assert log.results is not None and log.results.total_samples == items
