"""The judge's dimensions, weights, what it is asked to return, and the rows it keeps
(judge/scores.jsonl)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from benchagent.errors import UserError

SCORES = "judge/scores.jsonl"
JUDGE_SUMMARY = "judge/summary.json"
QUALITY_ROLE = "quality"  # the trace's and the manifest's name for the judge's calls

# The paper's dimensions, each on 0-100. UIA is asked twice: of the benchmark as a whole
# against the request, and of each item against its subtask.
DIMENSIONS: tuple[str, ...] = ("UIA", "FSQ", "QAC", "CQC", "TSD", "SSC")
# Fitted to the paper's published table (Overall against the six dimensions); they sum to 1.
DEFAULT_WEIGHTS: dict[str, float] = {"UIA": 0.30, "FSQ": 0.084, "QAC": 0.112, "CQC": 0.196,
                                     "TSD": 0.182, "SSC": 0.126}


class Rated(BaseModel):
    """One dimension: the reason first, so that the score follows from it."""

    reason: str = Field(default="", max_length=300)
    score: int = Field(ge=0, le=100)


class ItemVerdict(BaseModel):
    """What the judge returns for one item."""

    uia: Rated
    fsq: Rated
    qac: Rated
    cqc: Rated
    tsd: Rated
    ssc: Rated

    def as_scores(self) -> tuple[dict[str, int], dict[str, str]]:
        rated = {dim: getattr(self, dim.lower()) for dim in DIMENSIONS}
        return ({dim: r.score for dim, r in rated.items()},
                {dim: r.reason for dim, r in rated.items()})


class BenchmarkVerdict(BaseModel):
    """What the judge returns for the benchmark as a whole."""

    uia: Rated


class JudgeScore(BaseModel):
    """One judge on one item, or on the benchmark as a whole (a row of judge/scores.jsonl).
    No scores when the judge's output stayed invalid: `error` says why."""

    model_config = ConfigDict(extra="ignore")

    key: str  # the judge, the prompt and the media it was shown: a kept row answers it
    judge: str
    scope: Literal["item", "benchmark"] = "item"
    item: str = ""
    subtask: str = ""
    scores: dict[str, int] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)
    saw_media: bool | None = None  # None: the item has no image or audio
    media_note: str = ""  # why the judge did not see the media
    error: str | None = None


def resolve_weights(given: Mapping[str, float] | None) -> dict[str, float]:
    """The default weights with `given` on top (dimension names in any case), scaled to sum
    to 1 so that Overall stays on 0-100."""
    merged = dict(DEFAULT_WEIGHTS)
    for name, value in (given or {}).items():
        dim = name.strip().upper()
        if dim not in DEFAULT_WEIGHTS:
            raise UserError(f"unknown judge weight {name!r}: choose from "
                            f"{', '.join(DIMENSIONS)}")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise UserError(f"judge weight {dim} must be a number of 0 or more, got {value!r}")
        merged[dim] = float(value)
    total = sum(merged.values())
    if total <= 0:
        raise UserError("the judge weights add up to 0: give at least one a positive weight")
    return {dim: round(merged[dim] / total, 6) for dim in DIMENSIONS}
