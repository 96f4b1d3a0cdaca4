"""Running a plan on one sample: step by step, each step on the state the last one left,
with a retry, a fallback to the dataset-level arguments, and CPU-heavy operators on the
execution's backend (a process pool or a Ray cluster: backends.py), so rendering, speech and
transcription use every core while model calls wait."""

from __future__ import annotations

import dataclasses
import hashlib
import random

from benchagent.executor.backends import CpuPool, active_backend, cpu_workers
from benchagent.operators import OpContext, OperatorError, SampleState, get_operator
from benchagent.records import PlanStep

__all__ = ["CpuPool", "cpu_workers", "dataset_steps", "run_op", "run_plan", "step_rng"]


def run_op(step: PlanStep, state: SampleState, ctx: OpContext) -> SampleState:
    """The operator on `state`, with the step's arguments validated against its model first
    (wrong ones raise OperatorError naming them). A CPU operator runs on the execution's
    backend; outside an execution, and any other operator, in the calling thread."""
    op = get_operator(step.operator)
    args = op.parse_args(step.args)
    backend = active_backend() if op.cost_class == "cpu" else None
    if backend is None:
        return op.fn(state, ctx, args)
    return backend.apply(op.name, state, ctx, args)


def step_rng(key: str, index: int, attempt: int) -> random.Random:
    digest = hashlib.sha256(f"{key}|step{index}|{attempt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def dataset_steps(planned: list[PlanStep], fallback: list[PlanStep]) -> list[PlanStep]:
    """The dataset-level step each planned step stands for, by position (the sample planner
    keeps the order and may only drop optional steps)."""
    matched: list[PlanStep] = []
    j = 0
    for step in planned:
        while j < len(fallback) and fallback[j].operator != step.operator:
            j += 1
        matched.append(fallback[j] if j < len(fallback) else step)
        j += 1
    return matched


def run_plan(planned: list[PlanStep], fallback: list[PlanStep], state: SampleState,
             ctx: OpContext, key: str) -> tuple[SampleState, list[PlanStep], list[str]]:
    """The final state, the steps applied (with their arguments) and notes on retries.

    A failed step leaves the state as it was before the step (operators return new states).
    It is retried once: with the dataset-level arguments when the sample planner changed them,
    else as it was (model operators may succeed on a second draw). A second failure rejects
    the sample with the step's reason."""
    applied: list[PlanStep] = []
    notes: list[str] = []
    for index, (step, plain) in enumerate(zip(planned, dataset_steps(planned, fallback),
                                              strict=True)):
        attempts = [step, plain if plain.args != step.args else step]
        for attempt, chosen in enumerate(attempts):
            try:
                state = run_op(chosen, state, dataclasses.replace(
                    ctx, rng=step_rng(key, index, attempt)))
                applied.append(chosen)
                break
            except OperatorError as exc:
                if attempt == len(attempts) - 1:
                    raise OperatorError(f"step {index + 1} ({step.operator}): {exc}") from exc
                how = "as planned" if plain.args == step.args else "with the dataset-level args"
                notes.append(f"step {index + 1} ({step.operator}) failed, retried {how}: "
                             f"{str(exc)[:160]}")
    return state, applied, notes
