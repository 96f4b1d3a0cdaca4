"""Allocation agent: quotas per (subtask, dataset) from an integer program.

The numbers come from integer programs (scipy.optimize.milp, HiGHS): exactly `target` items;
every dataset's usable samples (its samples less a reserve for verification losses) shared by
all the subtasks that draw on it, so no source sample is used twice; a minimum per subtask.
Stage 1 brings each subtask's total closest to its weighted share; stage 2, totals fixed,
spreads each subtask as evenly as capacities allow over its datasets. Both are (near) network
flows with integer data, so HiGHS solves them at the root node.

An infeasible problem is diagnosed (`diagnose`), fixed locally where it can be (drop a subtask
no dataset serves, lower a minimum, lower the reserve) for a bounded number of rounds, and the
notes say what was relaxed. What needs upstream work raises `AllocationInfeasible`, carrying an
`AllocationFeedback` for Grounding and Design. A plan smaller than the target is never returned.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, Field, create_model

from benchagent.models import ModelClient, ask_or_fallback
from benchagent.planner.design import PlanningError
from benchagent.planner.quota_solver import (
    DEFAULT_REJECTION_RATE,
    AllocationProblem,
    Pair,
    solve_quotas,
    split_dataset,
)
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import Allocation, Grounding, Query, Quota, Subtask

MAX_ROUNDS = 3

IssueKind = Literal["no_grounding", "capacity", "minimum", "solver"]


class Infeasibility(BaseModel):
    """One reason the allocation problem has no solution, and what would fix it."""

    kind: IssueKind
    subtask: str | None = None  # None: the whole plan
    detail: str
    suggestion: str
    upstream: bool = False  # only Grounding or Design (or the user) can fix it


class AllocationFeedback(BaseModel):
    """What the allocation needs from the stages upstream of it."""

    needs_more_datasets: list[str] = Field(default_factory=list)  # subtask names, for Grounding
    drop_or_merge: list[str] = Field(default_factory=list)  # subtask names, for Design
    diagnosis: list[Infeasibility] = Field(default_factory=list)


class AllocationInfeasible(PlanningError):
    """The target cannot be met without upstream changes; `feedback` says which."""

    def __init__(self, feedback: AllocationFeedback) -> None:
        self.feedback = feedback
        shown = [d for d in feedback.diagnosis if d.upstream] or feedback.diagnosis
        super().__init__("infeasible allocation: " + "; ".join(
            f"{d.detail} ({d.suggestion})" for d in shown))


def build_problem(subtasks: list[Subtask], groundings: list[Grounding], pool: Pool, target: int,
                  *, weights: dict[str, float] | None = None,
                  minimums: dict[str, int] | None = None,
                  expected_rejection_rate: float = DEFAULT_REJECTION_RATE) -> AllocationProblem:
    if not 0.0 <= expected_rejection_rate < 1.0:
        raise ValueError(f"expected_rejection_rate {expected_rejection_rate} is not in [0, 1)")
    unique: dict[str, Subtask] = {}
    for s in subtasks:
        unique.setdefault(s.name, s)
    order = {name: i for i, name in enumerate(unique)}
    pairs = sorted({(g.subtask, g.dataset_id) for g in groundings
                    if g.subtask in order and g.dataset_id in pool},
                   key=lambda p: (order[p[0]], p[1]))
    sizes = {d: len(pool.samples(d)) for d in sorted({d for _, d in pairs})}
    problem = AllocationProblem(target=target, subtasks=tuple(unique.values()), pairs=tuple(pairs),
                                sizes=sizes, rejection_rate=expected_rejection_rate,
                                weights={}, minimums={})
    floor_ = max(1, math.floor(target / max(len(problem.live()), 1) * 0.5))  # half a share
    return replace(problem,
                   weights={n: (weights or {}).get(n, 1.0) for n in problem.names},
                   minimums={n: (minimums or {}).get(n, floor_) for n in problem.names})


# ---------------------------------------------------------------- diagnosis


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _listing(p: AllocationProblem, names: list[str]) -> str:
    return ", ".join(f"{n}: {p.capacity_of(n)}" for n in names)


def _no_capacity(p: AllocationProblem, subtask: Subtask) -> Infeasibility | None:
    name = subtask.name
    if not p.datasets_of(name):
        mods = ", ".join(m.value for m in subtask.modalities)
        return Infeasibility(kind="no_grounding", subtask=name,
                             detail=f"no dataset in the pool serves '{name}' ({mods} input)",
                             suggestion=f"drop or merge '{name}', or add datasets with {mods} "
                                        f"input")
    if p.capacity_of(name) == 0:
        raw = sum(p.sizes[d] for d in p.datasets_of(name))
        return Infeasibility(kind="capacity", subtask=name,
                             detail=f"'{name}' has no usable sample ({raw} source samples, "
                                    f"{_pct(p.rejection_rate)} kept in reserve)",
                             suggestion=f"drop or merge '{name}', or ground it on more datasets")
    return None


def _capacity_issue(p: AllocationProblem, live: list[str]) -> Infeasibility:
    total = p.capacity(live)
    raw = sum(p.sizes[d] for d in {d for s, d in p.pairs if s in live})
    shared = len({d for s, d in p.pairs if s in live}) < len([1 for s, _ in p.pairs if s in live])
    detail = (f"target {p.target} > usable capacity {total} ({_listing(p, live)}"
              f"{'; shared datasets counted once' if shared else ''}) after "
              f"{_pct(p.rejection_rate)} headroom for verification losses")
    if not live:
        return Infeasibility(kind="capacity", detail=f"target {p.target}: there is no subtask "
                             "to allocate it to", suggestion="design subtasks first",
                             upstream=True)
    if raw >= p.target:
        return Infeasibility(kind="capacity", detail=detail, suggestion=f"the datasets hold "
                             f"{raw} source samples: lower the headroom, accepting a risk of "
                             "shortfall")
    return Infeasibility(kind="capacity", detail=detail, upstream=True,
                         suggestion=f"even without headroom they hold only {raw}: add datasets "
                                    f"for {', '.join(live)} or lower the target size")


def _minimum_issues(p: AllocationProblem, live: list[str]) -> list[Infeasibility]:
    out = [Infeasibility(kind="minimum", subtask=n,
                         detail=f"minimum {p.minimums[n]} for '{n}' exceeds its usable capacity "
                                f"{p.capacity_of(n)}",
                         suggestion=f"lower the minimum to {p.capacity_of(n)} or ground '{n}' on "
                                    "more datasets")
           for n in live if p.minimums[n] > p.capacity_of(n)]
    mins = {n: min(p.minimums[n], p.capacity_of(n)) for n in live}
    if sum(mins.values()) > p.target:
        out.append(Infeasibility(kind="minimum", detail=f"the minimums add up to "
                                 f"{sum(mins.values())}, above the target {p.target}",
                                 suggestion="lower the minimums"))
    return out


def diagnose(p: AllocationProblem) -> list[Infeasibility]:
    """Every reason the problem as posed has no solution (empty when it may be solved). Where
    shared datasets cannot hold several minimums at once, the solver misses them by as little
    as it can and the notes say so."""
    out = [i for s in p.subtasks if (i := _no_capacity(p, s)) is not None]
    live = p.live()
    if not live and out:  # nothing left to drop them for
        return [i.model_copy(update={"upstream": True}) for i in out]
    if p.capacity(live) < p.target:
        out.append(_capacity_issue(p, live))
    return out + _minimum_issues(p, live)


# ---------------------------------------------------------------- adjustment


def _fitting_rate(p: AllocationProblem, live: list[str]) -> float:
    """The largest rejection rate, in whole percent below the current one, whose usable capacity
    meets the target (0 when none does)."""
    for pct in range(math.ceil(p.rejection_rate * 100) - 1, -1, -1):
        if replace(p, rejection_rate=pct / 100).capacity(live) >= p.target:
            return pct / 100
    return 0.0


def _scaled(mins: dict[str, int], names: list[str], budget: int) -> dict[str, int]:
    need = sum(mins[n] for n in names)
    return {**mins, **{n: mins[n] * budget // need for n in names}}


def adjust(p: AllocationProblem,
           issues: list[Infeasibility]) -> tuple[AllocationProblem, list[str]]:
    """The local fixes for `issues`, each recomputed on the problem as fixed so far, and one note
    per fix saying what was relaxed."""
    notes: list[str] = []
    drop = {i.subtask: i for i in issues if i.kind in ("no_grounding", "capacity") and i.subtask}
    if drop:
        p = replace(p, subtasks=tuple(s for s in p.subtasks if s.name not in drop),
                    pairs=tuple(pr for pr in p.pairs if pr[0] not in drop))
        notes += [f"relaxed: dropped '{n}': {i.detail}" for n, i in drop.items()]
    live = p.live()
    if p.capacity(live) < p.target:
        rate = _fitting_rate(p, live)
        notes.append(f"relaxed: headroom for verification losses lowered from "
                     f"{_pct(p.rejection_rate)} to {_pct(rate)}: the matching data is short "
                     f"of the target {p.target}; rejections may leave a shortfall")
        p = replace(p, rejection_rate=rate)
    mins = dict(p.minimums)
    for n in live:
        if mins[n] > p.capacity_of(n):
            notes.append(f"relaxed: minimum for '{n}' lowered from {mins[n]} to its usable "
                         f"capacity {p.capacity_of(n)}")
            mins[n] = p.capacity_of(n)
    if sum(mins[n] for n in live) > p.target:
        mins = _scaled(mins, live, p.target)
        notes.append(f"relaxed: minimums lowered to fit the target {p.target}: "
                     + ", ".join(f"{n} {mins[n]}" for n in live))
    return replace(p, minimums=mins), notes


def _quotas(p: AllocationProblem, found: dict[Pair, int]) -> list[Quota]:
    amounts = [found.get(pr, 0) for pr in p.pairs]
    allotted = [0] * len(p.pairs)
    for d in sorted(p.sizes):
        idx = [i for i, (_, dd) in enumerate(p.pairs) if dd == d]
        for i, share in zip(idx, split_dataset(p.sizes[d], [amounts[i] for i in idx]),
                            strict=True):
            allotted[i] = share
    return [Quota(subtask=s, dataset_id=d, quota=q, capacity=c)
            for (s, d), q, c in zip(p.pairs, amounts, allotted, strict=True)]


def _summary(p: AllocationProblem, found: dict[Pair, int]) -> list[str]:
    live = p.live()
    raw = sum(p.sizes[d] for d in {d for s, d in p.pairs if s in live})
    notes = [f"headroom: {_pct(p.rejection_rate)} of each dataset kept in reserve for "
             f"verification losses (expected rejection rate {p.rejection_rate:.2f}); usable "
             f"capacity {p.capacity(live)} of {raw} source samples"]
    if len({p.weights[n] for n in live}) > 1:
        notes.append("subtask weights: " + ", ".join(f"{n} {p.weights[n]:g}" for n in live))
    notes.append("minimum per subtask: " + ", ".join(f"{n} {p.minimums[n]}" for n in live))
    for n in live:
        got = sum(q for (s, _), q in found.items() if s == n)
        if got < p.minimums[n]:
            notes.append(f"relaxed: minimum for '{n}' not met, {got} of {p.minimums[n]}: the "
                         "datasets it shares cannot serve every minimum and the target")
        if got == 0:
            notes.append(f"'{n}' gets no item" + (f": the target {p.target} is below the "
                         f"{len(live)} subtasks" if p.target < len(live) else ""))
        elif got < math.floor(p.ideal(n)) and got == p.capacity_of(n):
            notes.append(f"'{n}' gets {got} items, below its weighted share "
                         f"{p.ideal(n):.1f}: its datasets hold only {got} usable samples "
                         "(more datasets for it would balance the benchmark)")
    return notes


def _feedback(p: AllocationProblem, diagnosis: list[Infeasibility]) -> AllocationFeedback:
    live = p.live()
    short = [n for n in live if p.capacity_of(n) < p.ideal(n)] or live
    needs = short if any(i.kind == "capacity" and i.subtask is None and i.upstream
                         for i in diagnosis) else []
    drop = [i.subtask for i in diagnosis if i.kind in ("no_grounding", "capacity") and i.subtask]
    return AllocationFeedback(needs_more_datasets=list(dict.fromkeys(needs)),
                              drop_or_merge=list(dict.fromkeys(drop)), diagnosis=diagnosis)


def solve(subtasks: list[Subtask], groundings: list[Grounding], pool: Pool, target: int,
          seed: int = 0, weights: dict[str, float] | None = None, *,
          minimums: dict[str, int] | None = None,
          expected_rejection_rate: float = DEFAULT_REJECTION_RATE,
          max_rounds: int = MAX_ROUNDS) -> Allocation:
    """Quotas summing to exactly `target`, after at most `max_rounds` rounds of diagnosis and
    local relaxation (stated in the notes). Raises AllocationInfeasible otherwise. The result
    does not depend on `seed` (kept for callers); ties are broken by subtask order and dataset
    id."""
    del seed
    p = build_problem(subtasks, groundings, pool, target, weights=weights, minimums=minimums,
                      expected_rejection_rate=expected_rejection_rate)
    notes: list[str] = []
    diagnosis: list[Infeasibility] = []
    for _ in range(max_rounds):
        issues = diagnose(p)
        if not issues:
            found = solve_quotas(p)
            if found is not None:
                return Allocation(target_size=target, quotas=_quotas(p, found),
                                  notes=_summary(p, found) + notes)
            issues = [Infeasibility(kind="solver", detail="the solver found no plan in time",
                                    suggestion="lower the target size", upstream=True)]
        diagnosis += issues
        if any(i.upstream for i in issues):
            break
        p, done = adjust(p, issues)
        notes += done
    raise AllocationInfeasible(_feedback(p, diagnosis))


# ---------------------------------------------------------------- candidates


def _rng(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256("|".join([str(seed), *parts]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def pair_candidates(groundings: list[Grounding], pool: Pool, seed: int,
                    allocation: Allocation | None = None) -> dict[Pair, list[str]]:
    """Each (subtask, dataset) pair's source ids in the order they are tried, disjoint per
    dataset. Deterministic in the seed, so a resumed run tries the same samples.

    With `allocation`, a dataset it allocates is split between its pairs in proportion to
    their quotas (each pair's share is its Quota.capacity); without, evenly between the
    subtasks grounded on it."""
    users: dict[str, list[str]] = {}
    for g in groundings:
        if g.subtask not in users.setdefault(g.dataset_id, []):
            users[g.dataset_id].append(g.subtask)
    planned: dict[str, list[Quota]] = {}
    for q in (allocation.quotas if allocation else []):
        planned.setdefault(q.dataset_id, []).append(q)
    out: dict[Pair, list[str]] = {}
    for dataset_id, subtasks in users.items():
        ids = sorted(s.source_id for s in pool.samples(dataset_id))
        _rng(seed, dataset_id).shuffle(ids)
        mine = planned.get(dataset_id)
        if mine is None:
            for i, subtask in enumerate(subtasks):
                out[(subtask, dataset_id)] = ids[i::len(subtasks)]
            continue
        out.update({(s, dataset_id): [] for s in subtasks})
        start = 0
        for q, share in zip(mine, split_dataset(len(ids), [q.quota for q in mine]),
                            strict=True):
            out[(q.subtask, dataset_id)] = ids[start:start + share]
            start += share
    return out


# ---------------------------------------------------------------- the two policies


def advice_schema(names: list[str], target: int = 10_000) -> type[BaseModel]:
    """One required weight per subtask, keyed by its name, and optionally a minimum for each."""
    weights = create_model("SubtaskWeights", **{  # type: ignore[call-overload]
        f"w{i}": (float, Field(ge=0.1, le=10.0, alias=n)) for i, n in enumerate(names)})
    minimums = create_model("SubtaskMinimums", **{  # type: ignore[call-overload]
        f"m{i}": (int, Field(ge=0, le=target, alias=n)) for i, n in enumerate(names)})
    return create_model("AllocationAdvice",
                        weights=(weights, ...), minimums=(minimums | None, None))


def _advice(client: ModelClient, query: Query, p: AllocationProblem,
            seed: int) -> tuple[dict[str, float], dict[str, int] | None]:
    names = p.live()
    rows = [{"name": n, "description": s.description, "datasets": len(p.datasets_of(n)),
             "usable": p.capacity_of(n), "minimum": p.minimums[n]}
            for s in p.subtasks if (n := s.name) in names]
    users = Counter(d for s, d in p.pairs if s in names)
    prompt = render("allocation_user.j2", query=query, target=p.target, subtasks=rows,
                    headroom=_pct(p.rejection_rate), total=p.capacity(names),
                    shared=sum(1 for n in users.values() if n > 1))
    out = client.generate([{"role": "user", "content": prompt}],
                          advice_schema(names, p.target), role="allocation", seed=seed)
    advice = out.model_dump(by_alias=True)
    weights = {n: float(advice["weights"][n]) for n in names}
    if advice["minimums"] is None:
        return weights, None
    return weights, {n: max(1, int(advice["minimums"][n])) for n in names}


def allocate(query: Query, subtasks: list[Subtask], groundings: list[Grounding], pool: Pool,
             target: int, client: ModelClient | None, seed: int = 0, *,
             expected_rejection_rate: float = DEFAULT_REJECTION_RATE) -> Allocation:
    """The `llm` policy when `client` is given (the model advises weights and minimums, the
    solver sets the numbers), else `rules` (equal weights, default minimums)."""
    weights: dict[str, float] | None = None
    minimums: dict[str, int] | None = None
    if client is not None:
        p = build_problem(subtasks, groundings, pool, target,
                          expected_rejection_rate=expected_rejection_rate)
        if p.live():
            weights, minimums = ask_or_fallback(client, "allocation",
                                                lambda c: _advice(c, query, p, seed),
                                                lambda _: (None, None))
    return solve(subtasks, groundings, pool, target, seed, weights, minimums=minimums,
                 expected_rejection_rate=expected_rejection_rate)
