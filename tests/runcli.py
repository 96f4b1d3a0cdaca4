"""Running the `benchagent` command as a user does, and reading its run.

`cli` runs it in this process, through the same entry point and error handling as the console
script (`benchagent.cli.main.main`); `cli_subprocess` runs it as a separate process, for the
few tests that need a real one (killing it, checking what a fresh interpreter does).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from benchagent.cli.main import main


@dataclass(frozen=True)
class CliResult:
    """What a command left behind, shaped like subprocess.CompletedProcess."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def _text_stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace",
                            write_through=True)


def _read(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", errors="backslashreplace")


@contextlib.contextmanager
def _isolated(cwd: Path | None, env: Mapping[str, str | None]) -> Iterator[None]:
    """Working directory, environment (None unsets) and std streams for one command,
    restored afterwards."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.StringIO("")
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def cli(*args: str | Path, cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None) -> CliResult:
    """Run `benchagent ARGS...` in this process; env entries set (or with None, unset) variables
    for this command only."""
    argv = [str(a) for a in args]
    stdout, stderr = _text_stream(), _text_stream()
    with _isolated(cwd, env or {}):
        sys.stdout, sys.stderr = stdout, stderr
        code = main(argv)
    return CliResult(argv, code, _read(stdout), _read(stderr))


def cli_subprocess(*args: str | Path, cwd: Path | None = None,
                   env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `benchagent ARGS...` as its own process, as the console script does."""
    return subprocess.run([sys.executable, "-m", "benchagent.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})


def cli_popen(*args: str | Path, env: Mapping[str, str] | None = None,
              capture: bool = False) -> subprocess.Popen[bytes]:
    """Start `benchagent ARGS...` as its own process without waiting (to kill it mid-run);
    with `capture`, its stdout and stderr are pipes (read them with `communicate`)."""
    stream = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "benchagent.cli.main", *map(str, args)],
                            env={**os.environ, **(env or {})}, stdout=stream, stderr=stream)


def benchmark(run: Path) -> list[dict[str, object]]:
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def model_calls(run: Path) -> int:
    trace = run / "trace.jsonl"
    if not trace.exists():
        return 0
    return sum(1 for line in trace.read_text().splitlines() if '"model_call"' in line)
