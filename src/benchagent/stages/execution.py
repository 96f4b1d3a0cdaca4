"""The execution stage: every allocated pair draws candidates until its quota is verified, and
near-duplicates across the benchmark are rejected and replaced (samples/*.jsonl)."""

from __future__ import annotations

from typing import Any

from benchagent.executor.backend import samples_in_flight
from benchagent.executor.backends import BackendChoice, CpuPool
from benchagent.executor.instructions import instructions_for
from benchagent.executor.pairs import (
    ExecutionSetup,
    Pair,
    PairSources,
    pair_states,
    reject_duplicates,
)
from benchagent.executor.run import PairState, ProgressFn, execute
from benchagent.executor.sample_plan import SamplePolicy
from benchagent.executor.verify import VerifyLayers
from benchagent.operators import REGISTRY
from benchagent.planner import PlanningError, pair_candidates
from benchagent.records import Allocation, Grounding, SampleOutcome, Subtask
from benchagent.stages.context import BuildContext
from benchagent.stages.engine import Stage, StageRun
from benchagent.stages.paths import (
    ACCEPTED,
    ALLOCATION,
    GROUNDINGS,
    INSTRUCTIONS,
    REJECTED,
    SUBTASKS,
)
from benchagent.store import JsonlAppender, appenders

DEDUP_ROUNDS = 10  # execute → reject near-duplicates → replace them, at most this often
Plan = tuple[list[Subtask], list[Grounding], Allocation]


def sample_policy(ctx: BuildContext) -> SamplePolicy:
    if ctx.ablated("sample-planning"):
        return "off"
    return "model" if ctx.models.get("executor") is not None else "rules"


def verify_layers(ctx: BuildContext) -> VerifyLayers:
    return VerifyLayers.schema_only() if ctx.ablated("verification") else VerifyLayers.full()


def _setup(ctx: BuildContext) -> ExecutionSetup:
    layers = verify_layers(ctx)
    return ExecutionSetup(
        run_dir=ctx.store.root, seed=ctx.seed,
        executor=ctx.models.get("executor"), verifier=ctx.models.get("verifier"),
        models_used=sorted({x for x in ctx.models.labels().values() if x != "rules"}),
        sample_policy=sample_policy(ctx), layers=layers,
        attempts_per_item=ctx.settings.attempts_per_item)


def check_plan(plan: Plan) -> None:
    subtasks, groundings, allocation = plan
    grounded = {(g.subtask, g.dataset_id) for g in groundings}
    names = {st.name for st in subtasks}
    for q in allocation.quotas:
        if (q.subtask, q.dataset_id) not in grounded or q.subtask not in names:
            raise PlanningError(f"{ALLOCATION} allocates {q.subtask!r} × {q.dataset_id}, which "
                                f"{GROUNDINGS} does not ground")


def _instructions(ctx: BuildContext, subtasks: list[Subtask]) -> dict[str, str]:
    path = ctx.store.path(INSTRUCTIONS)
    known: dict[str, str] = ctx.store.read_json(INSTRUCTIONS) if path.exists() else {}
    instructions = instructions_for(subtasks, ctx.models.get("executor"), ctx.seed, known)
    ctx.store.write_json(INSTRUCTIONS, instructions)
    return instructions


def _states(ctx: BuildContext, plan: Plan) -> dict[Pair, PairState]:
    subtasks, groundings, allocation = plan
    check_plan(plan)
    done = ctx.read_jsonl(ACCEPTED, SampleOutcome) + ctx.read_jsonl(REJECTED, SampleOutcome)
    return pair_states(_setup(ctx), plan, pair_sources(ctx, groundings, allocation),
                       _instructions(ctx, subtasks), done)


def pair_sources(ctx: BuildContext, groundings: list[Grounding],
             allocation: Allocation) -> PairSources:
    order = pair_candidates(groundings, ctx.pool, ctx.seed, allocation)
    ordered = {}
    for q in allocation.quotas:
        samples = {smp.source_id: smp for smp in ctx.pool.samples(q.dataset_id)}
        ordered[(q.subtask, q.dataset_id)] = [samples[i] for i in order[(q.subtask,
                                                                          q.dataset_id)]]
    cards = {q.dataset_id: ctx.pool.card(q.dataset_id) for q in allocation.quotas}
    return PairSources(ordered, cards)


def _progress_totals(states: dict[Pair, PairState]) -> tuple[dict[str, int], dict[str, int]]:
    quotas: dict[str, int] = {}
    already: dict[str, int] = {}
    for (name, _), st in states.items():
        quotas[name] = quotas.get(name, 0) + min(st.quota, st.accepted + len(st.queue))
        already[name] = already.get(name, 0) + min(st.accepted, st.quota)
    return quotas, already


def run_execution(ctx: BuildContext, mode: StageRun) -> None:
    store = ctx.store
    if mode == "fresh":  # new inputs: earlier outcomes no longer apply
        for rel in (ACCEPTED, REJECTED, INSTRUCTIONS):
            store.path(rel).unlink(missing_ok=True)
    plan = (ctx.read_list(SUBTASKS, Subtask), ctx.read_list(GROUNDINGS, Grounding),
            ctx.read(ALLOCATION, Allocation))
    states = _states(ctx, plan)
    choice = BackendChoice(ctx.settings.executor, ctx.settings.ray_address)
    with CpuPool(choice) as backend:
        try:
            where = ""
            if _runs_cpu_operators(plan[1]):
                backend.prepare()
                where = f"{backend.name}, {backend.workers()} CPU workers"
            at_once = ctx.settings.concurrency or samples_in_flight(backend.workers())
            with appenders(store.path(ACCEPTED), store.path(REJECTED)) as (acc, rej), \
                    ctx.progress(*_progress_totals(states), where=where) as tick:
                _execute_rounds(ctx, plan, states, (acc, rej), at_once, tick)
        finally:
            store.manifest.executor = backend.usage()


def _execute_rounds(ctx: BuildContext, plan: Plan,
                    states: dict[Pair, PairState], out: tuple[JsonlAppender, JsonlAppender],
                    at_once: int, tick: ProgressFn) -> None:
    """Execute until no accepted item duplicates another (a duplicate's slot is refilled)."""
    acc, rej = out
    for _ in range(DEDUP_ROUNDS):
        execute(states, acc, rej, at_once, ctx.settings.oversample, tick)
        if ctx.ablated("verification") or not reject_duplicates(
                plan[2], ctx.read_jsonl(ACCEPTED, SampleOutcome),
                ctx.read_jsonl(REJECTED, SampleOutcome), states, rej):
            break


def _runs_cpu_operators(groundings: list[Grounding]) -> bool:
    return any(REGISTRY[step.operator].cost_class == "cpu" for g in groundings
               for step in g.plan if step.operator in REGISTRY)


def _settings(ctx: BuildContext) -> tuple[Any, ...]:
    return (ctx.label("executor"), ctx.label("verifier"), ctx.seed, sorted(ctx.settings.ablate))


STAGE = Stage("execution", run_execution, inputs=(ALLOCATION, GROUNDINGS, SUBTASKS),
              settings=_settings, outputs=(ACCEPTED, REJECTED, INSTRUCTIONS))
