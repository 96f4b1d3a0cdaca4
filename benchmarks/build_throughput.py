"""Build throughput on the mock model with a fixed per-call latency.

    python benchmarks/build_throughput.py --size 500 --latency 0.5 --concurrency 16 \
        --pool ../shared/pools/bigbench

(without --pool it uses the bundled starter pool, whose text datasets hold 480 samples).

Prints samples per second, model calls per accepted sample, the efficiency
(model calls × latency / concurrency) / wall time of the execution stage, and the
orchestration overhead per sample of a run with zero latency.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchagent.config import ROLES, Settings
from benchagent.models import ModelConfig, RoleModels
from benchagent.pool import Pool, default_starter_pool
from benchagent.records import Query
from benchagent.stages import STAGES, BuildContext, run_stages
from benchagent.store import RunStore
from benchagent.trace import Trace

QUERY = "Arithmetic word problems, date arithmetic, unit conversion and ordering questions."


def run_once(workdir: Path, size: int, latency: float, concurrency: int,
             pools: list[Path]) -> dict[str, float]:
    script = workdir / f"mock-{latency}.json"
    script.write_text(json.dumps({"latency_s": latency, "rules": []}))
    cfg = ModelConfig(provider="mock", model=str(script), max_concurrency=concurrency)
    settings = Settings(concurrency=concurrency, max_subtasks=4)
    query = Query(id="bench", description=QUERY, target_size=size)
    store = RunStore.create(workdir / f"run-{latency}", query, settings,
                            tuple(s.name for s in STAGES))
    trace = Trace(path=store.path("trace.jsonl"))
    # the planner runs its rules policy; the executor and verifier make the per-sample calls
    configs: dict[str, ModelConfig | None] = {role: None for role in ROLES}
    configs.update(executor=cfg, verifier=cfg)
    models = RoleModels(configs, trace, None)
    pool = Pool.load(pools or [default_starter_pool()])
    ctx = BuildContext(store, settings, query, pool, models)
    start = time.perf_counter()
    run_stages(ctx, STAGES)
    wall = time.perf_counter() - start
    execution_calls = trace.usage("verifier").calls + trace.usage("executor").calls
    accepted = store.manifest.counts.benchmark if store.manifest.counts else 0
    for short in store.manifest.shortfall:
        print(f"  shortfall {short.subtask}: {short.accepted}/{short.quota}: {short.cause}")
    exec_wall = _stage_seconds(store)
    return {
        "accepted": accepted, "wall_s": wall, "execution_s": exec_wall,
        "samples_per_s": accepted / exec_wall if exec_wall else float("inf"),
        "calls_per_sample": execution_calls / max(accepted, 1),
        "efficiency": (execution_calls * latency / concurrency) / exec_wall if exec_wall else 0,
        "overhead_ms_per_sample": 1000 * exec_wall / max(accepted, 1),
    }


def _stage_seconds(store: RunStore) -> float:
    events = [json.loads(line) for line in store.path("trace.jsonl").open()]
    times = [e["ts"] for e in events if e.get("role") in ("executor", "verifier")]
    return (max(times) - min(times)) if len(times) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=400)  # the starter pool holds 480
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pool", type=Path, action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timed = run_once(Path(tmp), args.size, args.latency, args.concurrency, args.pool)
        zero = run_once(Path(tmp), args.size, 0.0, args.concurrency, args.pool)
    print(f"size {args.size}, latency {args.latency}s, concurrency {args.concurrency}")
    print(f"  accepted {timed['accepted']:.0f} in {timed['execution_s']:.2f}s of execution "
          f"({timed['samples_per_s']:.1f} samples/s)")
    print(f"  model calls per accepted sample {timed['calls_per_sample']:.2f}")
    print(f"  efficiency {timed['efficiency']:.2f}")
    print(f"  overhead at zero latency {zero['overhead_ms_per_sample']:.2f} ms/sample "
          f"({zero['accepted']:.0f} samples in {zero['execution_s']:.2f}s)")


if __name__ == "__main__":
    main()
