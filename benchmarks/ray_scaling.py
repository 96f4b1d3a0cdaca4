"""The same media build on the local process pool and on Ray at 1 and 2 workers; a projection
for 10,000 items on 1, 8 and 64 workers.

    python benchmarks/ray_scaling.py --size 24 \
        --query ../shared/queries/spoken_commonsense.json --pool ../shared/pools/bigbench

Every run starts with cold caches (operators' and the workers'), so each one synthesises,
mixes and transcribes afresh. With --warm, every Ray worker loads piper and Whisper before
the build (about 3 CPU-s a worker, once: a small build at 2 workers pays it twice).
Prints items per second of the execution stage per run and the ratio of Ray at 2 workers to
Ray at 1 (the target is 1.7 or more). The projection takes the measured CPU seconds per item
(the Ray tasks' CPU time, rejected candidates included) and the model seconds per item
(measured with --model, else the assumed --calls-per-item × --call-latency):
wall = max(items × cpu / workers, items × model / endpoint concurrency), the endpoint's
concurrency being the ceiling that more workers cannot lift.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import benchagent

HERE = Path(__file__).resolve().parents[1]
SHARED = HERE.parent / "shared"


@dataclass(frozen=True)
class Measured:
    label: str
    items: int
    seconds: float  # the execution stage's wall time
    busy_s: float  # wall seconds of every task
    cpu_s: float  # CPU seconds of every task
    driver_cpu_s: float  # the build process's own CPU seconds in the execution
    calls: int
    call_s: float

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def _load_models(hold_s: float) -> int:
    """In a Ray worker: load piper and Whisper as a build's first task there would."""
    import time

    from benchagent.operators import speech
    speech._piper_voice("joe")
    speech._whisper()
    time.sleep(hold_s)  # so that the next warm-up lands on another worker
    return os.getpid()


def _start_ray(workers: int, cache: Path, warm: bool) -> None:
    import ray
    ray.init(address="local", num_cpus=workers, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False, logging_level=logging.WARNING,
             runtime_env={"env_vars": {"BENCHAGENT_CACHE": str(cache)}})
    if warm:
        load = ray.remote(num_cpus=1)(_load_models)
        pids = set(ray.get([load.remote(2.0) for _ in range(workers)]))
        assert len(pids) == workers, f"warmed {len(pids)} of {workers} workers"


def run(label: str, args: argparse.Namespace, workdir: Path, ray_workers: int = 0) -> Measured:
    cache = workdir / f"cache-{label}"
    os.environ["BENCHAGENT_CACHE"] = str(cache)  # cold for the driver and the pool workers
    if ray_workers:
        _start_ray(ray_workers, cache / "ray", args.warm)
    try:
        result = benchagent.build(args.query, out=workdir / label, size=args.size,
                                  pools=args.pool, model=args.model, seed=args.seed,
                                  concurrency=args.concurrency,
                                  executor="ray" if ray_workers else "local")
    finally:
        if ray_workers:
            import ray
            ray.shutdown()
    ran = result.manifest.executor
    assert ran is not None
    usage = result.manifest.usage.values()
    measured = Measured(label, result.items, ran.wall_s,
                        sum(w.busy_s for w in ran.per_worker.values()),
                        sum(w.cpu_s for w in ran.per_worker.values()), ran.driver_cpu_s,
                        sum(u.calls - u.cache_hits for u in usage),
                        sum(u.latency_s for u in usage))
    print(f"{label:>14}: {measured.items} items in {measured.seconds:6.1f} s = "
          f"{measured.items_per_s:.3f} items/s ({ran.backend}, {ran.workers} workers, "
          f"{ran.tasks} tasks: {measured.busy_s:.0f} task-s, {measured.cpu_s:.0f} CPU-s; "
          f"driver {measured.driver_cpu_s:.0f} CPU-s)",
          flush=True)
    for worker, rate in ran.throughput().items():
        print(f"{'':>16}{worker}: {rate:.2f} tasks/s", flush=True)
    return measured


def project(runs: list[Measured], args: argparse.Namespace) -> None:
    """From the Ray runs, where every CPU task (read-back too) ran in a worker process."""
    items = sum(r.items for r in runs)
    cpu = sum(r.cpu_s for r in runs) / max(items, 1)
    if args.model:
        model = sum(r.call_s for r in runs) / max(items, 1)
        source = f"measured: {sum(r.calls for r in runs) / max(items, 1):.1f} calls/item"
    else:
        model = args.calls_per_item * args.call_latency
        source = (f"assumed: {args.calls_per_item} calls/item × {args.call_latency} s, "
                  "no model ran")
    print(f"\nper item: {cpu:.2f} CPU-s, {model:.2f} model-s ({source}); endpoint "
          f"concurrency {args.endpoint_concurrency}")
    ceiling = args.target * model / args.endpoint_concurrency
    for workers in (1, 8, 64):
        wall = max(args.target * cpu / workers, ceiling)
        bound = "model endpoint" if ceiling >= args.target * cpu / workers else "CPU"
        print(f"  {args.target} items on {workers:>2} workers: {wall / 3600:6.2f} h "
              f"({bound}-bound)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=24)
    parser.add_argument("--query", type=Path, default=SHARED / "queries" /
                        "spoken_commonsense.json")
    parser.add_argument("--pool", type=Path, action="append", default=[])
    parser.add_argument("--model", default=None, help="a model spec; default: the rules")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="samples at once; default: the build's (2 per worker, at least 4)")
    parser.add_argument("--warm", action="store_true",
                        help="load the speech models in every Ray worker before the build "
                             "(a fixed cost per worker, which a small build cannot amortise)")
    parser.add_argument("--target", type=int, default=10_000)
    parser.add_argument("--calls-per-item", type=float, default=3.0)
    parser.add_argument("--call-latency", type=float, default=1.5)
    parser.add_argument("--endpoint-concurrency", type=int, default=16)
    args = parser.parse_args()
    args.pool = args.pool or [SHARED / "pools" / "bigbench"]
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="ray-scaling-") as tmp:
        workdir = Path(tmp)
        pool = run("process pool", args, workdir)
        one = run("ray 1 worker", args, workdir, ray_workers=1)
        two = run("ray 2 workers", args, workdir, ray_workers=2)
    ratio = two.items_per_s / one.items_per_s if one.items_per_s else 0.0
    print(f"\nray 2 workers vs 1: {ratio:.2f}× (target ≥ 1.7); ray 2 vs process pool: "
          f"{two.items_per_s / pool.items_per_s if pool.items_per_s else 0:.2f}×")
    project([one, two], args)


if __name__ == "__main__":
    main()
