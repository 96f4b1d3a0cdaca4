"""The design stage: the request split into subtasks (plan/subtasks.json)."""

from __future__ import annotations

from typing import Any

from benchagent.planner.design_loop import design
from benchagent.planner.relevance import RELATED, RELEVANT
from benchagent.stages.context import BuildContext
from benchagent.stages.engine import Stage, StageRun
from benchagent.stages.paths import DESIGN_LOG, SUBTASKS


def _design_settings(ctx: BuildContext) -> tuple[Any, ...]:
    s = ctx.settings
    return (ctx.query.model_dump(), ctx.label("design"), s.max_subtasks, s.seed,
            ctx.fingerprint, ctx.ablated("design"), s.include_related)


def run_design(ctx: BuildContext, mode: StageRun) -> None:
    s = ctx.settings
    subtasks, log = design(ctx.query, ctx.pool, ctx.models.get("design"), s.max_subtasks,
                           s.seed, ablate=ctx.ablated("design"),
                           floor=RELATED if s.include_related else RELEVANT)
    ctx.write(SUBTASKS, subtasks)
    ctx.write(DESIGN_LOG, log.steps)


STAGE = Stage("design", run_design, settings=_design_settings, outputs=(SUBTASKS, DESIGN_LOG),
              plan=True)
