"""The benchmark stage: the accepted samples that fill each quota, and the benchmark's card."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from benchagent.executor.run import SYSTEMATIC_AFTER
from benchagent.records import Allocation, BenchmarkSample, Query, SampleOutcome, Shortfall


@dataclass
class Assembly:
    samples: list[BenchmarkSample] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)
    accepted: int = 0  # accepted candidates still standing (not rejected later as duplicates)


def live_accepted(accepted: list[SampleOutcome],
                  rejected: list[SampleOutcome]) -> list[SampleOutcome]:
    """Accepted outcomes, once per key, minus those rejected afterwards (near-duplicates)."""
    overruled = {o.key for o in rejected}
    unique = {o.key: o for o in accepted if o.key not in overruled}
    return list(unique.values())


def chosen_outcomes(allocation: Allocation, accepted: list[SampleOutcome],
                    rejected: list[SampleOutcome]) -> list[SampleOutcome]:
    """Per pair, the first `quota` live accepted outcomes by rank; pairs in allocation order."""
    by_pair: dict[tuple[str, str], list[SampleOutcome]] = {}
    for outcome in live_accepted(accepted, rejected):
        by_pair.setdefault((outcome.subtask, outcome.dataset_id), []).append(outcome)
    chosen: list[SampleOutcome] = []
    for q in allocation.quotas:
        mine = sorted(by_pair.get((q.subtask, q.dataset_id), []), key=lambda o: o.rank)
        chosen.extend(o for o in mine[:q.quota] if o.sample is not None)
    return chosen


def assemble(allocation: Allocation, accepted: list[SampleOutcome],
             rejected: list[SampleOutcome]) -> Assembly:
    chosen = chosen_outcomes(allocation, accepted, rejected)
    result = Assembly(samples=[o.sample for o in chosen if o.sample is not None],
                      accepted=len(live_accepted(accepted, rejected)))
    for q in allocation.quotas:
        got = sum(1 for o in chosen if (o.subtask, o.dataset_id) == (q.subtask, q.dataset_id))
        if got < q.quota:
            result.shortfalls.append(Shortfall(
                subtask=q.subtask, dataset_id=q.dataset_id, quota=q.quota, accepted=got,
                missing=q.quota - got,
                cause=_cause(q.subtask, q.dataset_id, q.capacity, rejected, got)))
    return result


def _cause(subtask: str, dataset_id: str, capacity: int, rejected: list[SampleOutcome],
           accepted: int) -> str:
    mine = [o for o in rejected if o.subtask == subtask and o.dataset_id == dataset_id]
    reasons: Counter[str] = Counter()
    for o in mine:
        failed = next((c for c in o.checks if not c.passed), None)
        if failed:
            reasons[f"{failed.check}: {failed.reason}"[:120]] += 1
    top = "; ".join(f"{n}× {r}" for r, n in reasons.most_common(3))
    why = "source exhausted" if len(mine) >= capacity else "attempt budget spent"
    checks = {r.split(":")[0] for r in reasons}
    if accepted == 0 and len(checks) == 1 and SYSTEMATIC_AFTER <= len(mine) < capacity:
        why = (f"stopped early, the plan does not fit this dataset: the first {len(mine)} "
               f"candidates all failed the {next(iter(checks))} check")
    return f"{why}: {len(mine)} rejected of {capacity} candidates" + (f" ({top})" if top else "")


def render_card(query: Query, samples: list[BenchmarkSample], shortfalls: list[Shortfall],
                models: dict[str, str]) -> str:
    by_subtask = Counter(s.subtask for s in samples)
    by_source = Counter(s.provenance.source_dataset_name for s in samples)
    by_type = Counter(s.answer_type.value for s in samples)
    lines = [f"# Benchmark card: {query.id}", "", f"> {query.description}", "",
             f"{len(samples)} items (target {query.target_size}).", "", "## Subtasks", ""]
    lines += [f"- {name}: {n}" for name, n in by_subtask.items()]
    lines += ["", "## Sources", ""] + [f"- {name}: {n}" for name, n in by_source.most_common()]
    lines += ["", "## Answer types", ""] + [f"- {t}: {n}" for t, n in by_type.most_common()]
    lines += ["", "## Models by role", ""] + [f"- {r}: {m}" for r, m in models.items()]
    if shortfalls:
        lines += ["", "## Shortfall", ""]
        lines += [f"- {s.subtask} from {s.dataset_id}: {s.accepted}/{s.quota}; {s.cause}"
                  for s in shortfalls]
    return "\n".join(lines) + "\n"
