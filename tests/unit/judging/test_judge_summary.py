"""The judges' agreement, the weights and Overall, on ratings whose values are known."""

from __future__ import annotations

import pytest

from benchagent.errors import UserError
from benchagent.judging import DEFAULT_WEIGHTS, DIMENSIONS, JudgeScore, krippendorff_alpha
from benchagent.judging.records import resolve_weights
from benchagent.judging.summary import summarize, weighted
from benchagent.records import AnswerType, BenchmarkSample, Provenance

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the example with missing
# data: four observers, twelve units; α = 0.849 on the interval metric.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_alpha_matches_the_published_example() -> None:
    assert krippendorff_alpha(KRIPPENDORFF_2011) == pytest.approx(0.849, abs=0.001)


def test_alpha_of_judges_who_agree_or_who_cannot_be_compared() -> None:
    assert krippendorff_alpha([[10, 50, 90], [10, 50, 90]]) == 1.0
    # a constant offset is a disagreement on the interval metric
    assert krippendorff_alpha([[10, 50, 90], [20, 60, 100]]) < 1.0
    assert krippendorff_alpha([[10, 50, 90]]) is None  # one judge
    assert krippendorff_alpha([[80, 80], [80, 80]]) is None  # one value throughout: undefined
    assert krippendorff_alpha([[10, None], [None, 90]]) is None  # no item judged twice


def test_weights_default_merge_and_scale() -> None:
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    assert resolve_weights(None) == DEFAULT_WEIGHTS
    only_tsd = resolve_weights({d: 0 for d in DIMENSIONS} | {"tsd": 2})
    assert only_tsd["TSD"] == 1.0 and sum(only_tsd.values()) == 1.0
    halved = resolve_weights({"UIA": 0.7})  # the rest keep theirs (0.7 in all), then scaled
    assert halved["UIA"] == pytest.approx(0.5) and halved["FSQ"] == pytest.approx(0.06)
    for bad in ({"XYZ": 1.0}, {"UIA": -1.0}, {d: 0.0 for d in DIMENSIONS}):
        with pytest.raises(UserError):
            resolve_weights(bad)


def _sample(item: str, subtask: str) -> BenchmarkSample:
    return BenchmarkSample(id=item, subtask=subtask, question="q", answer="a",
                           answer_type=AnswerType.short_text,
                           provenance=Provenance(source_dataset="d", source_dataset_name="d",
                                                 source_id=item))


def _row(judge: str, item: str, subtask: str, score: int) -> JudgeScore:
    return JudgeScore(key=f"{judge}{item}", judge=judge, item=item, subtask=subtask,
                      scores=dict.fromkeys(DIMENSIONS, score))


def test_summary_means_overall_and_subtasks() -> None:
    samples = [_sample("a", "one"), _sample("b", "one"), _sample("c", "two")]
    scores = {"j1": [20, 40, 60], "j2": [30, 50, 70]}
    items = [_row(j, s.id, s.subtask, v) for j, vs in scores.items()
             for s, v in zip(samples, vs, strict=True)]
    benchmark = {j: JudgeScore(key=j, judge=j, scope="benchmark", scores={"UIA": u})
                 for j, u in (("j1", 80), ("j2", 90))}
    summary = summarize(["j1", "j2"], {"j1": "j1", "j2": "j2"}, DEFAULT_WEIGHTS, samples,
                        items, benchmark)
    assert summary["dimensions"]["QAC"]["mean"] == 45.0
    assert summary["dimensions"]["QAC"]["alpha"] == krippendorff_alpha(list(scores.values()))
    assert summary["benchmark_uia"] == 85.0
    assert summary["overall"] == round(0.30 * 85 + 0.70 * 45, 2)
    assert summary["subtasks"]["one"]["items"] == 2
    assert summary["subtasks"]["one"]["dimensions"]["SSC"] == 35.0
    assert summary["subtasks"]["two"]["overall"] == 65.0  # the items' own UIA
    assert summary["per_judge"]["j2"]["overall"] == round(0.30 * 90 + 0.70 * 50, 2)
    assert weighted({"UIA": 50}, DEFAULT_WEIGHTS) is None  # a dimension without a score
