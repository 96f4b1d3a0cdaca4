"""Review decisions and what they add up to: the agreement statistics against hand-computed
values, acceptance rates per subtask and reviewer, edits checked as typed items, the reviewed
benchmark, and decision files that survive a torn line."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchagent.errors import UserError
from benchagent.records import AnswerType, BenchmarkSample, Provenance
from benchagent.review import (
    Decision,
    DecisionLog,
    ItemEdit,
    apply_edit,
    cohen_kappa,
    fleiss_kappa,
    read_decisions,
    summarize,
)
from benchagent.review.summary import reviewed_items
from benchagent.store import RunError


def _sample(item: str, subtask: str = "arith", **fields: object) -> BenchmarkSample:
    values: dict[str, object] = {"question": "What is 2 + 3?", "options": ["4", "5", "6"],
                                 "answer": "5", "answer_type": AnswerType.multiple_choice}
    values.update(fields)
    return BenchmarkSample(id=item, subtask=subtask, provenance=Provenance(
        source_dataset="d", source_dataset_name="D", source_id=item), **values)


def _decision(item: str, reviewer: str, action: str, reason: str = "",
              edit: ItemEdit | None = None, at: str = "2026-01-01T00:00:00") -> Decision:
    return Decision.model_validate({"item": item, "reviewer": reviewer, "action": action,
                                    "reason": reason, "edit": edit, "at": at})


def test_cohen_kappa_matches_the_hand_computed_value() -> None:
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5) / 0.5 = 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)
    assert cohen_kappa(["keep", "reject"], ["keep", "reject"]) == 1.0
    assert cohen_kappa(["keep"] * 3, ["keep"] * 3) is None  # chance agreement is certain


def test_fleiss_kappa_matches_the_textbook_example() -> None:
    # Fleiss (1971) as worked in Wikipedia's article: 10 items, 14 raters, κ = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
             [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
             [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    ratings = [[str(cat) for cat, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(ratings) == pytest.approx(0.210, abs=5e-4)


def test_rates_per_subtask_and_reviewer_with_reasons_and_agreement() -> None:
    samples = [_sample("a1"), _sample("a2"), _sample("c1", "clock"), _sample("c2", "clock")]
    decisions = {
        "ana": {"a1": _decision("a1", "ana", "accept"),
                "a2": _decision("a2", "ana", "reject", "wrong answer"),
                "c1": _decision("c1", "ana", "accept"),
                "c2": _decision("c2", "ana", "reject", "ambiguous")},
        "ben": {"a1": _decision("a1", "ben", "accept"),
                "a2": _decision("a2", "ben", "reject", "wrong answer"),
                "c1": _decision("c1", "ben", "reject", "ambiguous"),
                "gone": _decision("gone", "ben", "reject", "not counted")},
    }
    summary = summarize(samples, decisions)
    assert summary["overall"] == {"decided": 7, "accepted": 3, "edited": 0, "rejected": 4,
                                  "acceptance_rate": round(3 / 7, 4)}
    assert summary["per_subtask"]["arith"]["acceptance_rate"] == 0.5
    assert summary["per_subtask"]["clock"]["rejection_reasons"] == {"ambiguous": 2}
    assert summary["per_reviewer"]["ben"]["remaining"] == 1
    assert summary["rejection_reasons"] == {"ambiguous": 2, "wrong answer": 2}
    agreement = summary["agreement"]
    # Over a1, a2, c1: ana keep/reject/keep, ben keep/reject/reject: p_o 2/3,
    # p_e = (2/3·1/3) + (1/3·2/3) = 4/9, κ = (2/3 − 4/9) / (5/9) = 0.4
    assert agreement["method"] == "cohen_kappa" and agreement["items"] == 3
    assert agreement["kappa"] == pytest.approx(0.4)


def test_three_reviewers_get_fleiss_kappa_and_pairs() -> None:
    samples = [_sample(f"i{n}") for n in range(4)]
    labels = {"ana": "aarr", "ben": "aara", "cy": "arrr"}
    decisions = {who: {f"i{n}": _decision(f"i{n}", who, "accept" if c == "a" else "reject",
                                          "bad") for n, c in enumerate(marks)}
                 for who, marks in labels.items()}
    agreement = summarize(samples, decisions)["agreement"]
    assert agreement["method"] == "fleiss_kappa" and agreement["items"] == 4
    assert len(agreement["pairs"]) == 3 and agreement["kappa"] is not None


@pytest.mark.parametrize(("edit", "message"), [
    (ItemEdit(question="Q?", options=["4", "5"], answer="7"), "must be one of the options"),
    (ItemEdit(question=" ", options=["4", "5"], answer="5"), "question is empty"),
    (ItemEdit(question="Q?", options=["4", "4"], answer="4"), "two options are the same"),
    (ItemEdit(question="Q?", options=["5"], answer="5"), "at least two options"),
])
def test_an_invalid_edit_says_what_is_wrong(edit: ItemEdit, message: str) -> None:
    with pytest.raises(UserError, match=message):
        apply_edit(_sample("a1"), edit)


def test_a_number_item_needs_a_number() -> None:
    sample = _sample("n1", options=[], answer="12", answer_type=AnswerType.number)
    with pytest.raises(UserError, match="must be a number"):
        apply_edit(sample, ItemEdit(question="How many?", answer="twelve"))
    assert apply_edit(sample, ItemEdit(question="How many?", answer="13")).answer == "13"


def test_reviewed_benchmark_applies_edits_and_leaves_out_rejections() -> None:
    samples = [_sample("a1"), _sample("a2"), _sample("a3")]
    edit = ItemEdit(question="What is 2 + 4?", options=["4", "6", "7"], answer="6")
    decisions = {"ana": {"a1": _decision("a1", "ana", "edit", edit=edit),
                         "a2": _decision("a2", "ana", "reject", "wrong")}}
    items, info = reviewed_items(samples, decisions)
    assert [s.id for s in items] == ["a1", "a3"]
    assert items[0].question == "What is 2 + 4?" and items[0].answer == "6"
    assert items[1] == samples[2]
    assert info == {"path": "benchmark/benchmark.reviewed.jsonl", "items": 2, "edited": 1,
                    "dropped": 1}


def test_decisions_survive_a_torn_line_and_the_last_one_wins(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path, "ana")
    log.record(_decision("a1", "ana", "reject", "wrong"))
    log.record(_decision("a1", "ana", "accept"))
    log.record(_decision("a2", "ana", "accept"))
    log.close()
    with (tmp_path / "review" / "ana.jsonl").open("a") as fh:
        fh.write('{"item": "a3", "reviewer": "ana", "act')  # killed mid-write
    decisions = read_decisions(tmp_path)
    assert {i: d.action for i, d in decisions["ana"].items()} == {"a1": "accept",
                                                                  "a2": "accept"}
    reopened = DecisionLog(tmp_path, "ana")  # cuts the torn tail: the next line is whole
    reopened.record(_decision("a3", "ana", "accept"))
    reopened.close()
    assert set(read_decisions(tmp_path)["ana"]) == {"a1", "a2", "a3"}


def test_one_reviewer_reviews_in_one_process_at_a_time(tmp_path: Path) -> None:
    first = DecisionLog(tmp_path, "ana")
    try:
        with pytest.raises(RunError, match="already reviewing"):
            DecisionLog(tmp_path, "ana")
        DecisionLog(tmp_path, "ben").close()  # another reviewer is welcome
    finally:
        first.close()


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "x" * 41, "a b", "é"])
def test_a_reviewer_name_that_cannot_name_a_file_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UserError, match="reviewer name"):
        DecisionLog(tmp_path, name)
    assert not (tmp_path / "review").exists() or not any((tmp_path / "review").iterdir())
