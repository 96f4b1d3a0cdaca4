"""The run's benchmark as the review page shows it: each item as a model reads it, its media,
its provenance and the checks it passed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from benchagent.evaluation import item_text
from benchagent.records import BenchmarkSample, CheckResult, SampleOutcome
from benchagent.stages.paths import ACCEPTED, BENCHMARK
from benchagent.store import RunError, RunStore, read_jsonl

Row = dict[str, Any]


@dataclass(frozen=True)
class ReviewRun:
    run_dir: Path
    title: str
    samples: list[BenchmarkSample]
    checks: dict[str, list[CheckResult]]  # item id -> the checks it passed when built

    @property
    def ids(self) -> set[str]:
        return {s.id for s in self.samples}

    def media_paths(self) -> set[str]:
        """Every media path an item names (relative to the run): all the page may fetch."""
        return {m.path for s in self.samples for m in s.media}


def _samples(path: Path) -> list[BenchmarkSample]:
    if not path.is_file():
        raise RunError(f"{path.parent.parent} has no benchmark yet: build it first "
                       "(`benchagent resume RUN_DIR`)")
    try:
        samples = [BenchmarkSample.model_validate(r) for r in read_jsonl(path)]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "root"
        raise RunError(f"{path} holds an invalid item: {where}: {first['msg']}") from exc
    if not samples:
        raise RunError(f"{path} holds no item to review")
    if len({s.id for s in samples}) != len(samples):
        raise RunError(f"{path} holds two items with the same id")
    return samples


def _checks(run_dir: Path) -> dict[str, list[CheckResult]]:
    checks: dict[str, list[CheckResult]] = {}
    for row in read_jsonl(run_dir / ACCEPTED):
        try:
            outcome = SampleOutcome.model_validate(row)
        except ValidationError:
            continue
        if outcome.sample is not None:
            checks[outcome.sample.id] = outcome.checks
    return checks


def load_review_run(run_dir: Path) -> ReviewRun:
    store = RunStore.open(run_dir)
    samples = _samples(store.path(BENCHMARK))
    return ReviewRun(run_dir, store.manifest.query.description, samples, _checks(run_dir))


def item_view(run: ReviewRun, sample: BenchmarkSample) -> Row:
    """One item for the page: what the model reads, the fields a reviewer may edit, media
    addresses, provenance and checks."""
    return {
        "id": sample.id, "subtask": sample.subtask, "answer_type": sample.answer_type.value,
        "prompt": item_text(sample), "question": sample.question, "options": sample.options,
        "answer": sample.answer,
        "media": [{"kind": m.kind.value, "path": m.path, "url": "/media/" + quote(m.path),
                   "says": sample.provenance.media_text.get(m.path, "")}
                  for m in sample.media],
        "provenance": sample.provenance.model_dump(exclude={"media_text"}),
        "checks": [c.model_dump() for c in run.checks.get(sample.id, [])],
    }
