"""Judging: LLM judges score a run's benchmark on the paper's dimensions (judge/scores.jsonl,
kept as each score comes, so that a cut-off judge resumes without asking again), summarised
with the judges' agreement into judge/summary.json."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchagent.evaluation.runner import kept_rows, run_kept
from benchagent.judging.asking import (
    JudgeContext,
    JudgeModel,
    benchmark_key,
    benchmark_prompt,
    item_key,
    judge_benchmark,
    judge_item,
)
from benchagent.judging.records import (
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    JUDGE_SUMMARY,
    QUALITY_ROLE,
    SCORES,
    JudgeScore,
    resolve_weights,
)
from benchagent.judging.summary import krippendorff_alpha, summarize
from benchagent.records import BenchmarkSample, Subtask
from benchagent.store import atomic_write_json

__all__ = ["DEFAULT_WEIGHTS", "DIMENSIONS", "JUDGE_SUMMARY", "QUALITY_ROLE", "SCORES",
           "JudgeContext", "JudgeModel", "JudgeProgress", "JudgeScore", "judge_run",
           "krippendorff_alpha", "no_judge_progress", "resolve_weights"]

# (scores in all, kept already) -> a context giving the callback each new score goes to
JudgeProgress = Callable[[int, int],
                         "contextlib.AbstractContextManager[Callable[[JudgeScore], None]]"]
Job = tuple[str, Callable[[], JudgeScore]]


@contextlib.contextmanager
def no_judge_progress(total: int, done: int) -> Iterator[Callable[[JudgeScore], None]]:
    yield lambda score: None


def _jobs(judges: Sequence[JudgeModel], ctx: JudgeContext,
          samples: Sequence[BenchmarkSample]) -> tuple[dict[tuple[str, str], str], list[Job]]:
    """Every (judge, item or "" for the benchmark) with its row key, and a job for each."""
    keys: dict[tuple[str, str], str] = {}
    jobs: list[Job] = []
    prompt = benchmark_prompt(ctx, samples)
    for judge in judges:
        key = keys[(judge.name, "")] = benchmark_key(judge, prompt)
        jobs.append((judge.name, _bind(judge_benchmark, judge, ctx, prompt, key)))
        for sample in samples:
            key = keys[(judge.name, sample.id)] = item_key(judge, ctx, sample)
            jobs.append((judge.name, _bind(judge_item, judge, ctx, sample, key)))
    return keys, jobs


def _bind(fn: Callable[..., JudgeScore], *args: Any) -> Callable[[], JudgeScore]:
    return lambda: fn(*args)


def _ask_all(judges: Sequence[JudgeModel], ctx: JudgeContext,
             samples: Sequence[BenchmarkSample],
             progress: JudgeProgress) -> dict[tuple[str, str], JudgeScore]:
    """Every judge's row on every item and on the benchmark: those kept from an earlier run
    of the same prompts, and the rest asked now, each appended to judge/scores.jsonl."""
    kept = {row.key: row for row in kept_rows(ctx.run_dir / SCORES, JudgeScore)}
    keys, jobs = _jobs(judges, ctx, samples)
    owner = {key: job for key, job in zip(keys.values(), jobs, strict=True)}
    pending = [job for key, job in owner.items() if key not in kept]  # one job per key
    with progress(len(owner), len(owner) - len(pending)) as tick:
        run_kept(ctx.run_dir / SCORES, pending, {j.name: j.client.cfg.max_concurrency
                                                 for j in judges}, kept, tick)
    return {where: _named(kept[key], *where) for where, key in keys.items()}


def _named(row: JudgeScore, judge: str, item: str) -> JudgeScore:
    """A kept row under the judge's name now (a judge named anew asks nothing again) and for
    this item (two items that read the same are asked once)."""
    if (row.judge, row.item) == (judge, item):
        return row
    return row.model_copy(update={"judge": judge, "item": item})


def judge_run(run_dir: Path, request: str, subtasks: dict[str, Subtask],
              samples: Sequence[BenchmarkSample], judges: Sequence[JudgeModel], *,
              weights: dict[str, float], seed: int,
              progress: JudgeProgress = no_judge_progress) -> dict[str, Any]:
    """Judge the benchmark with every judge; writes judge/summary.json and returns it."""
    ctx = JudgeContext(run_dir, request, subtasks, seed)
    rows = _ask_all(judges, ctx, samples, progress)
    names = [j.name for j in judges]
    items = [rows[(j, s.id)] for j in names for s in samples]
    benchmark = {j: rows[(j, "")] for j in names}
    summary = summarize(names, {j.name: j.client.label for j in judges}, weights, samples,
                        items, benchmark)
    atomic_write_json(run_dir / JUDGE_SUMMARY, summary)
    return summary
