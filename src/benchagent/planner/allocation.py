"""Allocation agent: quotas per (subtask, dataset) within capacity, summing to the target.

Capacity is shared: when several subtasks draw on one dataset its samples are split between
them, so no source sample is ever used twice.
"""

from __future__ import annotations

import hashlib
import random

from pydantic import BaseModel, Field, create_model

from benchagent.models import ModelClient, StructuredOutputError
from benchagent.planner.design import PlanningError
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import Allocation, Grounding, Query, Quota, Subtask


def advice_schema(names: list[str]) -> type[BaseModel]:
    """One required weight per subtask, keyed by its name: nothing can be left out."""
    fields = {f"w{i}": (float, Field(ge=0.1, le=10.0, alias=name))
              for i, name in enumerate(names)}
    return create_model("AllocationAdvice", **fields)  # type: ignore[call-overload]


def _rng(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256("|".join([str(seed), *parts]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def pair_candidates(groundings: list[Grounding], pool: Pool,
                    seed: int) -> dict[tuple[str, str], list[str]]:
    """Each (subtask, dataset) pair's source ids in the order they are tried, disjoint per
    dataset. Deterministic in the seed, so a resumed run tries the same samples."""
    users: dict[str, list[str]] = {}
    for g in groundings:
        users.setdefault(g.dataset_id, []).append(g.subtask)
    out: dict[tuple[str, str], list[str]] = {}
    for dataset_id, subtasks in users.items():
        ids = sorted(s.source_id for s in pool.samples(dataset_id))
        _rng(seed, dataset_id).shuffle(ids)
        for i, subtask in enumerate(subtasks):
            out[(subtask, dataset_id)] = ids[i::len(subtasks)]
    return out


def _water_fill(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """Integers ≤ caps summing to min(total, sum(caps)), proportional to weights where caps
    allow (largest remainder, then the excess flows to those with room)."""
    result = [0] * len(caps)
    remaining = min(total, sum(caps))
    open_ = [i for i, c in enumerate(caps) if c > 0]
    while remaining > 0 and open_:
        wsum = sum(weights[i] for i in open_) or float(len(open_))
        shares = {i: remaining * (weights[i] or 1.0) / wsum for i in open_}
        give = {i: min(int(shares[i]), caps[i] - result[i]) for i in open_}
        left = remaining - sum(give.values())
        for i in sorted(open_, key=lambda j: -(shares[j] - int(shares[j]))):
            if left <= 0:
                break
            if give[i] < caps[i] - result[i]:
                give[i] += 1
                left -= 1
        for i, g in give.items():
            result[i] += g
        remaining = min(total, sum(caps)) - sum(result)
        open_ = [i for i in open_ if result[i] < caps[i]]
    return result


def solve(subtasks: list[Subtask], groundings: list[Grounding], pool: Pool, target: int,
          seed: int, weights: dict[str, float] | None = None) -> Allocation:
    pairs = pair_candidates(groundings, pool, seed)
    names = [s.name for s in subtasks if any(g.subtask == s.name for g in groundings)]
    notes: list[str] = []
    if target < len(names):
        notes.append(f"target {target} is below the {len(names)} subtasks: kept the first "
                     f"{target}")
        names = names[:target]
    caps = [sum(len(ids) for (s, _), ids in pairs.items() if s == name) for name in names]
    if sum(caps) < target:
        detail = ", ".join(f"{n}: {c}" for n, c in zip(names, caps, strict=True))
        raise PlanningError(f"infeasible: the target is {target} items but the matching "
                            f"datasets hold only {sum(caps)} usable samples ({detail}); lower "
                            f"--size or add pools")
    per_subtask = _water_fill(target, [(weights or {}).get(n, 1.0) for n in names], caps)
    quotas: list[Quota] = []
    for name, amount in zip(names, per_subtask, strict=True):
        mine = [g for g in groundings if g.subtask == name]
        dcaps = [len(pairs[(name, g.dataset_id)]) for g in mine]
        split = _water_fill(amount, [1.0] * len(mine), dcaps)
        quotas += [Quota(subtask=name, dataset_id=g.dataset_id, quota=q, capacity=c)
                   for g, q, c in zip(mine, split, dcaps, strict=True)]
    return Allocation(target_size=target, quotas=quotas, notes=notes)


def _advice(client: ModelClient, query: Query, subtasks: list[Subtask], caps: dict[str, int],
            target: int, seed: int) -> dict[str, float]:
    names = [s.name for s in subtasks]
    prompt = render("allocation_user.j2", query=query, target=target,
                    capacities=sorted(caps.items()))
    out = client.generate([{"role": "user", "content": prompt}], advice_schema(names),
                          role="allocation", seed=seed)
    return {name: float(getattr(out, f"w{i}")) for i, name in enumerate(names)}


def allocate(query: Query, subtasks: list[Subtask], groundings: list[Grounding], pool: Pool,
             target: int, client: ModelClient | None, seed: int = 0) -> Allocation:
    weights: dict[str, float] | None = None
    grounded = [s for s in subtasks if any(g.subtask == s.name for g in groundings)]
    if client is not None:
        pairs = pair_candidates(groundings, pool, seed)
        caps = {s.name: sum(len(v) for (n, _), v in pairs.items() if n == s.name)
                for s in grounded}
        try:
            weights = _advice(client, query, grounded, caps, target, seed)
        except StructuredOutputError as exc:
            client.trace.decision(role="allocation", outcome="fallback", error=str(exc))
    allocation = solve(grounded, groundings, pool, target, seed, weights)
    dropped = [s.name for s in subtasks if s not in grounded]
    if dropped:
        allocation.notes.append("dropped, no dataset could serve them: " + ", ".join(dropped))
    return allocation
