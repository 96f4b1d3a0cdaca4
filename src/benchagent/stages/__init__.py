"""The build engine: one table of stages, each with its inputs, key settings, outputs and
function; `build` and `resume` walk it. A new stage is one module and one row here."""

from benchagent.stages import allocation, benchmark, design, direct, execution, grounding
from benchagent.stages.context import BuildContext, ProgressFactory, no_progress
from benchagent.stages.engine import Stage, StageRun, run_stage, run_stages

STAGES: tuple[Stage, ...] = (
    design.STAGE,
    grounding.STAGE,
    allocation.STAGE,
    execution.STAGE,
    benchmark.STAGE,
)
PLAN_STAGES = tuple(s.name for s in STAGES if s.plan)
DIRECT_STAGES = direct.DIRECT_STAGES  # `build --baseline direct`: one prompt, one stage

__all__ = ["DIRECT_STAGES", "PLAN_STAGES", "STAGES", "BuildContext", "ProgressFactory", "Stage",
           "StageRun", "no_progress", "run_stage", "run_stages"]
