"""Peak memory and time of `benchagent pool index` on the worst hostile pools (issue 11).

    python benchmarks/hostile_memory.py [--mb 200]

Each case is written to a temporary folder and indexed by a fresh `benchagent` process; the
process's own peak RSS comes from `os.wait4` (ru_maxrss of that child alone; on Linux it starts
from this script's RSS at the fork, so this script imports nothing heavy and writes in chunks).
Target: every case under 500 MB, failing with its true reason.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

_MB = 1_000_000


def one_long_line(path: Path, megabytes: int) -> None:
    """A JSONL file of `megabytes` MB that is one line."""
    head, tail = b'{"question": "', b'", "answer": "a"}\n'
    with path.open("wb") as f:
        f.write(head)
        for _ in range(megabytes):
            f.write(b"x" * _MB)
        f.truncate(megabytes * _MB - len(tail))
        f.seek(0, os.SEEK_END)
        f.write(tail)


def one_line_repeated(path: Path, megabytes: int) -> None:
    """A JSONL file of `megabytes` MB: the same record on every line."""
    line = json.dumps({"question": "What is the same on every line?", "answer": "this"}) + "\n"
    block = (line * (_MB // len(line))).encode()
    with path.open("wb") as f:
        for _ in range(megabytes):
            f.write(block)


def deep_nesting(path: Path, depth: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for bracket in "[]":
            for _ in range(depth // _MB):
                f.write(bracket * _MB)
            f.write(bracket * (depth % _MB))


def png(width: int, height: int) -> bytes:
    """A PNG of one grey row per line, whose header declares `width` x `height` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + b"\x80" * 2 for _ in range(2)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def bomb_png(folder: Path) -> None:
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "good.png").write_bytes(png(2, 2))
    (folder / "images" / "bomb.png").write_bytes(png(50_000, 50_000))
    rows = [{"id": i, "input": {"image_file": f, "question": "What is shown?"},
             "output": {"text": "a square"}} for i, f in enumerate(["good.png", "bomb.png"])]
    (folder / "annotation.json").write_text(json.dumps({"data": rows}), encoding="utf-8")


def many_options(folder: Path, n: int) -> None:
    options = [f"option {i}" for i in range(n)]
    rows = [{"id": "q", "input": {"question": "Pick one", "options": options},
             "output": {"answer": options[1]}}]
    (folder / "annotation.json").write_text(json.dumps({"data": rows}), encoding="utf-8")


def many_scores(folder: Path, n: int) -> None:
    (folder / "t").mkdir()
    scores = {f"option {i}": int(i == 0) for i in range(n)}
    task = {"name": "t", "examples": [{"input": "Pick one", "target_scores": scores}]}
    (folder / "t" / "task.json").write_text(json.dumps(task), encoding="utf-8")


def run_index(pool: Path, cache: Path) -> tuple[int, float, float, str]:
    """(exit code, peak RSS in MB, seconds, last line of output) of one `pool index`."""
    env = {**os.environ, "BENCHAGENT_CACHE": str(cache), "BENCHAGENT_DENSE_SEARCH": "off"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchagent.cli.main", "pool", "index",
                             str(pool)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    lines = [line for line in output.splitlines() if line.strip()]
    return proc.returncode, usage.ru_maxrss / 1024, seconds, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the big JSONL files")
    args = parser.parse_args()
    cases: list[tuple[str, Callable[[Path], None]]] = [
        (f"{args.mb} MB JSONL, one line", lambda d: one_long_line(d / "d.jsonl", args.mb)),
        (f"{args.mb} MB JSONL, one line repeated",
         lambda d: one_line_repeated(d / "d.jsonl", args.mb)),
        ("JSON nested 200,000 deep", lambda d: deep_nesting(d / "annotation.json", 200_000)),
        ("JSON nested 20,000,000 deep", lambda d: deep_nesting(d / "annotation.json",
                                                                20_000_000)),
        ("PNG declaring 50000x50000", bomb_png),
        ("200,000 options", lambda d: many_options(d, 200_000)),
        ("200,000 BIG-bench target_scores", lambda d: many_scores(d, 200_000)),
    ]
    print(f"{'case':36} {'exit':>4} {'peak RSS':>9} {'time':>7}  last line")
    for name, build in cases:
        with tempfile.TemporaryDirectory() as tmp:
            pool = Path(tmp) / "pool"
            pool.mkdir()
            build(pool)
            code, rss, seconds, last = run_index(pool, Path(tmp) / "cache")
        print(f"{name:36} {code:>4} {rss:>6.0f} MB {seconds:>6.1f}s  {last[-110:]}")


if __name__ == "__main__":
    main()
