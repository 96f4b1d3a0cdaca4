"""The stage engine builds what the pipeline before it built: fixed queries and pools, the same
seed, byte-identical plan files and benchmarks (tests/golden holds the earlier outputs).

A change that is meant to change items rewrites the golden files with
`UPDATE_GOLDEN=1 pytest tests/unit/stages/test_same_benchmarks.py`; read the diff whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import benchagent

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
STARTER_QUERY = "Test date arithmetic and unit conversion in word problems"
FILES = ("plan/subtasks.json", "plan/groundings.json", "plan/allocation.json",
         "benchmark/benchmark.jsonl")


def _cases(shared: Path) -> dict[str, tuple[object, int, list[Path], str | None]]:
    queries = shared.parent / "queries"
    return {
        "starter-rules": (STARTER_QUERY, 20, [], None),
        "starter-mock": (STARTER_QUERY, 20, [], "mock"),
        "temporal-rules": (queries / "temporal.json", 12, [shared / "general-bench"], None),
        "causal-mock": (queries / "causal.json", 16,
                        [shared / "general-bench", shared / "bigbench"], "mock"),
    }


@pytest.mark.parametrize("case", ["starter-rules", "starter-mock", "temporal-rules",
                                  "causal-mock"])
def test_build_matches_the_golden_run(case: str, shared_pools: Path, tmp_path: Path) -> None:
    query, size, pools, model = _cases(shared_pools)[case]
    result = benchagent.build(query, out=tmp_path / case, size=size, pools=pools,  # type: ignore[arg-type]
                              model=model)
    if os.environ.get("UPDATE_GOLDEN"):
        for rel in FILES:
            (GOLDEN / case / Path(rel).name).write_text(
                (result.run_dir / rel).read_text(encoding="utf-8"), encoding="utf-8")
    assert result.items == len((GOLDEN / case / "benchmark.jsonl").read_text().splitlines())
    for rel in FILES:
        expected = (GOLDEN / case / Path(rel).name).read_text(encoding="utf-8")
        assert (result.run_dir / rel).read_text(encoding="utf-8") == expected, rel
