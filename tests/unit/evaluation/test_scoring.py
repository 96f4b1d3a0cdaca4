"""Scoring reads answers in the forms models really write them, and never guesses: an answer that
names no single choice is unscored, not wrong."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchagent.evaluation.results import score_one
from benchagent.evaluation.runner import Answer, Grade
from benchagent.evaluation.scoring import read_number, score_answer
from benchagent.records import AnswerType, BenchmarkSample, Provenance

CAPITALS = ["London", "Paris", "Rome", "Berlin"]


def item(answer: str, kind: AnswerType = AnswerType.multiple_choice,
         options: list[str] | None = None) -> BenchmarkSample:
    return BenchmarkSample(id="x", subtask="s", question="q?", answer=answer, answer_type=kind,
                           options=CAPITALS if options is None and
                           kind == AnswerType.multiple_choice else (options or []),
                           provenance=Provenance(source_dataset="d", source_dataset_name="d",
                                                 source_id="1"))


@pytest.mark.parametrize("text", [
    "The answer is (B).", "B) Paris", "**B**", "Answer: b", "B", "b", "(b)", "Paris",
    "paris.", "The answer is Paris.", "B. Paris is the capital of France.",
    "I think the answer is B because Paris is the capital.", "Option B",
    "London is in England. Rome is in Italy. Answer: B", "Final answer: \\boxed{B}",
    "**Answer:** B) Paris", "The correct option is B", "B - Paris",
])
def test_option_answers_in_the_forms_models_write(text: str) -> None:
    score = score_answer(item("Paris"), text)
    assert (score.outcome, score.extracted) == ("correct", "Paris"), text


@pytest.mark.parametrize("text", ["The answer is (A).", "A) London", "London", "Answer: a",
                                  "**A**", "Rome is wrong, the answer is A"])
def test_a_wrong_option_is_wrong(text: str) -> None:
    assert score_answer(item("Paris"), text).outcome == "wrong", text


@pytest.mark.parametrize("text", ["", "   ", "I don't know.", "Paris or London, hard to say.",
                                  "the answer is a city in Europe", "E", "It is not listed."])
def test_no_single_option_is_unscored_never_wrong(text: str) -> None:
    assert score_answer(item("Paris"), text).outcome == "unscored", text


@pytest.mark.parametrize("text", ["A) Paris", "The answer is (C) Paris.", "Answer: D. Paris"])
def test_a_letter_followed_by_another_options_text_is_unscored(text: str) -> None:
    assert score_answer(item("Paris"), text).outcome == "unscored", text


def test_numeric_options_are_read_by_the_text_after_the_letter() -> None:
    numbers = item("780000", options=["852180", "778333", "780000000", "780000"])
    assert score_answer(numbers, "D. 780000").outcome == "correct"
    assert score_answer(numbers, "B. 780000").outcome == "unscored"  # B is 778333
    assert score_answer(numbers, "C. 780000000").outcome == "wrong"
    assert score_answer(numbers, "The answer is (D) because 780000 = 780 × 1000").outcome == \
        "correct"


def test_option_text_wins_over_letter_reading_when_an_option_is_a_letter() -> None:
    grid = item("C", options=["D", "C", "B", "A"])
    assert score_answer(grid, "C").outcome == "correct"
    assert score_answer(grid, "The answer is (B).").extracted == "C"  # letter B: second option


def test_an_option_inside_another_counts_once() -> None:
    times = item("3pm to 4pm", options=["2pm to 3pm", "3pm to 4pm", "4pm"])
    assert score_answer(times, "They could have gone from 3pm to 4pm.").outcome == "correct"


@pytest.mark.parametrize(("text", "outcome"), [
    ("Yes.", "correct"), ("yes", "correct"), ("Yes, because the text says so.", "correct"),
    ("**No**", "wrong"), ("Answer: no", "wrong"), ("I would say yes.", "correct"),
    ("True", "correct"), ("Maybe.", "unscored"), ("", "unscored"),
])
def test_yes_no(text: str, outcome: str) -> None:
    assert score_answer(item("yes", AnswerType.yes_no), text).outcome == outcome


@pytest.mark.parametrize(("gold", "text", "outcome"), [
    ("780000", "780000", "correct"), ("780000", "780,000 ml", "correct"),
    ("780000", "The answer is 780000 milliliters.", "correct"),
    ("42", "42. Because 6 × 7 = 42.", "correct"), ("42", "Answer: 42", "correct"),
    ("7", "seven", "correct"), ("3.14", "3.1416", "correct"), ("3.5", "3,5", "correct"),
    ("2", "2.4", "wrong"), ("42", "41", "wrong"), ("25", "25%", "correct"),
    ("1000", "1e3", "correct"), ("-3", "−3 degrees", "correct"),
    ("42", "somewhere between 40 and 45", "unscored"), ("42", "I cannot tell.", "unscored"),
])
def test_numbers_with_tolerance_and_units(gold: str, text: str, outcome: str) -> None:
    assert score_answer(item(gold, AnswerType.number), text).outcome == outcome, text


def test_a_number_after_reasoning_is_the_stated_one() -> None:
    assert read_number("First 6 × 7 = 42, then minus 2. The answer is 40.") == 40


@pytest.mark.parametrize(("text", "outcome"), [
    ("Paris", "correct"), ("paris.", "correct"), ("The answer is Paris.", "correct"),
    ("Paris, France", "correct"), ("the Eiffel Tower", "wrong"), ("London", "wrong"),
    ("", "unscored"),
])
def test_short_text_is_normalised(text: str, outcome: str) -> None:
    assert score_answer(item("Paris", AnswerType.short_text), text).outcome == outcome


def _answer(text: str = "", unsupported: str | None = None) -> Answer:
    return Answer(key="k", model="m", item="x", condition="full", text=text,
                  unsupported=unsupported)


def test_free_form_is_unscored_without_a_judge_and_graded_with_one() -> None:
    essay = item("Because the ice melts.", AnswerType.free_form)
    assert score_one(essay, _answer("It melts."), None, judged=False).outcome == "unscored"
    grade = Grade(key="g", answer="k", correct=True, reason="same point")
    assert score_one(essay, _answer("It melts."), grade, judged=True).outcome == "correct"
    no_verdict = Grade(key="g", answer="k", correct=None, reason="invalid output")
    assert score_one(essay, _answer("It melts."), no_verdict, judged=True).outcome == "unscored"


def test_an_item_the_model_cannot_take_is_unsupported() -> None:
    scored = score_one(item("Paris"), _answer(unsupported="takes no image input"), None, False)
    assert scored.outcome == "unsupported" and scored.reason == "takes no image input"


ANSWER_TYPES = [
    item("Paris"), item("yes", AnswerType.yes_no), item("42", AnswerType.number),
    item("Paris", AnswerType.short_text), item("text", AnswerType.free_form),
    item("C", options=["D", "C", "B", "A"]), item("3,5", AnswerType.number),
]


@pytest.mark.parametrize("text", ["answer" + " " * 3000 + "!", "Answer:" + "\n \t" * 2000,
                                  "answer is " * 2000, "(" * 5000, "1," * 5000, "B) " * 3000])
def test_long_runs_are_read_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    for sample in ANSWER_TYPES:
        score_answer(sample, text)
    # a bound far from both sides: read in linear time this takes milliseconds, while the
    # patterns backtracking over a run of spaces took hours on the first case
    assert time.perf_counter() - started < 30


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), index=st.integers(0, len(ANSWER_TYPES) - 1))
def test_scoring_never_raises_on_any_text(text: str, index: int) -> None:
    score = score_answer(ANSWER_TYPES[index], text)
    assert score.outcome in ("correct", "wrong", "unscored")


@settings(max_examples=200, deadline=None)
@given(text=st.from_regex(r"(The answer is |Answer: |\*\*)?\(?[A-Za-z0-9 .,:()*-]{0,40}",
                          fullmatch=True))
def test_scoring_never_raises_on_answer_like_text(text: str) -> None:
    for sample in ANSWER_TYPES:
        assert score_answer(sample, text).outcome in ("correct", "wrong", "unscored")
