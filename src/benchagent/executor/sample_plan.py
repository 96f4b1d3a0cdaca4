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
from benchagent.operators import REGISTRY, SampleState
from benchagent.prompts import render
from benchagent.records import PlanStep, Subtask

SamplePolicy = Literal["model", "rules", "off"]
# Operators whose arguments are worth choosing per sample; the others run as planned.
ADAPTABLE = {"render_text_image", "degrade_image", "crop", "tts", "mix_noise",
             "rewrite_question", "build_context", "synthesize_dialogue", "transform_reasoning",
             "compose_items"}


class StepArgs(BaseModel):
    step: int = Field(ge=1)  # 1-based position in the plan
    args: dict[str, Any] = Field(default_factory=dict)


class SamplePlan(BaseModel):
    reason: str = Field(default="", max_length=300)
    steps: list[StepArgs] = Field(default_factory=list, max_length=8)


def adaptable(plan: list[PlanStep]) -> bool:
    return any(s.operator in ADAPTABLE for s in plan)


_OPTIONAL = {"degrade_image", "mix_noise"}  # "some of them degraded": a per-sample choice


def _rules_args(step: PlanStep, rng: random.Random) -> dict[str, Any]:
    args = dict(step.args)
    if step.operator == "degrade_image":
        base = float(args.get("severity", 0.3))
        args["severity"] = round(rng.uniform(base * 0.5, min(1.0, base * 1.5)), 2)
    elif step.operator == "mix_noise":
        base = float(args.get("snr_db", 10))
        args["snr_db"] = round(rng.uniform(base - 5, base + 10))
    return args


def rules_plan(plan: list[PlanStep], rng: random.Random) -> list[PlanStep]:
    """Per-sample variety where the plan leaves it open: about a third of the items skip the
    optional degradation, the rest get a severity or SNR drawn around the planned one."""
    return [PlanStep(operator=s.operator, args=_rules_args(s, rng)) for s in plan
            if not (s.operator in _OPTIONAL and rng.random() < 0.34)]


def _check(plan: list[PlanStep]) -> Any:
    def check(out: SamplePlan) -> None:
        for item in out.steps:
            if item.step > len(plan):
                raise ValueError(f"step {item.step} does not exist: the plan has {len(plan)}")
            op = REGISTRY[plan[item.step - 1].operator]
            unknown = sorted(set(item.args) - set(op.params))
            if unknown:
                raise ValueError(f"step {item.step} ({op.name}) takes no argument "
                                 f"{', '.join(unknown)}; it takes {', '.join(op.params) or 'none'}")
    return check


def model_plan(client: ModelClient, plan: list[PlanStep], state: SampleState, subtask: Subtask,
               seed: int) -> list[PlanStep]:
    """Raises StructuredOutputError when the model's arguments stay invalid."""
    prompt = render("sample_plan.j2", subtask=subtask, state=state, plan=plan,
                    params={s.operator: REGISTRY[s.operator].params for s in plan})
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
