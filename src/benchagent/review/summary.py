"""What the review found: acceptance rates overall, per subtask and per reviewer, the rejection
reasons, the reviewers' agreement (Cohen's κ for two, Fleiss' κ for more), and the reviewed
benchmark (`benchmark/benchmark.reviewed.jsonl`: edits applied, rejected items left out)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchagent.records import BenchmarkSample
from benchagent.review.decisions import REVIEW_DIR, Decision, apply_edit, read_decisions
from benchagent.store import atomic_write_json, atomic_write_text

SUMMARY = f"{REVIEW_DIR}/summary.json"
REVIEWED = "benchmark/benchmark.reviewed.jsonl"
NO_REASON = "(no reason given)"
Decisions = Mapping[str, Mapping[str, Decision]]  # reviewer -> item -> decision
Row = dict[str, Any]


def _rates(decisions: Iterable[Decision]) -> Row:
    actions = Counter(d.action for d in decisions)
    decided = sum(actions.values())
    kept = actions["accept"] + actions["edit"]
    return {"decided": decided, "accepted": actions["accept"], "edited": actions["edit"],
            "rejected": actions["reject"],
            "acceptance_rate": round(kept / decided, 4) if decided else None}


def _reasons(decisions: Iterable[Decision]) -> dict[str, int]:
    counts = Counter(d.reason.strip() or NO_REASON for d in decisions if d.action == "reject")
    return dict(counts.most_common())


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's κ of two raters' labels on the same items; None when chance agreement is
    certain (both raters gave one and the same label to every item)."""
    n = len(first)
    if n == 0 or n != len(second):
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    chance = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    return None if chance == 1 else round((observed - chance) / (1 - chance), 4)


def fleiss_kappa(ratings: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' κ of items each rated by the same number (≥ 2) of raters."""
    if not ratings or len({len(r) for r in ratings}) != 1 or len(ratings[0]) < 2:
        return None
    raters = len(ratings[0])
    per_item = [Counter(r) for r in ratings]
    shares = Counter[str]()
    for counts in per_item:
        shares.update(counts)
    chance = sum((c / (len(ratings) * raters)) ** 2 for c in shares.values())
    observed = sum((sum(c * c for c in counts.values()) - raters) / (raters * (raters - 1))
                   for counts in per_item) / len(ratings)
    return None if chance == 1 else round((observed - chance) / (1 - chance), 4)


def _label(decision: Decision) -> str:
    return "keep" if decision.keeps else "reject"


def _pair(a: str, b: str, decisions: Decisions) -> Row:
    both = sorted(set(decisions[a]) & set(decisions[b]))
    first = [_label(decisions[a][i]) for i in both]
    second = [_label(decisions[b][i]) for i in both]
    same = sum(x == y for x, y in zip(first, second, strict=True))
    return {"reviewers": [a, b], "items": len(both), "cohen_kappa": cohen_kappa(first, second),
            "percent_agreement": round(same / len(both), 4) if both else None}


def agreement(decisions: Decisions) -> Row | None:
    """Agreement on keep (accept or edit) against reject, over the items every reviewer
    decided; with more than two reviewers, also each pair over the items both decided."""
    reviewers = sorted(r for r, d in decisions.items() if d)
    if len(reviewers) < 2:
        return None
    pairs = [_pair(a, b, decisions) for a, b in itertools.combinations(reviewers, 2)]
    if len(reviewers) == 2:
        return {"method": "cohen_kappa", "reviewers": reviewers, "items": pairs[0]["items"],
                "kappa": pairs[0]["cohen_kappa"],
                "percent_agreement": pairs[0]["percent_agreement"]}
    common = sorted(set.intersection(*(set(decisions[r]) for r in reviewers)))
    ratings = [[_label(decisions[r][item]) for r in reviewers] for item in common]
    return {"method": "fleiss_kappa", "reviewers": reviewers, "items": len(common),
            "kappa": fleiss_kappa(ratings), "pairs": pairs}


def reviewed_items(samples: Sequence[BenchmarkSample],
                   decisions: Decisions) -> tuple[list[BenchmarkSample], Row]:
    """The benchmark after review: an item more reviewers rejected than kept is left out; an
    item kept with an edit takes the latest edit; undecided items stay as they are."""
    kept, dropped, edited = [], 0, 0
    for sample in samples:
        mine = [d[sample.id] for d in decisions.values() if sample.id in d]
        if sum(not d.keeps for d in mine) > sum(d.keeps for d in mine):
            dropped += 1
            continue
        edits = sorted((d for d in mine if d.edit is not None), key=lambda d: d.at)
        if edits and edits[-1].edit is not None:
            sample = apply_edit(sample, edits[-1].edit)
            edited += 1
        kept.append(sample)
    return kept, {"path": REVIEWED, "items": len(kept), "edited": edited, "dropped": dropped}


def summarize(samples: Sequence[BenchmarkSample], decisions: Decisions) -> Row:
    """The review summary of `samples` (decisions on items no longer in them are ignored)."""
    ids = {s.id for s in samples}
    current = {r: {i: d for i, d in mine.items() if i in ids} for r, mine in decisions.items()}
    every = [d for mine in current.values() for d in mine.values()]
    subtask_of = {s.id: s.subtask for s in samples}
    per_subtask = {}
    for name in dict.fromkeys(s.subtask for s in samples):
        theirs = [d for d in every if subtask_of[d.item] == name]
        per_subtask[name] = {"items": sum(s.subtask == name for s in samples),
                             **_rates(theirs), "rejection_reasons": _reasons(theirs)}
    per_reviewer = {r: {**_rates(mine.values()), "remaining": len(ids) - len(mine),
                        "rejection_reasons": _reasons(mine.values())}
                    for r, mine in sorted(current.items())}
    _, reviewed = reviewed_items(samples, current)
    return {"items": len(samples), "reviewers": sorted(current), "overall": _rates(every),
            "per_subtask": per_subtask, "per_reviewer": per_reviewer,
            "rejection_reasons": _reasons(every), "agreement": agreement(current),
            "reviewed_benchmark": reviewed}


def write_review(run_dir: Path, samples: Sequence[BenchmarkSample],
                 decisions: Decisions | None = None) -> Row:
    """Write `review/summary.json` and the reviewed benchmark (the original is not touched);
    returns the summary."""
    decisions = read_decisions(run_dir) if decisions is None else decisions
    summary = summarize(samples, decisions)
    items, _ = reviewed_items(samples, decisions)
    atomic_write_text(run_dir / REVIEWED, "".join(s.model_dump_json() + "\n" for s in items))
    atomic_write_json(run_dir / SUMMARY, summary)
    return summary
