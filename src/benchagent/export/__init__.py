"""Exports of a built benchmark to evaluation harnesses, one module per target behind TARGETS:
each writes a folder that works when copied anywhere (its code needs nothing of benchagent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from benchagent.export import hf, inspect, lm_eval
from benchagent.export.common import Benchmark, ExportError, Written

Exporter = Callable[[Benchmark, Path], Written]
TARGETS: dict[str, Exporter] = {
    lm_eval.TARGET: lm_eval.write,
    inspect.TARGET: inspect.write,
    hf.TARGET: hf.write,
}
EXPORTS_DIR = "benchmark/exports"  # relative to the run directory


def check_targets(names: Sequence[str]) -> list[str]:
    """The targets named (`all` for every one), in TARGETS order; an unknown name is refused."""
    wanted = set(names)
    if "all" in wanted:
        return list(TARGETS)
    unknown = sorted(wanted - set(TARGETS))
    if unknown:
        raise ExportError(f"unknown export target {unknown[0]!r}: use "
                          f"{', '.join(TARGETS)} or all")
    return [name for name in TARGETS if name in wanted]


def export(benchmark: Benchmark, targets: Sequence[str], out: Path,
           keep_going: bool = False) -> tuple[list[Written], list[str]]:
    """Each target written to `out/<target>`. With `keep_going`, a target that cannot be written
    (pyarrow missing) is one line in the returned problems instead of an error."""
    written, problems = [], []
    for name in check_targets(targets):
        try:
            written.append(TARGETS[name](benchmark, out / name))
        except ExportError as exc:
            if not keep_going:
                raise
            problems.append(str(exc))
    return written, problems


__all__ = ["EXPORTS_DIR", "TARGETS", "Benchmark", "ExportError", "Written", "check_targets",
           "export"]
