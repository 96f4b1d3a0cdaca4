"""The benchmark stage: per pair, the first accepted candidates by rank, and the benchmark's
card (benchmark/benchmark.jsonl, benchmark/card.md)."""

from __future__ import annotations

from typing import Any

from benchagent.executor.assemble import assemble, render_card
from benchagent.records import Allocation, SampleOutcome
from benchagent.stages.context import BuildContext
from benchagent.stages.engine import Stage, StageRun
from benchagent.stages.paths import ACCEPTED, ALLOCATION, BENCHMARK, CARD, REJECTED
from benchagent.store import Counts, atomic_write_text


def run_benchmark(ctx: BuildContext, mode: StageRun) -> None:
    allocation = ctx.read(ALLOCATION, Allocation)
    accepted = ctx.read_jsonl(ACCEPTED, SampleOutcome)
    rejected = ctx.read_jsonl(REJECTED, SampleOutcome)
    result = assemble(allocation, accepted, rejected)
    lines = [smp.model_dump_json() for smp in result.samples]
    atomic_write_text(ctx.store.path(BENCHMARK), "".join(f"{line}\n" for line in lines))
    atomic_write_text(ctx.store.path(CARD), render_card(
        ctx.query, result.samples, result.shortfalls, ctx.models.labels()))
    manifest = ctx.store.manifest
    manifest.counts = Counts(benchmark=len(result.samples), target=ctx.query.target_size,
                             accepted_candidates=result.accepted,
                             rejected_candidates=len(rejected))
    manifest.shortfall = result.shortfalls


def _settings(ctx: BuildContext) -> tuple[Any, ...]:
    return (ctx.query.model_dump(), ctx.models.labels())


STAGE = Stage("benchmark", run_benchmark, inputs=(ALLOCATION, ACCEPTED, REJECTED),
              settings=_settings, outputs=(BENCHMARK, CARD))
