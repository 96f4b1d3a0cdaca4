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
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, create_model
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from benchagent.models import ModelClient, ask_or_fallback
from benchagent.planner.design import PlanningError
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import Allocation, Grounding, Query, Quota, Subtask

Pair = tuple[str, str]  # (subtask name, dataset id)
DEFAULT_REJECTION_RATE = 0.2
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


@dataclass(frozen=True)
class AllocationProblem:
    target: int
    subtasks: tuple[Subtask, ...]  # the subtasks still in the plan, in design order
    pairs: tuple[Pair, ...]  # grounded pairs of those subtasks, by subtask then dataset id
    sizes: dict[str, int]  # dataset id -> its source samples
    rejection_rate: float  # expected share of candidates the verifier rejects
    weights: dict[str, float]
    minimums: dict[str, int]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.subtasks]

    def usable(self, dataset_id: str) -> int:
        """Samples that can be allotted to quotas; the rest stay in reserve for rejections."""
        return math.floor(self.sizes[dataset_id] * (1.0 - self.rejection_rate) + 1e-9)

    def datasets_of(self, name: str) -> list[str]:
        return [d for s, d in self.pairs if s == name]

    def capacity_of(self, name: str) -> int:
        return sum(self.usable(d) for d in self.datasets_of(name))

    def capacity(self, names: list[str]) -> int:
        """Usable samples of the datasets these subtasks draw on, each dataset counted once."""
        return sum(self.usable(d) for d in sorted({d for s, d in self.pairs if s in names}))

    def live(self) -> list[str]:
        """The subtasks that have at least one usable sample."""
        return [n for n in self.names if self.capacity_of(n) > 0]

    def ideal(self, name: str) -> float:
        live = self.live()
        total = sum(self.weights.get(n, 1.0) for n in live)
        return self.target * self.weights.get(name, 1.0) / total if total else 0.0


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


# ---------------------------------------------------------------- the integer program


class _Rows:
    """Sparse constraint rows lb ≤ a·x ≤ ub, built one at a time."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lb: list[float] = []
        self.ub: list[float] = []

    def add(self, cols: list[int], lb: float, ub: float, vals: list[float] | None = None) -> None:
        self.rows += [len(self.lb)] * len(cols)
        self.cols += cols
        self.vals += vals or [1.0] * len(cols)
        self.lb.append(lb)
        self.ub.append(ub)

    def solve(self, cost: list[float], upper: list[float], time_limit: float) -> list[int] | None:
        """Integer minimiser of cost·x with 0 ≤ x ≤ upper under the rows, or None."""
        n = len(cost)
        matrix = csr_array((self.vals, (self.rows, self.cols)), shape=(len(self.lb), n))
        res = milp(np.array(cost), integrality=np.ones(n),
                   constraints=LinearConstraint(matrix, np.array(self.lb), np.array(self.ub)),
                   bounds=Bounds(np.zeros(n), np.array(upper)),
                   options={"mip_rel_gap": 0.0, "time_limit": time_limit})
        return None if res.x is None else [round(float(x)) for x in res.x]


def _water_fill(total: int, weights: list[float], lower: list[int],
                upper: list[int]) -> list[int]:
    """Integers within [lower, upper] summing to `total`, proportional to the weights where the
    bounds allow (the excess of a capped share flows to the others); remainders go to the
    largest fractions, ties to the first."""
    pinned: dict[int, float] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in pinned]
        rest = total - sum(pinned.values())
        wsum = sum(weights[i] for i in free)
        share = {i: rest * weights[i] / wsum if wsum else 0.0 for i in free}
        over = {i: float(upper[i]) for i in free if share[i] > upper[i]}
        under = {i: float(lower[i]) for i in free if share[i] < lower[i]}
        if not (over or under) or not free:
            break
        pinned.update(over or under)
    exact = [pinned.get(i, share.get(i, 0.0)) for i in range(len(weights))]
    out = [min(max(math.floor(x + 1e-9), 0), upper[i]) for i, x in enumerate(exact)]
    order = sorted(range(len(out)), key=lambda i: (out[i] - exact[i], i))
    for i in [i for i in order if out[i] < upper[i]][:total - sum(out)]:
        out[i] += 1
    return out


def _totals(p: AllocationProblem, live: list[str], pairs: list[Pair],
            time_limit: float) -> list[int] | None:
    """Stage 1: each subtask's total, as close as the shared capacities allow to its ideal (the
    weighted share, water-filled within its own capacity and minimum). A minimum the shared
    capacities cannot meet is missed by as little as possible (a costly slack)."""
    ideal = _water_fill(p.target, [p.weights[n] for n in live],
                        [p.minimums[n] for n in live], [p.capacity_of(n) for n in live])
    n_p, n_s = len(pairs), len(live)
    rows = _Rows()  # variables: q per pair; below, above the ideal and short of the minimum
    rows.add(list(range(n_p)), p.target, p.target)
    for d in sorted({d for _, d in pairs}):
        rows.add([i for i, pr in enumerate(pairs) if pr[1] == d], 0.0, p.usable(d))
    for j, name in enumerate(live):
        mine = [i for i, pr in enumerate(pairs) if pr[0] == name]
        rows.add([*mine, n_p + 2 * n_s + j], p.minimums[name], math.inf)
        rows.add([*mine, n_p + j, n_p + n_s + j], 0.0, 0.0,
                 [1.0] * len(mine) + [-1.0, -1.0])
    first = [1e-3 * (n_s - j) / (n_s + 1) for j in range(n_s)]  # ties go to earlier subtasks
    cost = ([0.0] * n_p + [-1.0 - t for t in first] + [1.0 + t for t in first[::-1]]
            + [4.0 + t for t in first])
    upper = ([float(p.usable(d)) for _, d in pairs] + [float(x) for x in ideal]
             + [math.inf] * (2 * n_s))
    found = rows.solve(cost, upper, time_limit)
    if found is None:
        return None
    return [sum(found[i] for i, pr in enumerate(pairs) if pr[0] == n) for n in live]


def _segments(total: int, k: int, cap: int) -> list[tuple[int, int]]:
    """(size, cost per unit) pieces of a convex cost ≈ q² on one pair's quota: unit pieces up
    to twice the even share, then pieces doubling in size."""
    out: list[tuple[int, int]] = []
    level, limit = 0, min(cap, total)
    while level < limit:
        size = 1 if level < 2 * math.ceil(total / k) + 2 else level
        size = min(size, limit - level)
        out.append((size, 2 * level + size))  # mean marginal of q² over (level, level + size]
        level += size
    return out


def _spread(p: AllocationProblem, live: list[str], pairs: list[Pair], totals: list[int],
            time_limit: float) -> dict[Pair, int] | None:
    """Stage 2: with the totals fixed, spread each subtask as evenly as the capacities allow
    over its datasets (least sum of squared quotas); ties go to the first pair."""
    rows, cost, upper, owner = _Rows(), list[float](), list[float](), list[int]()
    pieces: dict[int, list[int]] = {}
    for i, (s, d) in enumerate(pairs):
        j = live.index(s)
        k = sum(1 for pr in pairs if pr[0] == s)
        for size, unit_cost in _segments(totals[j], k, p.usable(d)):
            pieces.setdefault(i, []).append(len(cost))
            cost.append(unit_cost + 0.5 * (i + 1) / (len(pairs) + 1))
            upper.append(float(size))
            owner.append(i)
    for j, name in enumerate(live):
        cols = [c for i, pr in enumerate(pairs) if pr[0] == name for c in pieces.get(i, [])]
        rows.add(cols, totals[j], totals[j])
    for d in sorted({d for _, d in pairs}):
        cols = [c for i, pr in enumerate(pairs) if pr[1] == d for c in pieces.get(i, [])]
        rows.add(cols, 0.0, p.usable(d))
    found = rows.solve(cost, upper, time_limit)
    if found is None:
        return None
    out = dict.fromkeys(pairs, 0)
    for c, amount in enumerate(found):
        out[pairs[owner[c]]] += amount
    return out


def solve_quotas(p: AllocationProblem, time_limit: float = 30.0) -> dict[Pair, int] | None:
    """Optimal integer quotas for the pairs with usable samples, or None when infeasible."""
    live = p.live()
    pairs = [pr for pr in p.pairs if pr[0] in live and p.usable(pr[1]) > 0]
    totals = _totals(p, live, pairs, time_limit)
    if totals is None:
        return None
    found = _spread(p, live, pairs, totals, time_limit)
    return found if found is not None and sum(found.values()) == p.target else None


# ---------------------------------------------------------------- the plan


def split_dataset(n: int, quotas: list[int]) -> list[int]:
    """How many of a dataset's `n` samples each of its pairs draws on: proportional to the
    quotas (largest remainder), so each pair gets at least its quota when they fit in `n`."""
    total = sum(quotas)
    if total == 0:
        return [0] * len(quotas)
    exact = [n * q / total for q in quotas]
    out = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(quotas)), key=lambda i: (out[i] - exact[i], i))
    for i in by_remainder[:n - sum(out)]:
        out[i] += 1
    return out


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
