"""The execution and benchmark stages: every allocated pair draws candidates until its quota is
verified, near-duplicates across the benchmark are rejected and replaced, and the benchmark is
assembled from the first accepted candidates by rank."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from benchagent.executor.assemble import assemble, chosen_outcomes, render_card
from benchagent.executor.dedup import near_duplicates
from benchagent.executor.instructions import instructions_for
from benchagent.executor.run import ACCEPTED, REJECTED, PairState, ProgressFn, execute
from benchagent.executor.sample import PairJob, outcome_key
from benchagent.executor.sample_plan import SamplePolicy
from benchagent.executor.steps import CpuPool
from benchagent.executor.verify import VerifyLayers
from benchagent.plan_stage import ALLOCATION, GROUNDINGS, SUBTASKS
from benchagent.planner import PlanningError, pair_candidates
from benchagent.records import (
    Allocation,
    CheckResult,
    Grounding,
    SampleOutcome,
    SourceSample,
    Subtask,
)
from benchagent.store import (
    JsonlAppender,
    appenders,
    atomic_write_text,
    file_hash,
    hash_of,
    read_jsonl,
)

if TYPE_CHECKING:
    import contextlib

    from benchagent.pipeline import BuildContext

BENCHMARK = "benchmark/benchmark.jsonl"
DEDUP_ROUNDS = 10  # execute → reject near-duplicates → replace them, at most this often
Pair = tuple[str, str]
# (quota per subtask, accepted so far per subtask) -> a context giving the progress callback
ProgressFactory = Callable[[dict[str, int], dict[str, int]],
                           "contextlib.AbstractContextManager[ProgressFn]"]


def load_plan(ctx: BuildContext) -> tuple[list[Subtask], list[Grounding], Allocation]:
    subtasks = ctx.load_list(SUBTASKS, Subtask)
    groundings = ctx.load_list(GROUNDINGS, Grounding)
    allocation = Allocation.model_validate(ctx.store.read_json(ALLOCATION))
    return subtasks, groundings, allocation


def outcomes(ctx: BuildContext, rel: str) -> list[SampleOutcome]:
    return [SampleOutcome.model_validate(r) for r in read_jsonl(ctx.store.path(rel))]


def _sample_policy(ctx: BuildContext) -> SamplePolicy:
    if "sample-planning" in ctx.settings.ablate:
        return "off"
    return "model" if ctx.models.get("executor") is not None else "rules"


def _siblings(pool_samples: list[SourceSample]) -> Callable[[int], list[SourceSample]]:
    """Extra samples for operators that compose several into one item: taken from the end of
    the pair's candidate order, the part least likely to be needed as items of their own."""
    def take(n: int) -> list[SourceSample]:
        return pool_samples[-n:] if n > 0 else []
    return take


def _job(ctx: BuildContext, subtask: Subtask, grounding: Grounding, ordered: list[SourceSample],
         instruction: str) -> PairJob:
    layers = (VerifyLayers.schema_only() if "verification" in ctx.settings.ablate
              else VerifyLayers.full())
    return PairJob(subtask=subtask, grounding=grounding, card=ctx.pool.card(grounding.dataset_id),
                   answer_space=sorted({s.answer for s in ordered}), instruction=instruction,
                   run_dir=ctx.store.root, seed=ctx.seed, verifier=ctx.models.get("verifier"),
                   models_used=sorted({x for x in ctx.models.labels().values() if x != "rules"}),
                   executor=ctx.models.get("executor"), sample_policy=_sample_policy(ctx),
                   layers=layers, siblings=_siblings(ordered))


def pair_states(ctx: BuildContext, subtasks: list[Subtask], groundings: list[Grounding],
                allocation: Allocation, instructions: dict[str, str]) -> dict[Pair, PairState]:
    done = {o.key: o for o in outcomes(ctx, ACCEPTED) + outcomes(ctx, REJECTED)}
    order = pair_candidates(groundings, ctx.pool, ctx.seed, allocation)
    by_name = {st.name: st for st in subtasks}
    states = {}
    for q in allocation.quotas:
        grounding = next((g for g in groundings
                          if g.subtask == q.subtask and g.dataset_id == q.dataset_id), None)
        if grounding is None or q.subtask not in by_name:
            raise PlanningError(f"{ALLOCATION} allocates {q.subtask!r} × {q.dataset_id}, which "
                                f"{GROUNDINGS} does not ground")
        samples = {smp.source_id: smp for smp in ctx.pool.samples(q.dataset_id)}
        ordered = [samples[i] for i in order[(q.subtask, q.dataset_id)]]
        job = _job(ctx, by_name[q.subtask], grounding, ordered, instructions[q.subtask])
        state = PairState(job=job, quota=q.quota, queue=[],
                          budget=q.quota * ctx.settings.attempts_per_item)
        for rank, source in enumerate(ordered):
            prior = done.get(outcome_key(q.subtask, q.dataset_id, source.source_id))
            if prior is None:
                state.queue.append((rank, source))
            elif prior.accepted:
                state.accepted += 1
            else:
                state.rejected += 1
        states[(q.subtask, q.dataset_id)] = state
    return states


def reject_duplicates(ctx: BuildContext, allocation: Allocation, states: dict[Pair, PairState],
                      rejected_out: JsonlAppender) -> int:
    """Reject near-duplicates among the samples the benchmark would take; their pairs then
    draw replacements. Returns how many were rejected."""
    rejected = outcomes(ctx, REJECTED)
    chosen = chosen_outcomes(allocation, outcomes(ctx, ACCEPTED), rejected)
    # character n-grams: embedding 500 items takes minutes on these cores
    dropped = near_duplicates([o.sample for o in chosen if o.sample is not None], embedder=None)
    for outcome in chosen:
        if outcome.sample is None or outcome.sample.id not in dropped:
            continue
        check = CheckResult(check="near_duplicate", passed=False,
                            reason=f"near-duplicate of {dropped[outcome.sample.id]}")
        row = outcome.model_copy(update={"accepted": False, "checks": [*outcome.checks, check]})
        rejected_out.append(row.model_dump(mode="json"))
        state = states[(outcome.subtask, outcome.dataset_id)]
        state.accepted -= 1
        state.rejected += 1
        state.reasons["near_duplicate"] += 1
    return len(dropped)


def _execution_key(ctx: BuildContext) -> str:
    store = ctx.store
    return hash_of(file_hash(store.path(ALLOCATION)), file_hash(store.path(GROUNDINGS)),
                   ctx.label("executor"), ctx.label("verifier"), ctx.seed,
                   sorted(ctx.settings.ablate))


def run_execution(ctx: BuildContext, progress: ProgressFactory) -> None:
    from benchagent.pipeline import stage

    subtasks, groundings, allocation = load_plan(ctx)
    store = ctx.store
    with stage(ctx, "execution", _execution_key(ctx)) as run:
        if run == "skip":
            return
        if run == "fresh":  # new inputs: earlier outcomes no longer apply
            for rel in (ACCEPTED, REJECTED, "samples/instructions.json"):
                store.path(rel).unlink(missing_ok=True)
        instructions = instructions_for(store, subtasks, ctx.models.get("executor"), ctx.seed)
        states = pair_states(ctx, subtasks, groundings, allocation, instructions)
        quotas: dict[str, int] = {}
        already: dict[str, int] = {}
        for (name, _), st in states.items():
            quotas[name] = quotas.get(name, 0) + min(st.quota, st.accepted + len(st.queue))
            already[name] = already.get(name, 0) + min(st.accepted, st.quota)
        with appenders(store.path(ACCEPTED), store.path(REJECTED)) as (acc, rej), \
                progress(quotas, already) as tick, CpuPool():
            for _ in range(DEDUP_ROUNDS):
                execute(states, acc, rej, ctx.settings.concurrency, ctx.settings.oversample, tick)
                if "verification" in ctx.settings.ablate or \
                        not reject_duplicates(ctx, allocation, states, rej):
                    break


def run_benchmark(ctx: BuildContext) -> None:
    from benchagent.pipeline import stage

    store = ctx.store
    _, _, allocation = load_plan(ctx)
    key = hash_of(store.stage("execution").get("input_hash"), file_hash(store.path(ACCEPTED)),
                  file_hash(store.path(REJECTED)))
    with stage(ctx, "benchmark", key) as run:
        if run != "skip":
            accepted, rejected = outcomes(ctx, ACCEPTED), outcomes(ctx, REJECTED)
            result = assemble(allocation, accepted, rejected)
            lines = [smp.model_dump_json() for smp in result.samples]
            atomic_write_text(store.path(BENCHMARK), "".join(f"{line}\n" for line in lines))
            atomic_write_text(store.path("benchmark/card.md"), render_card(
                ctx.query, result.samples, result.shortfalls, ctx.models.labels()))
            store.manifest["counts"] = {
                "benchmark": len(result.samples), "target": ctx.query.target_size,
                "accepted_candidates": result.accepted,
                "rejected_candidates": len(rejected)}
            store.manifest["shortfall"] = [sf.as_dict() for sf in result.shortfalls]
