"""What a build will cost and caps on what it may spend: `build --dry-run` / `plan` print the
expected calls, tokens and cost per role; --max-calls and --max-cost stop a build or an eval
cleanly, and resuming with a higher cap finishes the same benchmark."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.unit.stages.test_same_benchmarks import GOLDEN, STARTER_QUERY

from benchagent import estimate_vs_spent
from runcli import benchmark, cli

FIXED_PROMPT, FIXED_COMPLETION = 50, 5


def _fixed_mock(tmp_path: Path, prompt: int = FIXED_PROMPT,
                completion: int = FIXED_COMPLETION) -> Path:
    script = tmp_path / "fixed.json"
    script.write_text(json.dumps({"prompt_tokens": prompt, "completion_tokens": completion,
                                  "rules": []}))
    return script


def _usage(run: Path) -> dict[str, dict[str, float]]:
    usage: dict[str, dict[str, float]] = json.loads((run / "manifest.json").read_text())["usage"]
    return usage


def _new_calls(run: Path) -> int:
    return int(sum(u["calls"] - u["cache_hits"] for u in _usage(run).values()))


def test_the_dry_run_estimate_is_within_a_fifth_of_the_calls_the_build_makes(
        tmp_path: Path) -> None:
    run = tmp_path / "run"
    model = f"mock:{_fixed_mock(tmp_path)}"
    dry = cli("build", STARTER_QUERY, "-n", "20", "--model", model, "--dry-run", "--json",
              "-o", run)
    assert dry.returncode == 0, dry.stderr
    printed = json.loads(dry.stdout)
    assert printed == json.loads((run / "plan" / "estimate.json").read_text())
    assert not (run / "benchmark" / "benchmark.jsonl").exists()
    roles = {r["role"]: r for r in printed["roles"]}
    assert roles["design"]["basis"] == "measured" and roles["verifier"]["basis"] == "estimated"
    assert {"executor", "verifier"}.isdisjoint(_usage(run))  # nothing was executed
    # every measured call completed FIXED_COMPLETION tokens: so does every expected one
    assert roles["verifier"]["completion_tokens"] == roles["verifier"]["calls"] * FIXED_COMPLETION
    assert roles["verifier"]["cost_usd"] is None and printed["total"]["cost_usd"] is None

    built = cli("resume", run)
    assert built.returncode == 0, built.stderr
    compared = estimate_vs_spent(run)
    total = compared["total"]
    assert total["estimated_calls"] == printed["total"]["calls"]
    assert total["spent_calls"] == sum(u["calls"] for u in _usage(run).values())
    assert 0.8 <= total["calls_ratio"] <= 1.2, compared["roles"]
    spent = compared["spent"]
    assert spent["verifier"]["prompt_tokens"] == spent["verifier"]["calls"] * FIXED_PROMPT


def test_a_call_cap_stops_the_build_and_resume_finishes_the_same_benchmark(
        tmp_path: Path) -> None:
    run = tmp_path / "run"
    capped = cli("build", STARTER_QUERY, "-n", "20", "--model", "mock", "--max-calls", "15",
                 "-o", run)
    assert capped.returncode == 4, capped.stderr
    assert capped.stderr.strip() == ("stopped at the call cap (15 calls): resume with a "
                                     "higher --max-calls to finish")
    assert _new_calls(run) == 15
    assert not (run / "benchmark" / "benchmark.jsonl").exists()
    assert "cap" not in (run / "samples" / "rejected.jsonl").read_text()  # nothing rejected by it

    again = cli("resume", run, "--max-calls", "15")  # the same cap: no call left to make
    assert again.returncode == 4 and _new_calls(run) == 15

    finished = cli("resume", run, "--max-calls", "400")
    assert finished.returncode == 0, finished.stderr
    assert (run / "benchmark" / "benchmark.jsonl").read_bytes() == \
        (GOLDEN / "starter-mock" / "benchmark.jsonl").read_bytes()


def _priced_config(tmp_path: Path) -> Path:
    # 1000 prompt tokens at $250 per million: every call costs exactly $0.25
    script = _fixed_mock(tmp_path, prompt=1000, completion=0)
    config = tmp_path / "benchagent.toml"
    config.write_text(f'[models.priced]\nprovider = "mock"\nmodel = "{script}"\n'
                      "price_in_per_mtok = 250.0\nprice_out_per_mtok = 1.0\n")
    return config


def test_a_cost_cap_stops_at_the_configured_price(tmp_path: Path) -> None:
    config, run = _priced_config(tmp_path), tmp_path / "run"
    # one sample at a time: no call in flight when the cap is reached, so it stops exactly there
    planned = cli("build", STARTER_QUERY, "-n", "8", "--config", config, "--model", "priced",
                  "-j", "1", "--dry-run", "-o", run)
    assert planned.returncode == 0, planned.stderr
    assert "cost estimate" in planned.stdout and "unknown" not in planned.stdout
    estimate = json.loads((run / "plan" / "estimate.json").read_text())
    planner_calls = sum(r["calls"] for r in estimate["roles"] if r["basis"] == "measured")
    design = next(r for r in estimate["roles"] if r["role"] == "design")
    assert design["cost_usd"] == 0.25 * design["calls"]
    assert estimate["total"]["cost_usd"] > 0.25 * planner_calls

    cap = 0.25 * (planner_calls + 3)
    capped = cli("resume", run, "--max-cost", str(cap))
    assert capped.returncode == 4, capped.stderr
    assert capped.stderr.startswith(f"stopped at the cost cap (${cap:g}")
    assert _new_calls(run) == planner_calls + 3
    finished = cli("resume", run, "--max-cost", "100")
    assert finished.returncode == 0, finished.stderr
    assert len(benchmark(run)) == 8


def test_a_cost_cap_without_a_price_is_refused_before_the_run_starts(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = cli("build", STARTER_QUERY, "-n", "8", "--model", "mock", "--max-cost", "1",
                 "-o", run)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: --max-cost needs the price of every model: set "
                                     "price_in_per_mtok and price_out_per_mtok for mock in the "
                                     "config's [models]")
    assert not run.exists()


def test_an_eval_cap_keeps_the_answers_and_the_next_eval_finishes_them(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli("build", STARTER_QUERY, "-n", "12", "-o", run).returncode == 0
    uncapped = tmp_path / "uncapped"
    shutil.copytree(run, uncapped)

    capped = cli("eval", run, "--model", "mock", "--max-calls", "5")
    assert capped.returncode == 4, capped.stderr
    assert capped.stderr.strip().startswith("stopped at the call cap (5 calls): the answers so "
                                            "far are kept")
    assert len((run / "eval" / "answers.jsonl").read_text().splitlines()) == 5
    assert cli("eval", run, "--model", "mock", "--max-calls", "100").returncode == 0
    assert cli("eval", uncapped, "--model", "mock").returncode == 0
    assert (run / "eval" / "results.jsonl").read_text() == \
        (uncapped / "eval" / "results.jsonl").read_text()


def test_estimate_vs_spent_of_a_run_without_an_estimate(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"usage": {"verifier": {"calls": 3, "cache_hits": 1}, "eval": {"calls": 9}}}))
    compared = estimate_vs_spent(tmp_path)
    assert compared["estimate"] is None and set(compared["spent"]) == {"verifier"}
    assert compared["total"]["spent_calls"] == 3 and compared["total"]["calls_ratio"] is None
