"""Does a benchmark order a model family by size? Builds a text benchmark from the shared
BIG-bench pool with no model, serves a local ladder through llama.cpp's OpenAI-compatible server
(SmolLM2-135M-Instruct, Qwen2.5-Coder-0.5B-Instruct, Qwen2.5-Coder-1.5B-Instruct), evaluates
it with `benchagent eval --ladder`, and, when `benchagent judge` exists, judges it with the
1.5B model.

    python scripts/fetch_test_models.py --only smollm --only qwen --only qwen15
    python benchmarks/ladder.py [--query ../shared/queries/temporal.json] [--size 40]
                                [--judge-size 10] [--keep DIR]

The judge scores a copy of the run holding its first --judge-size items.

Prints accuracy per model with its 95% interval, Kendall τ against the size order, the steps
that do not fall, separability, and the saturated and dead item counts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BENCHAGENT = [sys.executable, "-m", "benchagent.cli.main"]
LADDER = (("smollm-135m", "smollm"), ("qwen-0.5b", "qwen"), ("qwen-1.5b", "qwen15"))


def _model_path(key: str) -> Path:
    found = subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_test_models.py"),
                            "--print-path", key], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        sys.exit(found.stderr.strip())
    return Path(found.stdout.strip())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _servers(logs: Path) -> Iterator[dict[str, str]]:
    """One llama.cpp server per model; yields name -> base URL."""
    urls, processes = {}, []
    try:
        for name, key in LADDER:
            port = _free_port()
            command = [sys.executable, "-m", "llama_cpp.server", "--model", str(_model_path(key)),
                       "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                       "--n_threads", "1", "--model_alias", name]
            with (logs / f"{name}.log").open("wb") as sink:
                processes.append(subprocess.Popen(command, stdout=sink,
                                                  stderr=subprocess.STDOUT))
            urls[name] = f"http://127.0.0.1:{port}/v1"
        for url in urls.values():
            _wait(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def _wait(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                return
        time.sleep(0.5)
    sys.exit(f"llama.cpp server at {url} not ready after {timeout:.0f}s")


def _config(urls: dict[str, str], path: Path) -> Path:
    blocks = [f'[models."{name}"]\nprovider = "openai"\nmodel = "{name}"\nbase_url = "{url}"\n'
              "max_concurrency = 1\ndeadline_s = 900\n" for name, url in urls.items()]
    path.write_text("\n".join(blocks))
    return path


def _run(*args: str | Path) -> str:
    started = time.monotonic()
    done = subprocess.run([*BENCHAGENT, *map(str, args)], capture_output=True, text=True,
                          check=False)
    print(f"# benchagent {' '.join(map(str, args[:1]))}: {time.monotonic() - started:.0f} s",
          file=sys.stderr)
    if done.returncode != 0:
        sys.exit(f"benchagent {args[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _print_eval(summary: dict[str, Any]) -> None:
    print("| model | items | correct | wrong | unscored | accuracy | 95% CI |")
    print("|---|---|---|---|---|---|---|")
    for m in summary["models"]:
        ci = m["ci95"]
        interval = "–" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"
        accuracy = "–" if m["accuracy"] is None else f"{m['accuracy']:.3f}"
        print(f"| {m['model']} | {m['items']} | {m['correct']} | {m['wrong']} | "
              f"{m['unscored']} | {accuracy} | {interval} |")
    ladder = summary["ladder"] or {}
    print(f"\nKendall τ {ladder.get('kendall_tau')}, steps that do not fall "
          f"{ladder.get('monotonic_steps')} (monotonic: {ladder.get('monotonic')}); "
          f"separability {summary['separability']}; saturated {len(summary['saturated'])}, "
          f"dead {len(summary['dead'])} of {summary['items']} items")


def _first_items(run: Path, work: Path, count: int) -> Path:
    """A copy of the run whose benchmark holds its first `count` items (the judge is slow)."""
    copy = work / "judged"
    if (copy / "judge").is_dir():  # a judge cut off before: it continues
        return copy
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("eval", "judge", "cache"))
    path = copy / "benchmark" / "benchmark.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:count]))
    return copy


def _print_judge(summary: dict[str, Any]) -> None:
    print(f"\njudge {', '.join(summary['judges'])} on {summary['items']} items: overall "
          f"{summary['overall']}, benchmark UIA {summary['benchmark_uia']}")
    for name, row in summary["dimensions"].items():
        print(f"  {name}: mean {row['mean']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--query", type=Path, default=SHARED / "queries" / "temporal.json")
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--judge-size", type=int, default=10,
                        help="items the 1.5B model judges (0: no judge)")
    parser.add_argument("--keep", type=Path, help="keep the run here instead of a temp dir")
    args = parser.parse_args()
    run = args.keep or Path(tempfile.mkdtemp(prefix="ladder-")) / "run"
    work = run.parent / f"{run.name}-work"  # kept beside a --keep run: a rerun resumes
    work.mkdir(parents=True, exist_ok=True)
    if not (run / "benchmark" / "benchmark.jsonl").is_file():  # --keep of a finished build
        _run("build", args.query, "--size", str(args.size), "--pool", SHARED / "pools" / "bigbench",
             "--out", run, "--seed", "7")
    with _servers(work) as urls:
        config = _config(urls, work / "benchagent.toml")
        models = [a for name, _ in LADDER for a in ("--model", name)]
        summary = json.loads(_run("eval", run, *models, "--ladder", "--config", config,
                                  "--judge", "rules", "--json"))
        _print_eval(summary)
        if args.judge_size:
            _print_judge(json.loads(_run("judge", _first_items(run, work, args.judge_size),
                                         "--model", "qwen-1.5b", "--config", config,
                                         "--json")))
    print(f"\nrun: {run}")


if __name__ == "__main__":
    main()
