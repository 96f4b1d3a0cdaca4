"""Running a plan on one sample: step by step, each step on the state the last one left,
with a retry, a fallback to the dataset-level arguments, and CPU-heavy operators in a process
pool (so rendering, speech and transcription use every core while model calls wait)."""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from benchagent.operators import OpContext, OperatorArgs, OperatorError, SampleState, get_operator
from benchagent.records import PlanStep, SourceSample

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_users = 0
SIBLINGS_SHIPPED = 16  # sibling samples a worker process may ask for


def cpu_workers() -> int:
    """$BENCHAGENT_CPU_WORKERS, else one per core; 0 runs CPU operators in the calling thread."""
    env = os.environ.get("BENCHAGENT_CPU_WORKERS")
    return int(env) if env else (os.cpu_count() or 1)


class CpuPool:
    """The process pool for CPU operators, shared by the threads of one execution and created
    only when a CPU operator first runs (a text-only build never starts one)."""

    def __enter__(self) -> CpuPool:
        global _pool_users
        with _pool_lock:
            _pool_users += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _pool, _pool_users
        with _pool_lock:
            _pool_users -= 1
            if _pool_users == 0 and _pool is not None:
                _pool.shutdown(wait=True, cancel_futures=True)
                _pool = None


def _get_pool() -> ProcessPoolExecutor | None:
    global _pool
    workers = cpu_workers()
    if workers <= 0 or _pool_users == 0:
        return None
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=workers,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_die_with_parent, initargs=(os.getpid(),))
        return _pool


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: exit once the build process is gone (killed by SIGKILL)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _discard(pool: ProcessPoolExecutor) -> None:
    """A broken pool (a worker died) is dropped; the next CPU step starts a new one."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


@dataclasses.dataclass(frozen=True)
class _Siblings:
    """ctx.siblings for a worker process: the samples drawn in the parent, picklable."""

    samples: tuple[SourceSample, ...]

    def __call__(self, n: int) -> list[SourceSample]:
        return list(self.samples[max(len(self.samples) - n, 0):]) if n > 0 else []


def _apply(name: str, state: SampleState, ctx: OpContext, args: OperatorArgs) -> SampleState:
    return get_operator(name).fn(state, ctx, args)


def run_op(step: PlanStep, state: SampleState, ctx: OpContext) -> SampleState:
    """The operator on `state`, with the step's arguments validated against its model first
    (wrong ones raise OperatorError naming them)."""
    op = get_operator(step.operator)
    args = op.parse_args(step.args)
    pool = _get_pool() if op.cost_class == "cpu" else None
    if pool is None:
        return op.fn(state, ctx, args)
    siblings = _Siblings(tuple(ctx.siblings(SIBLINGS_SHIPPED))) if ctx.siblings else None
    portable = dataclasses.replace(ctx, model=None, siblings=siblings)
    try:
        return pool.submit(_apply, op.name, state, portable, args).result()
    except BrokenProcessPool as exc:
        _discard(pool)
        raise OperatorError(f"{op.name}: the worker process died ({exc})") from exc


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
