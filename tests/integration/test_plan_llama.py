"""`benchagent plan` with every planner role on the local 0.5B model (llama.cpp's server).

The model's output is often invalid; what is checked is that every model call is accounted for
by a typed decision (valid, repaired after a bounded repair loop, or a fallback to the rules),
that the calls stay within the bound the round limits set, and that a complete plan comes out.
Run with `-s` to see the figures of each plan (wall time, calls, decisions, what survived).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHARED_QUERIES

from benchagent.planner.design import DESIGN_ROUNDS

MAX_SUBTASKS = 2
PLANNER_ROUNDS = 2
REPAIR_ROUNDS = 2
SIZE = 12
PLAN_TIMEOUT = 1200.0  # s; a plan takes minutes on 2 busy cores
PLANNER_ROLES = ("design", "grounding", "allocation")
OUTCOMES = {"valid", "repaired", "fallback"}
GAVE_UP = re.compile(r"gave invalid \w+ output (\d+) times")

Event = dict[str, Any]


def call_bounds(subtasks: int, rounds: int, repairs: int) -> dict[str, int]:
    """The most model calls per role that plan_stage.py can make: each `generate` is one call
    plus at most `repairs` repairs. Design: the proposal and DESIGN_ROUNDS reviews; grounding's
    feedback rounds (run twice when the rules design replaces an ungroundable one) revise once
    per round; each of allocation's feedback rounds revises once and regrounds. Grounding: one
    call per pending subtask per round, in those same loops. Allocation: one call per round."""
    feedback = rounds - 1
    generates = {
        "design": 1 + DESIGN_ROUNDS + 2 * feedback + feedback * (1 + feedback),
        "grounding": 2 * rounds * subtasks + feedback * rounds * subtasks,
        "allocation": rounds,
    }
    return {role: n * (repairs + 1) for role, n in generates.items()}


def _config(path: Path, base_url: str) -> Path:
    path.write_text(f"[build]\nmax_subtasks = {MAX_SUBTASKS}\nplanner_rounds = {PLANNER_ROUNDS}\n"
                    '[models.qwen]\nprovider = "openai"\nmodel = "qwen"\n'
                    f'base_url = "{base_url}"\nmax_concurrency = 1\nrepair_rounds = '
                    f"{REPAIR_ROUNDS}\ntimeout = {PLAN_TIMEOUT:.0f}\nmax_retries = 0\n")
    return path


def _plan(query: str, pool: Path, config: Path, run: Path) -> tuple[float, str]:
    command = [sys.executable, "-m", "benchagent.cli.main", "plan", str(SHARED_QUERIES / query),
               "--size", str(SIZE), "--pool", str(pool), "--model", "qwen",
               "--config", str(config), "--out", str(run)]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=PLAN_TIMEOUT)
    wall = time.monotonic() - start
    assert result.returncode == 0, f"after {wall:.0f}s: {result.stderr[-1500:]}"
    return wall, result.stdout


def _events(run: Path, kind: str) -> list[Event]:
    rows = [json.loads(line) for line in (run / "trace.jsonl").open()]
    return [e for e in rows if e["event"] == kind and e["role"] in PLANNER_ROLES]


def _calls_behind(decision: Event) -> int:
    """Model calls a decision accounts for: a repaired one took `rounds` repairs, a fallback
    after invalid output took them all, a fallback for other reasons (the rules design after
    an ungroundable one) called nothing."""
    if decision["outcome"] != "fallback":
        return int(decision["rounds"]) + 1
    gave_up = GAVE_UP.search(decision.get("error", ""))
    return int(gave_up.group(1)) if gave_up else 0


def _read(run: Path, name: str) -> Any:
    return json.loads((run / "plan" / name).read_text())


def _check_plan(run: Path) -> list[str]:
    """The plan is complete: every subtask is in plan.md, grounded and allotted, and the quotas
    sum to the target. Returns the subtask names."""
    names = [s["name"] for s in _read(run, "subtasks.json")]
    plan_md = (run / "plan" / "plan.md").read_text()
    groundings, allocation = _read(run, "groundings.json"), _read(run, "allocation.json")
    assert names and len(names) <= MAX_SUBTASKS
    for name in names:
        assert f"## {name}\n" in plan_md, name
        assert any(g["subtask"] == name for g in groundings), f"{name} has no grounding"
    assert {q["subtask"] for q in allocation["quotas"]} <= set(names)
    assert sum(q["quota"] for q in allocation["quotas"]) == allocation["target_size"] == SIZE
    assert f"allocated: **{SIZE}**" in plan_md
    return names


def _check_fallbacks(run: Path, decisions: list[Event]) -> None:
    """Where the model's proposal was dropped, the rules' took its place."""
    log = _read(run, "design_log.json")
    proposals = [s["by"] for s in log if s["op"] == "propose"]
    if any(d["role"] == "design" and "DesignOutput" in d.get("error", "")
           for d in decisions if d["outcome"] == "fallback"):
        assert "rules" in proposals, "the design proposal failed but rules proposed nothing"
    else:
        assert "model" in proposals, "the model's design proposal is missing from the log"


def _figures(query: str, wall: float, calls: list[Event], decisions: list[Event],
             run: Path) -> dict[str, Any]:
    log = _read(run, "design_log.json")
    return {
        "query": query, "wall_s": round(wall, 1),
        "calls": dict(Counter(c["role"] for c in calls)),
        "cache_hits": sum(bool(c["cache_hit"]) for c in calls),
        "decisions": dict(Counter(f"{d['role']}:{d['outcome']}" for d in decisions)),
        "fallbacks": [f"{d['role']}: {d.get('error', '')[:160]}" for d in decisions
                      if d["outcome"] == "fallback"],
        "designed": [s["subtask"] for s in log if s["op"] == "propose" and s["by"] == "model"],
        "model_steps": [f"{s['op']} {s['subtask']}" for s in log
                        if s["by"] == "model" and s["op"] != "propose"],
        "survived": [s["name"] for s in _read(run, "subtasks.json")],
        "plans_by": dict(Counter(g["plan_by"] for g in _read(run, "groundings.json"))),
        "rejected_model_plans": [f"{r['subtask']} × {r['dataset']} [{r.get('plan', '')}]: "
                                 f"{r['reason'][:120]}"
                                 for r in _read(run, "rejected_plans.json") if r["by"] == "model"],
    }


@pytest.mark.parametrize("query", ["causal.json", "spoken_commonsense.json"])
def test_plan_with_the_local_server(query: str, tmp_path: Path, shared_pools: Path,
                                    llama_server: str) -> None:
    run = tmp_path / "run"
    config = _config(tmp_path / "benchagent.toml", llama_server)
    # BIG-bench alone serves the causal request below the relevance floor (causal_judgment 0.45)
    pool = shared_pools / ("general-bench" if query == "causal.json" else "bigbench")
    wall, stdout = _plan(query, pool, config, run)
    calls, decisions = _events(run, "model_call"), _events(run, "decision")
    print("\n" + json.dumps(_figures(query, wall, calls, decisions, run), indent=1))

    assert "plan written" in stdout
    _check_plan(run)
    assert {d["outcome"] for d in decisions} <= OUTCOMES
    bounds = call_bounds(MAX_SUBTASKS, PLANNER_ROUNDS, REPAIR_ROUNDS)
    for role in PLANNER_ROLES:
        made = sum(1 for c in calls if c["role"] == role)
        assert 1 <= made <= bounds[role], (role, made, bounds[role])
        ours = [d for d in decisions if d["role"] == role]
        assert made == sum(_calls_behind(d) for d in ours), f"{role}: a call has no decision"
        assert all(0 < d["rounds"] <= REPAIR_ROUNDS for d in ours if d["outcome"] == "repaired")
        assert all(_calls_behind(d) in (0, REPAIR_ROUNDS + 1)
                   for d in ours if d["outcome"] == "fallback")
    _check_fallbacks(run, decisions)
    manifest = json.loads((run / "manifest.json").read_text())
    assert {r: manifest["usage"][r]["calls"] for r in PLANNER_ROLES} == dict(
        Counter(c["role"] for c in calls))
