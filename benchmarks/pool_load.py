"""Loading pools, cold (empty cache: every card built, every image decoded) and warm (cards
and media checks read back from the cache).

    python benchmarks/pool_load.py [--pool DIR ...] [--repeat 3]

Without `--pool` it loads the shared pools next to the project (../shared/pools/*) and a
freshly generated starter pool. Each load runs in this process with its own cache folder;
figures are wall-clock seconds, best of `--repeat`, and the cards loaded.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchagent.pool import Pool
from benchagent.pool.starter.generate import generate_starter_pool

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pools"


def _timed_load(paths: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    pool = Pool.load(paths)
    return time.perf_counter() - start, len(pool.cards)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, action="append", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = list(args.pool) or sorted(p for p in SHARED.iterdir() if p.is_dir())
        if not args.pool:
            paths.append(generate_starter_pool(Path(tmp) / "starter"))
        cold, warm = [], []
        for i in range(args.repeat):
            os.environ["BENCHAGENT_CACHE"] = str(Path(tmp) / f"cache{i}")
            cold.append(_timed_load(paths))
            warm.append(_timed_load(paths))
    print(f"pools: {', '.join(p.name for p in paths)}")
    print(f"cold load  {min(t for t, _ in cold):6.2f} s  ({cold[0][1]} cards)")
    print(f"warm load  {min(t for t, _ in warm):6.2f} s  ({warm[0][1]} cards)")


if __name__ == "__main__":
    main()
