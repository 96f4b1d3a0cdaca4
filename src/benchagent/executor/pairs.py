"""The execution state of every allocated (subtask, dataset) pair: its job, its queue of source
samples in rank order and what was already processed; near-duplicate rejection across pairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchagent.executor.assemble import chosen_outcomes
from benchagent.executor.dedup import near_duplicates
from benchagent.executor.itemtext import unsaid_task
from benchagent.executor.run import PairState
from benchagent.executor.sample import PairJob, outcome_key
from benchagent.executor.sample_plan import SamplePolicy
from benchagent.executor.verify import VerifyLayers
from benchagent.models import ModelClient
from benchagent.records import (
    Allocation,
    CheckResult,
    DatasetCard,
    Grounding,
    Quota,
    SampleOutcome,
    SourceSample,
    Subtask,
)
from benchagent.store import JsonlAppender

Pair = tuple[str, str]


@dataclass(frozen=True)
class ExecutionSetup:
    """What every pair's job shares: the run, the seed, the models and the ablations."""

    run_dir: Path
    seed: int
    executor: ModelClient | None
    verifier: ModelClient | None
    models_used: list[str]
    sample_policy: SamplePolicy
    layers: VerifyLayers
    attempts_per_item: int


@dataclass(frozen=True)
class PairSources:
    """Each pair's source samples in the order they are tried, and each dataset's card."""

    ordered: dict[Pair, list[SourceSample]]
    cards: dict[str, DatasetCard]


def _siblings(pool_samples: list[SourceSample]) -> Callable[[int], list[SourceSample]]:
    """Extra samples for operators that compose several into one item: taken from the end of
    the pair's candidate order, the part least likely to be needed as items of their own."""
    def take(n: int) -> list[SourceSample]:
        return pool_samples[-n:] if n > 0 else []
    return take


def _job(setup: ExecutionSetup, subtask: Subtask, grounding: Grounding, card: DatasetCard,
         ordered: list[SourceSample], instruction: str) -> PairJob:
    return PairJob(subtask=subtask, grounding=grounding, card=card,
                   answer_space=sorted({s.answer for s in ordered}), instruction=instruction,
                   run_dir=setup.run_dir, seed=setup.seed, verifier=setup.verifier,
                   models_used=setup.models_used, executor=setup.executor,
                   sample_policy=setup.sample_policy, layers=setup.layers,
                   siblings=_siblings(ordered),
                   unsaid_task=unsaid_task(card.description, ordered))


def _pair_state(setup: ExecutionSetup, quota: Quota, job: PairJob, ordered: list[SourceSample],
                done: dict[str, SampleOutcome]) -> PairState:
    state = PairState(job=job, quota=quota.quota, queue=[],
                      budget=quota.quota * setup.attempts_per_item)
    for rank, source in enumerate(ordered):
        prior = done.get(outcome_key(quota.subtask, quota.dataset_id, source.source_id))
        if prior is None:
            state.queue.append((rank, source))
        elif prior.accepted:
            state.accepted += 1
        else:
            state.record_rejection(prior)
    return state


def pair_states(setup: ExecutionSetup, plan: tuple[list[Subtask], list[Grounding], Allocation],
                sources: PairSources, instructions: dict[str, str],
                done: list[SampleOutcome]) -> dict[Pair, PairState]:
    """Every allocated pair with its candidates in rank order, skipping the candidates `done`
    already holds. Each quota must have its grounding (the caller checks)."""
    subtasks, groundings, allocation = plan
    by_key = {o.key: o for o in done}
    by_name = {st.name: st for st in subtasks}
    by_pair: dict[Pair, Grounding] = {}
    for g in groundings:
        by_pair.setdefault((g.subtask, g.dataset_id), g)
    states = {}
    for q in allocation.quotas:
        pair = (q.subtask, q.dataset_id)
        ordered = sources.ordered[pair]
        job = _job(setup, by_name[q.subtask], by_pair[pair], sources.cards[q.dataset_id],
                   ordered, instructions[q.subtask])
        states[pair] = _pair_state(setup, q, job, ordered, by_key)
    return states


def reject_duplicates(allocation: Allocation, accepted: list[SampleOutcome],
                      rejected: list[SampleOutcome], states: dict[Pair, PairState],
                      rejected_out: JsonlAppender) -> int:
    """Reject near-duplicates among the samples the benchmark would take; their pairs then
    draw replacements. Returns how many were rejected."""
    chosen = chosen_outcomes(allocation, accepted, rejected)
    # character n-grams: embedding 500 items takes minutes on these cores
    dropped = near_duplicates([o.sample for o in chosen if o.sample is not None], embedder=None)
    for outcome in chosen:
        if outcome.sample is None or outcome.sample.id not in dropped:
            continue
        check = CheckResult(check="near_duplicate", passed=False,
                            reason=f"near-duplicate of {dropped[outcome.sample.id]}")
        row = outcome.model_copy(update={"accepted": False, "checks": [*outcome.checks, check]})
        rejected_out.append(row.model_dump(mode="json"))
        state = states[(outcome.subtask, outcome.dataset_id)]
        state.accepted -= 1
        state.rejected += 1
        state.reasons["near_duplicate"] += 1
    return len(dropped)
