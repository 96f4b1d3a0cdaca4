"""The allocation agent: the integer program, its diagnosis and relaxations, the two policies."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from tests.conftest import MockFactory

from benchagent.models import MockProvider, MockRule
from benchagent.planner.allocation import (
    AllocationInfeasible,
    allocate,
    build_problem,
    diagnose,
    pair_candidates,
    solve,
    split_dataset,
)
from benchagent.pool import Pool
from benchagent.pool.base import LoadedDataset
from benchagent.records import (
    Allocation,
    DatasetCard,
    Grounding,
    Modality,
    Query,
    SourceSample,
    Subtask,
)
from benchagent.trace import Trace


def _pool(sizes: dict[str, int]) -> Pool:
    datasets = []
    for did, n in sizes.items():
        card = DatasetCard(id=did, name=did, format="jsonl", source=did, size=n)
        samples = tuple(SourceSample(dataset_id=did, source_id=f"{did}-{i}", question="q",
                                     answer="a") for i in range(n))
        datasets.append(LoadedDataset(card, samples))
    return Pool(datasets)


def _sub(name: str, modality: Modality = Modality.text) -> Subtask:
    return Subtask(name=name, description=f"{name} questions.", modalities=[modality])


def _ground(*pairs: tuple[str, str]) -> list[Grounding]:
    return [Grounding(subtask=s, dataset_id=d, score=1.0, reason="test", plan=[])
            for s, d in pairs]


def _quota(allocation: Allocation, subtask: str, dataset: str | None = None) -> int:
    return sum(q.quota for q in allocation.quotas
               if q.subtask == subtask and dataset in (None, q.dataset_id))


SHARED = (_pool({"a": 100, "b": 100, "c": 100, "d": 30, "e": 500}),
          [_sub("A"), _sub("B"), _sub("C")],
          _ground(("A", "a"), ("A", "b"), ("A", "c"), ("B", "d"), ("C", "e"), ("B", "e")))


@pytest.mark.parametrize("target", [1, 7, 200, 600])
def test_exact_sum_capacity_and_shared_dataset(target: int) -> None:
    pool, subtasks, groundings = SHARED
    allocation = solve(subtasks, groundings, pool, target, 0)
    assert sum(q.quota for q in allocation.quotas) == target == allocation.target_size
    per_dataset: Counter[str] = Counter()
    for q in allocation.quotas:
        per_dataset[q.dataset_id] += q.quota
        assert q.quota <= q.capacity
    usable = {d: math.floor(len(pool.samples(d)) * 0.8) for d in "abcde"}
    assert all(per_dataset[d] <= usable[d] for d in usable), per_dataset
    order = pair_candidates(groundings, pool, 0, allocation)
    e_ids = order[("B", "e")] + order[("C", "e")]
    assert len(e_ids) == len(set(e_ids))  # the shared dataset split, no sample used twice
    assert len(e_ids) == (500 if _quota(allocation, "B", "e") + _quota(allocation, "C", "e")
                          else 0)
    for q in allocation.quotas:
        assert len(order[(q.subtask, q.dataset_id)]) == q.capacity >= q.quota


def test_a_shared_dataset_is_not_oversubscribed_when_both_subtasks_want_it() -> None:
    pool = _pool({"shared": 100, "own": 10})
    groundings = _ground(("A", "shared"), ("B", "shared"), ("B", "own"))
    allocation = solve([_sub("A"), _sub("B")], groundings, pool, 88, 0)
    assert _quota(allocation, "A", "shared") + _quota(allocation, "B", "shared") == 80
    assert _quota(allocation, "B", "own") == 8
    assert (_quota(allocation, "A"), _quota(allocation, "B")) == (44, 44)


def test_minimums_hold_against_the_weights() -> None:
    pool = _pool({"a": 200, "b": 200})
    groundings = _ground(("A", "a"), ("B", "b"))
    skewed = solve([_sub("A"), _sub("B")], groundings, pool, 100, 0, {"A": 10.0, "B": 0.1})
    assert _quota(skewed, "B") == 25  # the default minimum: half an equal share
    held = solve([_sub("A"), _sub("B")], groundings, pool, 100, 0, {"A": 10.0, "B": 0.1},
                 minimums={"B": 40})
    assert (_quota(held, "A"), _quota(held, "B")) == (60, 40)
    assert "minimum per subtask: A 25, B 40" in held.notes


def test_a_subtask_is_spread_evenly_over_its_datasets() -> None:
    pool = _pool({"x": 300, "y": 300, "z": 300, "tiny": 3})
    allocation = solve([_sub("A")], _ground(("A", "x"), ("A", "y"), ("A", "z")), pool, 31, 0)
    assert sorted(_quota(allocation, "A", d) for d in "xyz") == [10, 10, 11]
    capped = solve([_sub("A")], _ground(("A", "tiny"), ("A", "x"), ("A", "y")), pool, 30, 0)
    assert [_quota(capped, "A", d) for d in ("tiny", "x", "y")] == [2, 14, 14]


def test_no_single_move_makes_a_random_plan_more_even() -> None:
    rng = random.Random(3)
    sizes = {f"d{i}": rng.randint(5, 80) for i in range(12)}
    pool = _pool(sizes)
    names = [f"S{j}" for j in range(5)]
    pairs = {(s, d) for s in names for d in rng.sample(sorted(sizes), rng.randint(1, 5))}
    groundings = _ground(*sorted(pairs))
    allocation = solve([_sub(n) for n in names], groundings, pool, 150, 0,
                       {n: rng.choice([0.5, 1.0, 2.0]) for n in names})
    assert sum(q.quota for q in allocation.quotas) == 150
    used: Counter[str] = Counter()
    for q in allocation.quotas:
        used[q.dataset_id] += q.quota
    slack = {d: math.floor(n * 0.8) - used[d] for d, n in sizes.items()}
    assert min(slack.values()) >= 0
    for hi in allocation.quotas:
        for lo in allocation.quotas:
            if hi.subtask == lo.subtask and slack[lo.dataset_id] > 0:
                assert hi.quota - lo.quota <= 1, (hi, lo)


def test_target_beyond_the_data_is_diagnosed_with_numbers() -> None:
    pool = _pool({"t": 100, "d": 165})
    subtasks = [_sub("Temporal"), _sub("Dates")]
    with pytest.raises(AllocationInfeasible) as caught:
        solve(subtasks, _ground(("Temporal", "t"), ("Dates", "d")), pool, 500, 0)
    message = str(caught.value)
    assert ("target 500 > usable capacity 212 (Temporal: 80, Dates: 132) after 20% headroom "
            "for verification losses") in message
    assert "265" in message and "\n" not in message
    feedback = caught.value.feedback
    assert feedback.needs_more_datasets == ["Temporal", "Dates"]
    assert feedback.drop_or_merge == []
    assert [d.kind for d in feedback.diagnosis if d.upstream] == ["capacity"]


def test_a_modality_the_pool_cannot_serve_is_diagnosed() -> None:
    pool = _pool({"t": 100})
    listening = _sub("Listening", Modality.audio)
    with pytest.raises(AllocationInfeasible) as caught:
        solve([listening], [], pool, 10, 0)
    assert "no dataset in the pool serves 'Listening' (audio input)" in str(caught.value)
    assert caught.value.feedback.drop_or_merge == ["Listening"]
    kept = solve([listening, _sub("Reading")], _ground(("Reading", "t")), pool, 10, 0)
    assert _quota(kept, "Reading") == 10
    assert any("dropped 'Listening'" in n for n in kept.notes)


def test_a_minimum_above_capacity_is_relaxed_and_said_so() -> None:
    pool = _pool({"small": 9, "big": 500})
    groundings = _ground(("X", "small"), ("Y", "big"))
    problem = build_problem([_sub("X"), _sub("Y")], groundings, pool, 60, minimums={"X": 20})
    assert [i.detail for i in diagnose(problem)] == [
        "minimum 20 for 'X' exceeds its usable capacity 7"]
    allocation = solve([_sub("X"), _sub("Y")], groundings, pool, 60, 0, minimums={"X": 20})
    assert (_quota(allocation, "X"), _quota(allocation, "Y")) == (7, 53)
    assert "relaxed: minimum for 'X' lowered from 20 to its usable capacity 7" in allocation.notes
    assert any("'X' gets 7 items, below its weighted share 30.0" in n for n in allocation.notes)


def test_minimums_a_shared_dataset_cannot_hold_are_missed_by_the_least() -> None:
    pool = _pool({"s": 50, "c": 500})
    allocation = solve([_sub("A"), _sub("B"), _sub("C")],
                       _ground(("A", "s"), ("B", "s"), ("C", "c")), pool, 100, 0,
                       minimums={"A": 30, "B": 30, "C": 10})
    assert [_quota(allocation, n) for n in "ABC"] == [30, 10, 60]  # s holds 40 usable samples
    assert ("relaxed: minimum for 'B' not met, 10 of 30: the datasets it shares cannot serve "
            "every minimum and the target") in allocation.notes


def test_headroom_is_lowered_only_when_the_data_is_tight() -> None:
    pool = _pool({"a": 50, "b": 50})
    allocation = solve([_sub("A"), _sub("B")], _ground(("A", "a"), ("B", "b")), pool, 90, 0)
    assert sum(q.quota for q in allocation.quotas) == 90
    assert any("headroom for verification losses lowered from 20% to 10%" in n
               for n in allocation.notes)
    roomy = solve([_sub("A"), _sub("B")], _ground(("A", "a"), ("B", "b")), pool, 80, 0)
    assert not any(n.startswith("relaxed") for n in roomy.notes)


def test_a_target_below_the_subtask_count() -> None:
    pool, subtasks, groundings = SHARED
    allocation = solve(subtasks, groundings, pool, 2, 0)
    assert [_quota(allocation, n) for n in "ABC"] == [1, 1, 0]
    assert "'C' gets no item: the target 2 is below the 3 subtasks" in allocation.notes
    assert any(n.startswith("relaxed: minimums lowered") for n in allocation.notes)


def test_the_plan_is_deterministic_and_ignores_grounding_order() -> None:
    pool, subtasks, groundings = SHARED
    first = solve(subtasks, groundings, pool, 123, 0)
    assert solve(subtasks, groundings, pool, 123, 0) == first
    assert solve(subtasks, groundings[::-1], pool, 123, 5).quotas == first.quotas


def test_split_dataset_is_proportional_and_covers_each_quota() -> None:
    assert split_dataset(100, [10, 30]) == [25, 75]
    assert split_dataset(10, [1, 1, 1]) == [4, 3, 3]
    assert split_dataset(10, [0, 0]) == [0, 0]
    assert split_dataset(7, [0, 5]) == [0, 7]


def test_candidates_without_an_allocation_split_evenly() -> None:
    pool, _, groundings = SHARED
    order = pair_candidates(groundings, pool, 0)
    assert len(order[("C", "e")]) == len(order[("B", "e")]) == 250
    assert order == pair_candidates(groundings, pool, 0)


QUERY = Query(id="q", description="questions about time", target_size=50)


def test_model_weights_shift_the_quotas(mock_client: MockFactory) -> None:
    pool = _pool({"a": 200, "b": 200})
    groundings = _ground(("A", "a"), ("B", "b"))
    subtasks = [_sub("A"), _sub("B")]
    rules = allocate(QUERY, subtasks, groundings, pool, 50, None)
    assert (_quota(rules, "A"), _quota(rules, "B")) == (25, 25)
    client = mock_client(MockRule("Allocation agent", {"weights": {"A": 4.0, "B": 1.0},
                                                       "minimums": None}))
    advised = allocate(QUERY, subtasks, groundings, pool, 50, client)
    assert (_quota(advised, "A"), _quota(advised, "B")) == (38, 12)  # B: minimum 12 > share 10
    assert isinstance(client.provider, MockProvider)
    prompt = client.provider.calls[0].messages[0]["content"]
    assert "Usable: 160 from 1 dataset(s); minimum 12." in prompt
    assert "20% of every dataset is kept in reserve" in prompt


def test_model_minimums_are_used(mock_client: MockFactory) -> None:
    pool = _pool({"a": 200, "b": 200})
    client = mock_client(MockRule("Allocation agent", {"weights": {"A": 4.0, "B": 1.0},
                                                       "minimums": {"A": 1, "B": 2}}))
    advised = allocate(QUERY, [_sub("A"), _sub("B")], _ground(("A", "a"), ("B", "b")), pool,
                       50, client)
    assert (_quota(advised, "A"), _quota(advised, "B")) == (40, 10)
    assert "minimum per subtask: A 1, B 2" in advised.notes


def test_invalid_advice_falls_back_to_equal_weights(mock_client: MockFactory) -> None:
    trace = Trace()
    client = mock_client(MockRule("Allocation agent", "no idea"), repair_rounds=1, trace=trace)
    allocation = allocate(QUERY, [_sub("A"), _sub("B")], _ground(("A", "a"), ("B", "b")),
                          _pool({"a": 200, "b": 200}), 50, client)
    assert (_quota(allocation, "A"), _quota(allocation, "B")) == (25, 25)
    assert any(e.get("event") == "decision" and e.get("outcome") == "fallback"
               for e in trace.events)
