"""judge/summary.json: per dimension the mean over items and judges and, with two judges or
more, their agreement (Krippendorff's α, interval metric); Overall as the weighted sum; the
benchmark's UIA; per-subtask and per-judge means; what the judges could not see."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import fmean
from typing import Any

import krippendorff
import numpy as np

from benchagent.judging.records import DIMENSIONS, JudgeScore
from benchagent.records import BenchmarkSample

Row = dict[str, Any]


def krippendorff_alpha(ratings: Sequence[Sequence[float | None]]) -> float | None:
    """α (interval) of raters × units ratings, None for a missing rating; None when it is
    undefined: fewer than two raters, no unit rated twice, or a single value throughout."""
    if len(ratings) < 2:
        return None
    data = np.array([[math.nan if r is None else float(r) for r in rater] for rater in ratings],
                    dtype=float)
    if data.ndim != 2 or not (np.sum(~np.isnan(data), axis=0) >= 2).any():
        return None
    if len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))
    return None if math.isnan(alpha) else round(alpha, 4)


def _mean(values: Sequence[float]) -> float | None:
    return round(fmean(values), 2) if values else None


def weighted(scores: Mapping[str, float | None], weights: dict[str, float]) -> float | None:
    """Σ weight · score over the dimensions, or None when one of them has no score."""
    if any(scores.get(dim) is None for dim in DIMENSIONS):
        return None
    return round(sum(weights[dim] * float(scores[dim] or 0) for dim in DIMENSIONS), 2)


def _dimension_means(rows: Sequence[JudgeScore]) -> dict[str, float | None]:
    return {dim: _mean([r.scores[dim] for r in rows if dim in r.scores]) for dim in DIMENSIONS}


def _overall(item_means: dict[str, float | None], benchmark_uia: float | None,
             weights: dict[str, float]) -> float | None:
    """The benchmark's UIA stands for UIA when there is one (the paper's UIA is of the
    benchmark against the request); else the items' UIA against their subtasks."""
    uia = benchmark_uia if benchmark_uia is not None else item_means["UIA"]
    return weighted({**item_means, "UIA": uia}, weights)


def _per_judge(judges: Sequence[str], items: Sequence[JudgeScore],
               benchmark: dict[str, JudgeScore], weights: dict[str, float]) -> Row:
    out: Row = {}
    for judge in judges:
        mine = [r for r in items if r.judge == judge]
        means = _dimension_means(mine)
        uia = benchmark[judge].scores.get("UIA") if judge in benchmark else None
        out[judge] = {"overall": _overall(means, uia, weights), "benchmark_uia": uia,
                      "dimensions": means, "items_scored": sum(1 for r in mine if r.scores),
                      "media_not_seen": sum(1 for r in mine if r.saw_media is False)}
    return out


def _subtasks(samples: Sequence[BenchmarkSample], items: Sequence[JudgeScore],
              weights: dict[str, float]) -> Row:
    out: Row = {}
    for name in dict.fromkeys(s.subtask for s in samples):
        mine = [r for r in items if r.subtask == name]
        overalls = [o for r in mine if (o := weighted(r.scores, weights)) is not None]
        out[name] = {"items": sum(1 for s in samples if s.subtask == name),
                     "dimensions": _dimension_means(mine), "overall": _mean(overalls)}
    return out


def _alphas(judges: Sequence[str], samples: Sequence[BenchmarkSample],
            items: Sequence[JudgeScore]) -> dict[str, float | None]:
    by = {(r.judge, r.item): r for r in items}
    return {dim: krippendorff_alpha([[by[(j, s.id)].scores.get(dim) if (j, s.id) in by
                                      else None for s in samples] for j in judges])
            for dim in DIMENSIONS}


def _media(items: Sequence[JudgeScore]) -> Row:
    unseen = [r for r in items if r.saw_media is False]
    return {"judged": sum(1 for r in items if r.saw_media is not None),
            "not_seen": len(unseen),
            "reasons": sorted({f"{r.judge}: {r.media_note}" for r in unseen})}


def summarize(judges: Sequence[str], labels: dict[str, str], weights: dict[str, float],
              samples: Sequence[BenchmarkSample], items: Sequence[JudgeScore],
              benchmark: dict[str, JudgeScore]) -> Row:
    """The summary of every judge's rows on `samples` (items: one row per judge × item;
    benchmark: one row per judge)."""
    means = _dimension_means(items)
    alphas = _alphas(judges, samples, items)
    uias = [r.scores["UIA"] for r in benchmark.values() if "UIA" in r.scores]
    benchmark_uia = _mean(uias)
    errors = [f"{r.judge} on {r.item or 'the benchmark'}: {r.error}"
              for r in [*items, *benchmark.values()] if r.error]
    return {"judges": list(judges), "labels": labels, "weights": weights,
            "dimensions": {dim: {"mean": means[dim], "alpha": alphas[dim]}
                           for dim in DIMENSIONS},
            "overall": _overall(means, benchmark_uia, weights),
            "benchmark_uia": benchmark_uia,
            "benchmark_uia_reasons": {r.judge: r.reasons.get("UIA", "")
                                      for r in benchmark.values()},
            "subtasks": _subtasks(samples, items, weights),
            "per_judge": _per_judge(judges, items, benchmark, weights),
            "media": _media(items), "items": len(samples),
            "unscored": len(errors), "errors": errors[:20]}
