"""The planner stages of a build: design, grounding (with design feedback) and allocation (with
grounding and design feedback), each skipped on resume when its inputs are unchanged."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from benchagent.planner import PlanningError, allocate, ground, render_plan_md
from benchagent.planner.allocation import AllocationInfeasible
from benchagent.planner.design import DesignLog, design_rules
from benchagent.planner.design_loop import design, revise_unserved
from benchagent.planner.grounding import GroundingOptions, GroundingReport
from benchagent.records import Allocation, Grounding, Subtask
from benchagent.store import atomic_write_text, file_hash, hash_of

if TYPE_CHECKING:
    from benchagent.pipeline import BuildContext

SUBTASKS = "plan/subtasks.json"
GROUNDINGS = "plan/groundings.json"
ALLOCATION = "plan/allocation.json"
REJECTED_PLANS = "plan/rejected_plans.json"
DESIGN_LOG = "plan/design_log.json"


def grounding_key(ctx: BuildContext) -> str:
    return hash_of(file_hash(ctx.store.path(SUBTASKS)), ctx.label("grounding"),
                   ctx.label("executor"), ctx.seed, ctx.fingerprint,
                   "plan-scoring" in ctx.settings.ablate, ctx.settings.planner_rounds)


def allocation_key(ctx: BuildContext) -> str:
    return hash_of(file_hash(ctx.store.path(GROUNDINGS)), file_hash(ctx.store.path(SUBTASKS)),
                   ctx.query.target_size, ctx.label("allocation"), ctx.seed,
                   ctx.settings.oversample)


def _log(ctx: BuildContext) -> DesignLog:
    path = ctx.store.path(DESIGN_LOG)
    return DesignLog(ctx.store.read_json(DESIGN_LOG) if path.exists() else [])


def _options(ctx: BuildContext, more: set[str] | None = None) -> GroundingOptions:
    wide = bool(more)
    return GroundingOptions(k=16 if wide else 8, keep=5 if wide else 3,
                            ablate_scoring="plan-scoring" in ctx.settings.ablate,
                            with_executor_model=ctx.models.get("executor") is not None)


def _write_grounding(ctx: BuildContext, subtasks: list[Subtask], report: GroundingReport,
                     log: DesignLog) -> None:
    store = ctx.store
    store.write_json(SUBTASKS, ctx.dump(subtasks))
    store.write_json(GROUNDINGS, ctx.dump(report.groundings))
    store.write_json(REJECTED_PLANS, report.rejected)
    store.write_json(DESIGN_LOG, log.steps)


def ground_with_feedback(ctx: BuildContext, subtasks: list[Subtask], log: DesignLog,
                         report: GroundingReport | None = None,
                         pending: list[Subtask] | None = None,
                         opts: GroundingOptions | None = None
                         ) -> tuple[list[Subtask], GroundingReport]:
    """Ground `pending` (default: all); subtasks left without a plan go back to Design with the
    reasons, for bounded rounds. Unserved subtasks left at the end are dropped and logged."""
    report = report or GroundingReport()
    client, designer = ctx.models.get("grounding"), ctx.models.get("design")
    opts = opts or _options(ctx)
    pending = subtasks if pending is None else pending
    for round_ in range(1, ctx.settings.planner_rounds + 1):
        with contextlib.suppress(PlanningError):  # all unserved: Design gets the reasons below
            ground(pending, ctx.query, ctx.pool, client, ctx.seed, opts, report)
        unserved = report.unserved(subtasks)
        if not unserved or round_ == ctx.settings.planner_rounds:
            break
        revised = revise_unserved(ctx.query, subtasks, unserved, designer, log, round_, ctx.seed)
        pending = [s for s in revised if s not in subtasks]
        subtasks = revised
    served = [s for s in subtasks if s.name not in report.unserved(subtasks)]
    names = {s.name for s in served}  # groundings of subtasks Design dropped go with them
    report.groundings = [g for g in report.groundings if g.subtask in names]
    for st in subtasks:
        if st not in served:
            log.add("discard", st.name, "still unserved after the feedback rounds", "rules", -1)
    if not served:
        raise PlanningError("no subtask could be grounded in the pool (" + "; ".join(
            f"{r['subtask']} × {r['dataset']}: {r['reason']}" for r in report.rejected[:4]) + ")")
    return served, report


def _grounding_stage(ctx: BuildContext, subtasks: list[Subtask]) -> None:
    log = _log(ctx)
    try:
        subtasks, report = ground_with_feedback(ctx, subtasks, log)
    except PlanningError as exc:
        if ctx.models.get("design") is None or "design" in ctx.settings.ablate:
            raise
        ctx.models.trace.decision(role="design", outcome="fallback",
                                  error=f"no designed subtask could be grounded: {exc}")
        rules = design_rules(ctx.query, ctx.pool, ctx.settings.max_subtasks)
        for st in rules:
            log.add("propose", st.name, "rules design after the model's could not be grounded",
                    "rules", -1)
        subtasks, report = ground_with_feedback(ctx, rules, log)
    _write_grounding(ctx, subtasks, report, log)


def _allocate(ctx: BuildContext, subtasks: list[Subtask],
              groundings: list[Grounding]) -> Allocation:
    return allocate(ctx.query, subtasks, groundings, ctx.pool, ctx.query.target_size,
                    ctx.models.get("allocation"), ctx.seed,
                    expected_rejection_rate=1 - 1 / ctx.settings.oversample)


def _allocate_with_feedback(ctx: BuildContext) -> Allocation:
    """Allocation; when it needs upstream work, grounding widens its search for the subtasks
    short of data and Design revises or drops the ones it names, then allocation reruns."""
    log = _log(ctx)
    subtasks = ctx.load_list(SUBTASKS, Subtask)
    report = GroundingReport(groundings=ctx.load_list(GROUNDINGS, Grounding),
                             rejected=ctx.store.read_json(REJECTED_PLANS))
    for round_ in range(1, ctx.settings.planner_rounds):
        try:
            return _allocate(ctx, subtasks, report.groundings)
        except AllocationInfeasible as exc:
            more = set(exc.feedback.needs_more_datasets)
            revised = subtasks
            if exc.feedback.drop_or_merge:
                reasons = {n: [str(exc)] for n in exc.feedback.drop_or_merge}
                revised = revise_unserved(ctx.query, subtasks, reasons,
                                          ctx.models.get("design"), log, 10 + round_, ctx.seed)
            pending = [s for s in revised if s.name in more or s not in subtasks]
            log.add("allocation", "*", f"{str(exc)[:300]}; grounding widened for "
                    f"{', '.join(sorted(more)) or 'none'}", "rules", 10 + round_)
            subtasks, report = ground_with_feedback(ctx, revised, log, report, pending,
                                                    _options(ctx, more))
            _write_grounding(ctx, subtasks, report, log)
    return _allocate(ctx, subtasks, report.groundings)


def run_planner(ctx: BuildContext) -> None:
    from benchagent.pipeline import stage

    s, store = ctx.settings, ctx.store
    with stage(ctx, "design", hash_of(ctx.query.model_dump(), ctx.label("design"),
                                      s.max_subtasks, s.seed, ctx.fingerprint,
                                      "design" in s.ablate)) as run:
        if run != "skip":
            subtasks, log = design(ctx.query, ctx.pool, ctx.models.get("design"),
                                   s.max_subtasks, s.seed, ablate="design" in s.ablate)
            store.write_json(SUBTASKS, ctx.dump(subtasks))
            store.write_json(DESIGN_LOG, log.steps)
    with stage(ctx, "grounding", grounding_key(ctx)) as run:
        if run != "skip":
            _grounding_stage(ctx, ctx.load_list(SUBTASKS, Subtask))
            store.stage("grounding")["input_hash"] = grounding_key(ctx)
    with stage(ctx, "allocation", allocation_key(ctx)) as run:
        if run != "skip":
            allocation = _allocate_with_feedback(ctx)
            store.write_json(ALLOCATION, allocation.model_dump(mode="json"))
            store.stage("grounding")["input_hash"] = grounding_key(ctx)
            store.stage("allocation")["input_hash"] = allocation_key(ctx)
            _write_plan_md(ctx, allocation)
    store.manifest["subtasks"] = [st.name for st in ctx.load_list(SUBTASKS, Subtask)]
    store.save()


def _write_plan_md(ctx: BuildContext, allocation: Allocation) -> None:
    store = ctx.store
    atomic_write_text(store.path("plan/plan.md"), render_plan_md(
        ctx.query, ctx.load_list(SUBTASKS, Subtask), ctx.load_list(GROUNDINGS, Grounding),
        allocation, ctx.pool, store.read_json(REJECTED_PLANS), _log(ctx).steps))
