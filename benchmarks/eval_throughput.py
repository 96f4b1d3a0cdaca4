"""Eval throughput on the mock model with a fixed per-call latency.

    python benchmarks/eval_throughput.py --items 320 --latency 0.5 --concurrency 16

Writes a run holding a synthetic text benchmark (multiple choice, four subtasks), evaluates
the mock on it through `api.evaluate` (answers kept as they come, scoring, bootstrap, item
analysis: the whole command but argument parsing), and prints the efficiency
(model calls × latency / concurrency) / wall time, whose target is ≥ 0.9.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchagent import api
from benchagent.config import Settings
from benchagent.records import AnswerType, BenchmarkSample, Provenance, Query
from benchagent.stages import STAGES
from benchagent.stages.paths import BENCHMARK
from benchagent.store import RunStore, atomic_write_text


def synthetic_run(root: Path, items: int) -> Path:
    store = RunStore.create(root, Query(id="eval-bench", description="synthetic"),
                            Settings(), tuple(s.name for s in STAGES))
    store.close()
    samples = [BenchmarkSample(
        id=f"item-{i:05d}", subtask=f"subtask {i % 4}", question=f"What is {i} + {i % 7}?",
        instruction="Answer the question by choosing exactly one of the options.",
        options=[str(i + i % 7 + d) for d in (-1, 0, 1, 2)], answer=str(i + i % 7),
        answer_type=AnswerType.multiple_choice,
        provenance=Provenance(source_dataset="synthetic", source_dataset_name="synthetic",
                              source_id=str(i))) for i in range(items)]
    atomic_write_text(root / BENCHMARK, "".join(s.model_dump_json() + "\n" for s in samples))
    return root


def run_once(workdir: Path, items: int, latency: float, concurrency: int) -> dict[str, float]:
    script = workdir / f"mock-{latency}.json"
    script.write_text(json.dumps({"latency_s": latency, "rules": []}))
    run = synthetic_run(workdir / f"run-{latency}", items)
    start = time.perf_counter()
    result = api.evaluate(run, [f"mock:{script}"], judge="rules", concurrency=concurrency)
    wall = time.perf_counter() - start
    calls = sum(1 for line in (run / "trace.jsonl").open()
                if '"model_call"' in line and '"cache_hit": false' in line)
    accuracy = result.summary["models"][0]["accuracy"]
    return {"calls": calls, "wall_s": wall, "accuracy": accuracy,
            "efficiency": (calls * latency / concurrency) / wall if wall else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=320)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timed = run_once(Path(tmp), args.items, args.latency, args.concurrency)
    ideal = timed["calls"] * args.latency / args.concurrency
    print(f"items {args.items}, latency {args.latency}s, concurrency {args.concurrency}")
    print(f"  {timed['calls']:.0f} model calls in {timed['wall_s']:.2f}s (ideal {ideal:.2f}s); "
          f"mock accuracy {timed['accuracy']}")
    print(f"  efficiency {timed['efficiency']:.2f} (target ≥ 0.9)")


if __name__ == "__main__":
    main()
