"""The grounding stage: a scored, type-checked transformation plan per (subtask, dataset), with
Design feedback for the subtasks no dataset serves (plan/groundings.json)."""

from __future__ import annotations

from typing import Any

from benchagent.planner.design import DesignLog
from benchagent.planner.feedback import PlannerSetup, PlanState, ground_designed
from benchagent.records import DesignStep, Subtask
from benchagent.stages.context import BuildContext
from benchagent.stages.engine import Stage, StageRun
from benchagent.stages.paths import DESIGN_LOG, GROUNDINGS, REJECTED_PLANS, SUBTASKS

PLAN_FILES = (SUBTASKS, GROUNDINGS, REJECTED_PLANS, DESIGN_LOG)


def planner_setup(ctx: BuildContext) -> PlannerSetup:
    s, models = ctx.settings, ctx.models
    return PlannerSetup(query=ctx.query, pool=ctx.pool, design=models.get("design"),
                        grounding=models.get("grounding"), allocation=models.get("allocation"),
                        seed=s.seed, rounds=s.planner_rounds, max_subtasks=s.max_subtasks,
                        ablate_design=ctx.ablated("design"),
                        ablate_scoring=ctx.ablated("plan-scoring"),
                        with_executor_model=models.get("executor") is not None,
                        rejection_rate=1 - 1 / s.oversample,
                        include_related=s.include_related)


def write_plan_state(ctx: BuildContext, state: PlanState) -> None:
    ctx.write(SUBTASKS, state.subtasks)
    ctx.write(GROUNDINGS, state.report.groundings)
    ctx.write(REJECTED_PLANS, state.report.rejected)
    ctx.write(DESIGN_LOG, state.log.steps)


def _grounding_settings(ctx: BuildContext) -> tuple[Any, ...]:
    return (ctx.label("grounding"), ctx.label("executor"), ctx.seed, ctx.fingerprint,
            ctx.ablated("plan-scoring"), ctx.settings.planner_rounds,
            ctx.settings.include_related)


def design_log(ctx: BuildContext) -> DesignLog:
    exists = ctx.store.path(DESIGN_LOG).exists()
    return DesignLog(ctx.read_list(DESIGN_LOG, DesignStep) if exists else [])


def run_grounding(ctx: BuildContext, mode: StageRun) -> None:
    state = ground_designed(planner_setup(ctx), ctx.read_list(SUBTASKS, Subtask), design_log(ctx))
    write_plan_state(ctx, state)


STAGE = Stage("grounding", run_grounding, inputs=(SUBTASKS,), settings=_grounding_settings,
              outputs=PLAN_FILES, plan=True)
