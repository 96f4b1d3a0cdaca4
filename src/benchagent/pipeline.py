"""The build: each stage of DESIGN.md, skipped on resume when its inputs are unchanged."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from benchagent.config import ROLES, Settings
from benchagent.executor.assemble import assemble, render_card
from benchagent.executor.instructions import instructions_for
from benchagent.executor.run import ACCEPTED, REJECTED, PairState, execute
from benchagent.executor.sample import PairJob, outcome_key
from benchagent.models import RoleModels
from benchagent.planner import (
    PlanningError,
    allocate,
    design,
    ground,
    pair_candidates,
    render_plan_md,
)
from benchagent.planner.design import design_rules
from benchagent.planner.grounding import GroundingReport
from benchagent.pool import Pool
from benchagent.records import (
    Allocation,
    Grounding,
    Query,
    SampleOutcome,
    Subtask,
)
from benchagent.store import RunStore, appenders, atomic_write_text, file_hash, hash_of, read_jsonl

SUBTASKS = "plan/subtasks.json"
GROUNDINGS = "plan/groundings.json"
ALLOCATION = "plan/allocation.json"
BENCHMARK = "benchmark/benchmark.jsonl"

ProgressFactory = Callable[[int, int], contextlib.AbstractContextManager[Callable[[SampleOutcome],
                                                                                 None]]]


@dataclass
class BuildContext:
    store: RunStore
    settings: Settings
    query: Query
    pool: Pool
    models: RoleModels

    @property
    def seed(self) -> int:
        return self.settings.seed

    def label(self, role: str) -> str:
        return self.models.labels().get(role, "rules")


def _load_list(store: RunStore, rel: str, kind: type[BaseModel]) -> list[Any]:
    adapter = TypeAdapter(list[kind])  # type: ignore[valid-type]
    try:
        return adapter.validate_python(store.read_json(rel))
    except ValueError as exc:
        raise PlanningError(f"{store.path(rel)} is not a valid plan file: "
                            f"{str(exc).splitlines()[0]}") from exc


def _dump(items: list[BaseModel]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in items]


def pool_fingerprint(pool: Pool) -> str:
    return hash_of(sorted((c.id, c.size) for c in pool.cards))


StageRun = Literal["skip", "fresh", "continue"]


@contextlib.contextmanager
def _stage(ctx: BuildContext, name: str, input_hash: str) -> Iterator[StageRun]:
    """Whether the body should run: "skip" when the stage is done on these inputs, "continue"
    when earlier work on the same inputs was interrupted, else "fresh". Records the outcome."""
    if ctx.store.is_done(name, input_hash):
        yield "skip"
        return
    continuing = ctx.store.start(name, input_hash)
    try:
        yield "continue" if continuing else "fresh"
    except BaseException as exc:
        ctx.store.fail(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    ctx.store.finish(name)


def run_planner(ctx: BuildContext) -> None:
    s, store = ctx.settings, ctx.store
    fingerprint = pool_fingerprint(ctx.pool)
    with _stage(ctx, "design", hash_of(ctx.query.model_dump(), ctx.label("design"),
                                       s.max_subtasks, s.seed, fingerprint)) as run:
        if run != "skip":
            subtasks = design(ctx.query, ctx.pool, ctx.models.get("design"), s.max_subtasks,
                              s.seed)
            store.write_json(SUBTASKS, _dump(list(subtasks)))
    subtasks = _load_list(store, SUBTASKS, Subtask)
    with _stage(ctx, "grounding", _grounding_key(ctx)) as run:
        if run != "skip":
            report = _ground_or_fall_back(ctx, subtasks)
            store.write_json(GROUNDINGS, _dump(list(report.groundings)))
            store.write_json("plan/rejected_plans.json", report.rejected)
    subtasks = _load_list(store, SUBTASKS, Subtask)
    groundings = _load_list(store, GROUNDINGS, Grounding)
    with _stage(ctx, "allocation", hash_of(file_hash(store.path(GROUNDINGS)),
                                           file_hash(store.path(SUBTASKS)), ctx.query.target_size,
                                           ctx.label("allocation"), s.seed)) as run:
        if run != "skip":
            allocation = allocate(ctx.query, subtasks, groundings, ctx.pool,
                                  ctx.query.target_size, ctx.models.get("allocation"), s.seed)
            store.write_json(ALLOCATION, allocation.model_dump(mode="json"))
            rejected = store.read_json("plan/rejected_plans.json")
            atomic_write_text(store.path("plan/plan.md"), render_plan_md(
                ctx.query, subtasks, groundings, allocation, ctx.pool, rejected))
    store.manifest["subtasks"] = [st.name for st in subtasks]
    store.save()


def _grounding_key(ctx: BuildContext) -> str:
    return hash_of(file_hash(ctx.store.path(SUBTASKS)), ctx.label("grounding"), ctx.seed,
                   pool_fingerprint(ctx.pool))


def _ground_or_fall_back(ctx: BuildContext, subtasks: list[Subtask]) -> GroundingReport:
    """Ground the designed subtasks; when a model designed them and none can be grounded, the
    rules design takes their place, and if the grounding model keeps no dataset for those
    either, the rules grounding does (the trace says which happened)."""
    client = ctx.models.get("grounding")
    try:
        return ground(subtasks, ctx.query, ctx.pool, client, ctx.seed)
    except PlanningError as exc:
        if ctx.models.get("design") is None:
            raise
        ctx.models.trace.decision(role="design", outcome="fallback",
                                  error=f"no designed subtask could be grounded: {exc}")
    rules = design_rules(ctx.query, ctx.pool, ctx.settings.max_subtasks)
    ctx.store.write_json(SUBTASKS, _dump(list(rules)))
    ctx.store.stage("grounding")["input_hash"] = _grounding_key(ctx)
    try:
        return ground(rules, ctx.query, ctx.pool, client, ctx.seed)
    except PlanningError as exc:
        if client is None:
            raise
        client.trace.decision(role="grounding", outcome="fallback",
                              error=f"the model kept no dataset: {exc}")
    return ground(rules, ctx.query, ctx.pool, None, ctx.seed)


def _load_plan(ctx: BuildContext) -> tuple[list[Subtask], list[Grounding], Allocation]:
    subtasks = _load_list(ctx.store, SUBTASKS, Subtask)
    groundings = _load_list(ctx.store, GROUNDINGS, Grounding)
    allocation = Allocation.model_validate(ctx.store.read_json(ALLOCATION))
    return subtasks, groundings, allocation


def _outcomes(ctx: BuildContext, rel: str) -> list[SampleOutcome]:
    return [SampleOutcome.model_validate(r) for r in read_jsonl(ctx.store.path(rel))]


def _pair_states(ctx: BuildContext, subtasks: list[Subtask], groundings: list[Grounding],
                 allocation: Allocation, instructions: dict[str, str]) -> dict[tuple[str, str],
                                                                                 PairState]:
    done = {o.key: o for o in _outcomes(ctx, ACCEPTED) + _outcomes(ctx, REJECTED)}
    order = pair_candidates(groundings, ctx.pool, ctx.seed)
    by_name = {st.name: st for st in subtasks}
    verifier = ctx.models.get("verifier")
    used = sorted({label for label in ctx.models.labels().values() if label != "rules"})
    states = {}
    for q in allocation.quotas:
        card = ctx.pool.card(q.dataset_id)
        samples = {smp.source_id: smp for smp in ctx.pool.samples(q.dataset_id)}
        grounding = next((g for g in groundings
                          if g.subtask == q.subtask and g.dataset_id == q.dataset_id), None)
        if grounding is None or q.subtask not in by_name:
            raise PlanningError(f"{ALLOCATION} allocates {q.subtask!r} × {q.dataset_id}, which "
                                f"{GROUNDINGS} does not ground")
        job = PairJob(subtask=by_name[q.subtask], grounding=grounding, card=card,
                      answer_space=sorted({smp.answer for smp in samples.values()}),
                      instruction=instructions[q.subtask], run_dir=ctx.store.root, seed=ctx.seed,
                      verifier=verifier, models_used=used)
        budget = q.quota * ctx.settings.attempts_per_item
        state = PairState(job=job, quota=q.quota, queue=[], budget=budget)
        for rank, source_id in enumerate(order[(q.subtask, q.dataset_id)]):
            prior = done.get(outcome_key(q.subtask, q.dataset_id, source_id))
            if prior is None:
                state.queue.append((rank, samples[source_id]))
            elif prior.accepted:
                state.accepted += 1
            else:
                state.rejected += 1
        states[(q.subtask, q.dataset_id)] = state
    return states


def run_execution(ctx: BuildContext, progress: ProgressFactory) -> None:
    subtasks, groundings, allocation = _load_plan(ctx)
    store = ctx.store
    key = hash_of(file_hash(store.path(ALLOCATION)), file_hash(store.path(GROUNDINGS)),
                  ctx.label("executor"), ctx.label("verifier"), ctx.seed)
    with _stage(ctx, "execution", key) as run:
        if run == "skip":
            return
        if run == "fresh":  # new inputs: earlier outcomes no longer apply
            for rel in (ACCEPTED, REJECTED, "samples/instructions.json"):
                store.path(rel).unlink(missing_ok=True)
        instructions = instructions_for(store, subtasks, ctx.models.get("executor"), ctx.seed)
        states = _pair_states(ctx, subtasks, groundings, allocation, instructions)
        target = sum(min(st.quota, st.accepted + len(st.queue)) for st in states.values())
        already = sum(min(st.accepted, st.quota) for st in states.values())
        with appenders(store.path(ACCEPTED), store.path(REJECTED)) as (acc, rej), \
                progress(target, already) as tick:
            execute(states, acc, rej, ctx.settings.concurrency, ctx.settings.oversample, tick)


def run_benchmark(ctx: BuildContext) -> None:
    store = ctx.store
    _, _, allocation = _load_plan(ctx)
    key = hash_of(store.stage("execution").get("input_hash"), file_hash(store.path(ACCEPTED)))
    with _stage(ctx, "benchmark", key) as run:
        if run != "skip":
            accepted, rejected = _outcomes(ctx, ACCEPTED), _outcomes(ctx, REJECTED)
            result = assemble(allocation, accepted, rejected)
            lines = [smp.model_dump_json() for smp in result.samples]
            atomic_write_text(store.path(BENCHMARK), "".join(f"{line}\n" for line in lines))
            atomic_write_text(store.path("benchmark/card.md"), render_card(
                ctx.query, result.samples, result.shortfalls, ctx.models.labels()))
            store.manifest["counts"] = {
                "benchmark": len(result.samples), "target": ctx.query.target_size,
                "accepted_candidates": len(accepted), "rejected_candidates": len(rejected)}
            store.manifest["shortfall"] = [sf.as_dict() for sf in result.shortfalls]


def run_build(ctx: BuildContext, progress: ProgressFactory, plan_only: bool = False) -> None:
    ctx.store.manifest["models"] = {role: ctx.label(role) for role in ROLES}
    try:
        run_planner(ctx)
        if not plan_only:
            run_execution(ctx, progress)
            run_benchmark(ctx)
    finally:
        ctx.store.manifest["usage"] = ctx.models.trace.totals()
        ctx.store.save()
