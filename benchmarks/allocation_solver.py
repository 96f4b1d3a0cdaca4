"""The allocation agent's integer program at scale: solve time for S subtasks × D datasets.

    python benchmarks/allocation_solver.py --subtasks 12 --datasets 40 --target 2000 --seed 0

Builds D synthetic datasets (20 to 500 samples each, the same for the same seed) and grounds
every subtask on a random subset of them (`--per-subtask`, shared datasets included) or on all
of them (`--dense`), then reports, median and max over `--repeats` runs, the time `solve` takes
(problem building, diagnosis, the MILP, the quotas) and the quotas' spread.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from benchagent.planner.allocation import solve
from benchagent.pool import Pool
from benchagent.pool.base import LoadedDataset
from benchagent.records import Allocation, DatasetCard, Grounding, SourceSample, Subtask


def synthetic_pool(n_datasets: int, rng: random.Random) -> Pool:
    datasets = []
    for i in range(n_datasets):
        did = f"ds{i:03d}"
        size = rng.randint(20, 500)
        card = DatasetCard(id=did, name=did, format="jsonl", source=did, size=size)
        samples = tuple(SourceSample(dataset_id=did, source_id=f"{did}-{k}", question="q",
                                     answer="a") for k in range(size))
        datasets.append(LoadedDataset(card, samples))
    return Pool(datasets)


def groundings(n_subtasks: int, pool: Pool, per_subtask: int | None,
               rng: random.Random) -> tuple[list[Subtask], list[Grounding]]:
    subtasks = [Subtask(name=f"Subtask {j}", description=f"Subtask {j}.")
                for j in range(n_subtasks)]
    ids = [c.id for c in pool.cards]
    out = []
    for s in subtasks:
        chosen = ids if per_subtask is None else rng.sample(ids, min(per_subtask, len(ids)))
        out += [Grounding(subtask=s.name, dataset_id=d, score=1.0, reason="synthetic", plan=[])
                for d in chosen]
    return subtasks, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subtasks", type=int, default=12)
    parser.add_argument("--datasets", type=int, default=40)
    parser.add_argument("--per-subtask", type=int, default=10)
    parser.add_argument("--dense", action="store_true", help="every subtask on every dataset")
    parser.add_argument("--target", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = synthetic_pool(args.datasets, rng)
    subtasks, grounded = groundings(args.subtasks, pool, None if args.dense else args.per_subtask,
                                    rng)
    weights = {s.name: rng.choice([0.5, 1.0, 2.0]) for s in subtasks}
    times: list[float] = []
    allocation: Allocation | None = None
    for _ in range(args.repeats):
        start = time.perf_counter()
        allocation = solve(subtasks, grounded, pool, args.target, args.seed, weights)
        times.append(time.perf_counter() - start)
    assert allocation is not None
    used = [q for q in allocation.quotas if q.quota > 0]
    print(f"{args.subtasks} subtasks × {args.datasets} datasets, {len(grounded)} pairs, "
          f"target {args.target}")
    print(f"solve: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {args.repeats} runs")
    print(f"allocated {sum(q.quota for q in allocation.quotas)} items over {len(used)} pairs")
    for note in allocation.notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
