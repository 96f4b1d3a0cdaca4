"""The statistics of an evaluation, on results whose answers are known."""

from __future__ import annotations

from benchagent.evaluation.analysis import summarize
from benchagent.evaluation.results import ItemResult, Scored
from benchagent.evaluation.scoring import Outcome
from benchagent.evaluation.stats import (
    bootstrap_interval,
    kendall_tau,
    monotonic_share,
    point_biserial,
    separability,
)
from benchagent.records import AnswerType


def test_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    scores = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1]
    low, high = bootstrap_interval(scores, seed=3) or (0.0, 0.0)
    assert 0 <= low < 0.7 < high <= 1
    assert bootstrap_interval(scores, seed=3) == (low, high)
    assert bootstrap_interval([1, 1, 1], seed=0) == (1.0, 1.0)
    assert bootstrap_interval([], seed=0) is None


def test_point_biserial_kendall_separability() -> None:
    assert point_biserial([0, 0, 1], [0.1, 0.5, 0.9]) > 0.8  # type: ignore[operator]
    assert point_biserial([1, 1, 0], [0.1, 0.5, 0.9]) < -0.8  # type: ignore[operator]
    assert point_biserial([1, 1, 1], [0.1, 0.5, 0.9]) is None  # does not vary
    assert point_biserial([0, 1], [0.1, 0.9]) is None  # two models say nothing
    assert kendall_tau([0, 1, 2], [0.2, 0.5, 0.9]) == 1.0
    assert kendall_tau([0, 1, 2], [0.9, 0.5, 0.2]) == -1.0
    assert kendall_tau([0, 1], [0.5, 0.5]) is None
    assert monotonic_share([0.2, 0.5, 0.4]) == 0.5
    assert separability([(0.0, 0.1), (0.2, 0.3), (0.25, 0.5)]) == round(2 / 3, 4)
    assert separability([(0.0, 1.0)]) is None


def _result(model: str, item: str, outcome: Outcome, blind: Outcome | None = None
            ) -> ItemResult:
    return ItemResult(model=model, item=item, subtask="s", answer_type=AnswerType.yes_no,
                      modalities=["image"] if blind else ["text"], gold="yes", response="r",
                      outcome=outcome,
                      blind=Scored(response="r", outcome=blind) if blind else None)


def test_items_are_flagged_from_what_every_model_did() -> None:
    table: dict[str, list[Outcome]] = {  # item: outcomes of models small, medium, large
        "easy": ["correct", "correct", "correct"],
        "dead": ["wrong", "wrong", "wrong"],
        "good": ["wrong", "correct", "correct"],
        "odd": ["correct", "wrong", "wrong"],
        "half": ["unsupported", "wrong", "correct"],
        "hard": ["wrong", "wrong", "correct"],
        "mid": ["wrong", "correct", "correct"],
    }
    models = ["small", "medium", "large"]
    results = [_result(m, item, outcomes[i]) for item, outcomes in table.items()
               for i, m in enumerate(models)]
    results.append(_result("small", "pic", "correct", blind="correct"))
    results.append(_result("medium", "pic", "correct", blind="correct"))
    results.append(_result("large", "pic", "correct", blind="unscored"))
    summary = summarize(models, results, seed=0, ladder=True)
    assert summary["saturated"] == ["easy", "pic"] and summary["dead"] == ["dead"]
    items = {row["item"]: row for row in summary["per_item"]}
    assert items["good"]["discrimination"] > 0 > items["odd"]["discrimination"]
    assert items["half"]["models_scored"] == 2 and items["half"]["difficulty"] == 0.5
    assert summary["blind"] == {"items": 1, "solvable": ["pic"]}
    small = summary["models"][0]
    assert (small["unsupported"], small["items"], small["accuracy"]) == (1, 8, 0.4286)
    ladder = summary["ladder"]
    assert ladder["order"] == models and ladder["kendall_tau"] == 1.0 and ladder["monotonic"]
