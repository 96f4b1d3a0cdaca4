"""The allocation stage: quotas per (subtask, dataset) from the solver, with grounding and Design
feedback when the target cannot be met (plan/allocation.json, plan/plan.md)."""

from __future__ import annotations

from typing import Any

from benchagent.planner import render_plan_md
from benchagent.planner.coverage import unserved_notes
from benchagent.planner.demands import request_demands, unmet_notes
from benchagent.planner.feedback import PlanState, allocate_with_feedback
from benchagent.planner.grounding import GroundingReport
from benchagent.records import Grounding, RejectedPlan, Subtask
from benchagent.stages.context import BuildContext
from benchagent.stages.engine import Stage, StageRun
from benchagent.stages.grounding import PLAN_FILES, design_log, planner_setup, write_plan_state
from benchagent.stages.paths import ALLOCATION, GROUNDINGS, PLAN_MD, REJECTED_PLANS, SUBTASKS
from benchagent.store import atomic_write_text


def _allocation_settings(ctx: BuildContext) -> tuple[Any, ...]:
    return (ctx.query.target_size, ctx.label("allocation"), ctx.seed, ctx.settings.oversample)


def run_allocation(ctx: BuildContext, mode: StageRun) -> None:
    report = GroundingReport(groundings=ctx.read_list(GROUNDINGS, Grounding),
                             rejected=ctx.read_list(REJECTED_PLANS, RejectedPlan))
    state = PlanState(ctx.read_list(SUBTASKS, Subtask), report, design_log(ctx))
    state, allocation = allocate_with_feedback(planner_setup(ctx), state)
    demands = request_demands(ctx.query, allocation, state.report.groundings, ctx.pool,
                              has_executor=ctx.models.get("executor") is not None)
    allocation = allocation.model_copy(update={"notes": [
        *allocation.notes, *unserved_notes(ctx.query, allocation, ctx.pool),
        *unmet_notes(demands)]})
    write_plan_state(ctx, state)
    ctx.write(ALLOCATION, allocation)
    ctx.store.manifest.subtasks = [st.name for st in state.subtasks]
    atomic_write_text(ctx.store.path(PLAN_MD), render_plan_md(
        ctx.query, state.subtasks, state.report.groundings, allocation, ctx.pool,
        state.report.rejected, state.log.steps, demands))


STAGE = Stage("allocation", run_allocation, inputs=(GROUNDINGS, SUBTASKS),
              settings=_allocation_settings, outputs=(*PLAN_FILES, ALLOCATION, PLAN_MD), plan=True)
