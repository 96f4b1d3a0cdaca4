"""Execution: every allocated pair draws candidates in a fixed order until its quota is verified.

Outcomes are appended (and synced) to samples/accepted.jsonl and samples/rejected.jsonl as
they come, so a killed run resumes where it stopped: a processed candidate is never redone.
Candidates are submitted in rank order and the final benchmark takes, per pair, the first
`quota` accepted by rank, so the result does not depend on when a run was killed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from benchagent.executor.sample import PairJob, process_candidate
from benchagent.records import SampleOutcome, SourceSample
from benchagent.store import JsonlAppender

Pair = tuple[str, str]
# A pair whose first candidates all fail the same check stops there: the plan does not fit.
SYSTEMATIC_AFTER = 12
# Called after every submission (outcome None) and every outcome, with in-flight per subtask.
ProgressFn = Callable[[SampleOutcome | None, dict[str, int]], None]


@dataclass
class PairState:
    job: PairJob
    quota: int
    queue: list[tuple[int, SourceSample]]  # (rank, sample) not processed yet, in rank order
    budget: int  # candidates that may be tried in all, so a harsh verifier cannot run forever
    accepted: int = 0
    in_flight: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def wants_more(self, oversample: float) -> bool:
        missing = self.quota - self.accepted
        headroom = math.ceil(max(missing, 0) * (oversample - 1.0))
        tried = self.accepted + self.rejected + self.in_flight
        if self.systematic_failure() is not None:
            return False
        if self._may_be_systematic() and tried >= SYSTEMATIC_AFTER:
            return False  # the first candidates decide first, so any run tries the same ones
        return (missing > 0 and bool(self.queue) and tried < self.budget
                and self.accepted + self.in_flight < self.quota + headroom)

    def _may_be_systematic(self) -> bool:
        return self.accepted == 0 and len(self.reasons) <= 1 and self.rejected < SYSTEMATIC_AFTER

    def systematic_failure(self) -> str | None:
        """The check every one of the first candidates failed, when none passed."""
        if self.accepted == 0 and len(self.reasons) == 1 and self.rejected >= SYSTEMATIC_AFTER:
            return next(iter(self.reasons))
        return None

    def record_rejection(self, outcome: SampleOutcome) -> None:
        self.rejected += 1
        self.reasons[failed_check(outcome)] += 1


def execute(pairs: dict[Pair, PairState], accepted_out: JsonlAppender,
            rejected_out: JsonlAppender, concurrency: int, oversample: float,
            on_outcome: ProgressFn | None = None) -> None:
    futures: dict[Future[SampleOutcome], Pair] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sample") as pool:
        while True:
            _fill(pairs, futures, pool, concurrency, oversample)
            if on_outcome:
                on_outcome(None, in_flight(pairs))
            if not futures:
                return
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                pair = futures.pop(future)
                outcome = future.result()
                _record(pairs[pair], outcome, accepted_out, rejected_out)
                if on_outcome:
                    on_outcome(outcome, in_flight(pairs))


def in_flight(pairs: dict[Pair, PairState]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for (subtask, _), state in pairs.items():
        counts[subtask] += state.in_flight
    return dict(counts)


def _fill(pairs: dict[Pair, PairState], futures: dict[Future[SampleOutcome], Pair],
          pool: ThreadPoolExecutor, concurrency: int, oversample: float) -> None:
    progressed = True
    while len(futures) < concurrency and progressed:
        progressed = False
        for pair, state in pairs.items():  # round-robin, so every pair streams from the start
            if len(futures) >= concurrency:
                break
            if state.wants_more(oversample):
                rank, source = state.queue.pop(0)
                state.in_flight += 1
                futures[pool.submit(process_candidate, source, rank, state.job)] = pair
                progressed = True


def _record(state: PairState, outcome: SampleOutcome, accepted_out: JsonlAppender,
            rejected_out: JsonlAppender) -> None:
    state.in_flight -= 1
    row = outcome.model_dump(mode="json")
    if outcome.accepted:
        state.accepted += 1
        accepted_out.append(row)
    else:
        state.record_rejection(outcome)
        rejected_out.append(row)


def failed_check(outcome: SampleOutcome) -> str:
    failed = next((c for c in outcome.checks if not c.passed), None)
    return failed.check if failed else "unknown"
