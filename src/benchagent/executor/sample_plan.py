"""Sample-level planning: the dataset-level plan adapted to one source sample.

The planner may choose arguments for the plan's steps, never add, drop or reorder a step.
Policies: `model` (the executor model reads the sample and sets arguments), `rules` (seeded
per-sample choices: how hard to degrade an image, how loud the noise, whether at all), and
`off` (`--ablate sample-planning`: the dataset-level plan as it is).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, Field

from benchagent.models import ModelClient, ask_or_fallback
from benchagent.operators import REGISTRY, Operator, SampleState, arg_problems
from benchagent.operators.args import arg_summaries
from benchagent.prompts import render
from benchagent.records import PlanStep, Subtask

SamplePolicy = Literal["model", "rules", "off"]


class StepArgs(BaseModel):
    step: int = Field(ge=1)  # 1-based position in the plan
    args: dict[str, Any] = Field(default_factory=dict)


class SamplePlan(BaseModel):
    reason: str = Field(default="", max_length=300)
    steps: list[StepArgs] = Field(default_factory=list, max_length=8)


def adaptable(plan: list[PlanStep]) -> bool:
    """Whether any step's arguments are worth choosing per sample (its `adaptable` trait)."""
    return any(s.operator in REGISTRY and REGISTRY[s.operator].traits.adaptable for s in plan)


def _skipped(step: PlanStep, rng: random.Random) -> bool:
    """An optional step ("some of them degraded") is left out of about a third of the items."""
    op = REGISTRY.get(step.operator)
    return op is not None and op.traits.optional and rng.random() < 0.34


def _varied(step: PlanStep, rng: random.Random) -> PlanStep:
    """The step with the arguments its operator's `vary` draws (those it set that the plan did
    not, or set to a new value); the others keep their planned form. A step whose arguments do
    not validate is left for the executor to reject."""
    op: Operator[Any] | None = REGISTRY.get(step.operator)
    if op is None or op.vary is None or arg_problems(op.args, step.args):
        return step
    planned = op.args.model_validate(step.args)
    varied = op.vary(planned, rng)
    added = varied.model_fields_set - planned.model_fields_set
    changed = {name: getattr(varied, name) for name in op.args.model_fields
               if name in added or getattr(varied, name) is not getattr(planned, name)}
    return PlanStep(operator=step.operator, args={**step.args, **changed})


def rules_plan(plan: list[PlanStep], rng: random.Random) -> list[PlanStep]:
    """Per-sample variety where the plan leaves it open: about a third of the items skip the
    optional degradation, the rest get a severity or SNR drawn around the planned one."""
    return [_varied(s, rng) for s in plan if not _skipped(s, rng)]


def _check(plan: list[PlanStep]) -> Any:
    def check(out: SamplePlan) -> None:
        for item in out.steps:
            if item.step > len(plan):
                raise ValueError(f"step {item.step} does not exist: the plan has {len(plan)}")
            step = plan[item.step - 1]
            op = REGISTRY[step.operator]
            takes = list(op.args.model_fields)
            unknown = sorted(set(item.args) - set(takes))
            if unknown:
                raise ValueError(f"step {item.step} ({op.name}) takes no argument "
                                 f"{', '.join(unknown)}; it takes {', '.join(takes) or 'none'}")
            wrong = [reason for name, reason in arg_problems(op.args, {**step.args, **item.args})
                     if name in item.args]
            if wrong:
                raise ValueError(f"step {item.step} ({op.name}): {'; '.join(wrong)}")
    return check


def _arg_text(summary: dict[str, str]) -> str:
    parts = [summary["type"], f"default {summary['default']}", summary["range"]]
    return ", ".join(p for p in parts if p)


def model_plan(client: ModelClient, plan: list[PlanStep], state: SampleState, subtask: Subtask,
               seed: int) -> list[PlanStep]:
    """Raises StructuredOutputError when the model's arguments stay invalid."""
    prompt = render("sample_plan.j2", subtask=subtask, state=state, plan=plan,
                    params={s.operator: {a["name"]: _arg_text(a)
                                         for a in arg_summaries(REGISTRY[s.operator].args)}
                            for s in plan})
    out = client.generate([{"role": "user", "content": prompt}], SamplePlan, role="executor",
                          check=_check(plan), seed=seed, max_tokens=300)
    chosen = {item.step: item.args for item in out.steps}
    return [PlanStep(operator=s.operator, args={**s.args, **chosen.get(i + 1, {})})
            for i, s in enumerate(plan)]


def plan_sample(policy: SamplePolicy, plan: list[PlanStep], state: SampleState,
                subtask: Subtask, client: ModelClient | None, rng: random.Random,
                seed: int) -> tuple[list[PlanStep], str]:
    """The plan to run on this sample and who set its arguments (model / rules / dataset)."""
    if policy == "off" or not adaptable(plan):
        return plan, "dataset"
    return ask_or_fallback(client if policy == "model" else None, "executor",
                           lambda c: (model_plan(c, plan, state, subtask, seed), "model"),
                           lambda _: (rules_plan(plan, rng), "rules"))
