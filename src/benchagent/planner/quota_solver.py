"""The allocation problem and its integer programs (scipy.optimize.milp, HiGHS): stage 1 sets
each subtask's total closest to its weighted share under shared dataset capacities and the
minimums; stage 2, totals fixed, spreads each subtask evenly over its datasets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from benchagent.records import Subtask

Pair = tuple[str, str]  # (subtask name, dataset id)
DEFAULT_REJECTION_RATE = 0.2


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


