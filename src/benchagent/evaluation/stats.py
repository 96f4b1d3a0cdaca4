"""The statistics of an evaluation: accuracy with a seeded bootstrap interval, point-biserial
discrimination, Kendall's τ and interval separability."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95
Interval = tuple[float, float]


def accuracy(scores: Sequence[int]) -> float | None:
    return sum(scores) / len(scores) if scores else None


def bootstrap_interval(scores: Sequence[int], seed: int,
                       samples: int = BOOTSTRAP_SAMPLES) -> Interval | None:
    """The percentile bootstrap 95% interval of the mean of 0/1 `scores` (None when empty);
    the same scores and seed always give the same interval."""
    if not scores:
        return None
    values = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(samples, len(values)), replace=True).mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return round(float(low), 4), round(float(high), 4)


def point_biserial(item: Sequence[int], totals: Sequence[float]) -> float | None:
    """The correlation of one item's 0/1 scores with the models' total scores; None when
    fewer than three models scored it, or either side does not vary."""
    if len(item) < 3 or len(set(item)) < 2 or len(set(totals)) < 2:
        return None
    x = np.asarray(item, dtype=float)
    y = np.asarray(totals, dtype=float)
    value = float(np.corrcoef(x, y)[0, 1])
    return round(value, 4) if math.isfinite(value) else None


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def separability(intervals: Sequence[Interval]) -> float | None:
    """The share of model pairs whose intervals do not overlap (None with fewer than two)."""
    pairs = list(itertools.combinations(intervals, 2))
    if not pairs:
        return None
    return round(sum(not overlaps(a, b) for a, b in pairs) / len(pairs), 4)


def kendall_tau(expected: Sequence[float], observed: Sequence[float]) -> float | None:
    """Kendall's τ-b between the expected order and the observed scores; None when undefined
    (fewer than two models, or every score tied)."""
    if len(expected) < 2 or len(set(observed)) < 2:
        return None
    result = stats.kendalltau(expected, observed)
    value = float(result.statistic)
    return round(value, 4) if math.isfinite(value) else None


def monotonic_share(observed: Sequence[float]) -> float | None:
    """The share of consecutive ladder steps whose score does not fall."""
    steps = list(itertools.pairwise(observed))
    if not steps:
        return None
    return round(sum(b >= a for a, b in steps) / len(steps), 4)
