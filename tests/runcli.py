"""Running the `benchagent` command as a user does, in a subprocess, and reading its run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str | Path, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchagent.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})


def benchmark(run: Path) -> list[dict[str, object]]:
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def model_calls(run: Path) -> int:
    trace = run / "trace.jsonl"
    if not trace.exists():
        return 0
    return sum(1 for line in trace.read_text().splitlines() if '"model_call"' in line)
