"""A pair whose first candidates all fail the same check stops early, the same way in any run;
and its shortfall says why."""

from __future__ import annotations

from typing import Any

from benchagent.executor.assemble import assemble
from benchagent.executor.run import SYSTEMATIC_AFTER, PairState
from benchagent.records import Allocation, CheckResult, Quota, SampleOutcome, SourceSample


def _state(quota: int = 40) -> PairState:
    queue = [(i, SourceSample(dataset_id="d", source_id=f"s{i}", question=f"q{i}", answer="a"))
             for i in range(200)]
    job: Any = None  # wants_more never looks at the job
    return PairState(job=job, quota=quota, queue=queue, budget=quota * 5)


def _rejected(i: int, check: str = "answer_type") -> SampleOutcome:
    return SampleOutcome(key=f"t|d|s{i}", subtask="t", dataset_id="d", source_id=f"s{i}",
                         rank=i, accepted=False,
                         checks=[CheckResult(check=check, passed=False,
                                             reason="yes_no item in a multiple_choice subtask")])


def _submit(state: PairState) -> None:
    state.queue.pop(0)
    state.in_flight += 1


def test_the_first_candidates_decide_before_more_are_tried() -> None:
    state = _state()
    while state.wants_more(oversample=1.5):
        _submit(state)
    assert state.in_flight == SYSTEMATIC_AFTER  # no candidate beyond them while undecided
    for i in range(SYSTEMATIC_AFTER):
        state.in_flight -= 1
        state.record_rejection(_rejected(i))
    assert state.systematic_failure() == "answer_type"
    assert not state.wants_more(oversample=1.5)


def test_mixed_reasons_or_one_acceptance_keep_the_pair_going() -> None:
    for last in ("duplicate", None):
        state = _state()
        for i in range(SYSTEMATIC_AFTER - 1):
            state.record_rejection(_rejected(i))
        if last is None:
            state.accepted += 1
        else:
            state.record_rejection(_rejected(99, last))
        assert state.systematic_failure() is None
        assert state.wants_more(oversample=1.5)


def test_the_shortfall_names_the_systematic_check() -> None:
    allocation = Allocation(target_size=40, quotas=[
        Quota(subtask="t", dataset_id="d", quota=40, capacity=200)])
    result = assemble(allocation, [], [_rejected(i) for i in range(SYSTEMATIC_AFTER)])
    assert len(result.shortfalls) == 1
    cause = result.shortfalls[0].cause
    assert cause.startswith("stopped early, the plan does not fit this dataset: the first 12 "
                            "candidates all failed the answer_type check"), cause
