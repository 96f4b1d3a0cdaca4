"""The text helpers behind the loaders and the answer-type profile."""

from __future__ import annotations

from benchagent.pool.cards.profile import profile_answers
from benchagent.pool.fields import (
    fill_placeholders,
    match_option,
    split_candidate_choices,
    split_lettered_options,
)
from benchagent.records import AnswerType, SourceSample


def test_candidate_choices_are_parsed_safely() -> None:
    q, opts = split_candidate_choices(
        "Which is a compound? The candidate choices are ['water', \"o'zone\"].")
    assert q == "Which is a compound?" and opts == ["water", "o'zone"]
    evil = "Q? The candidate choices are [__import__('os').system('echo hi')]."
    assert split_candidate_choices(evil) == (evil, [])
    assert split_candidate_choices("No choices here.") == ("No choices here.", [])


def test_lettered_options() -> None:
    q = "Intro\n\nWhich one?\n\nA. red\nB. blue\nC. green\n\nChoose A, B, or C."
    rest, opts = split_lettered_options(q)
    assert opts == ["red", "blue", "green"] and rest == "Intro\n\nWhich one?"
    assert split_lettered_options("A. only one")[1] == []


def test_match_option() -> None:
    opts = ["Solution A", "Solution B"]
    assert match_option("B", opts) == "Solution B"
    assert match_option("(A)", opts) == "Solution A"
    assert match_option("solution b.", opts) == "Solution B"
    assert match_option("C", opts) is None and match_option("nope", opts) is None


def test_placeholders() -> None:
    text = "<<<raw_text>>>. What is the relation?"
    assert fill_placeholders(text, {"raw_text": "P"}, {"raw_text"}) == "What is the relation?"
    assert fill_placeholders("Read: <<<doc>>>", {"doc": "D"}, set()) == "Read: D"


def _s(answer: str, options: list[str] | None = None) -> SourceSample:
    return SourceSample(dataset_id="d", source_id=answer, answer=answer, options=options or [])


def test_profile_rules() -> None:
    assert profile_answers([_s("x", ["x", "y"])] * 3).answer_type is AnswerType.multiple_choice
    assert profile_answers([_s("Yes", ["Yes", "No"])]).answer_type is AnswerType.yes_no
    assert profile_answers([_s("yes"), _s("No")]).answer_type is AnswerType.yes_no
    assert profile_answers([_s("1,200"), _s("-3.5")]).answer_type is AnswerType.number
    labels = profile_answers([_s(f"label{i % 4}") for i in range(40)])
    assert labels.answer_type is AnswerType.short_text
    assert labels.vocab == ["label0", "label1", "label2", "label3"]
    few = profile_answers([_s(f"label{i % 4}") for i in range(8)])
    assert few.vocab == [] and few.answer_type is AnswerType.short_text
    long = profile_answers([_s("a long answer " * 5)] * 3)
    assert long.answer_type is AnswerType.free_form
