"""BIG-bench samples keep what their task asks: task_prefix, the input and output prefixes that
are words of the question, the description when it is the question."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchagent.pool import Pool
from benchagent.records import SourceSample

Finder = Callable[[Pool, str], str]


def _first(pool: Pool, by_name: Finder, name: str) -> SourceSample:
    return pool.samples(by_name(pool, name))[0]


def test_implicatures_keep_the_task_question(bb_pool: Pool, by_name: Finder) -> None:
    sample = _first(bb_pool, by_name, "implicatures")
    assert sample.instruction == "Does Speaker 2's answer mean yes or no?"
    assert sample.question == "Speaker 1: 'But aren't you afraid?' Speaker 2: 'Ma'am, sharks " \
                              "never attack anybody.'"  # the "Q:" label is not kept


def test_sports_keep_prefix_and_output_question(bb_pool: Pool, by_name: Finder) -> None:
    sample = _first(bb_pool, by_name, "sports_understanding")
    assert sample.instruction == ("Determine whether the following statement or statements "
                                  "are plausible or implausible:")
    assert sample.question == "Jamal Murray was perfect from the line\nPlausible/implausible?"


def test_an_input_prefix_of_words_is_part_of_the_question(bb_pool: Pool,
                                                          by_name: Finder) -> None:
    sample = _first(bb_pool, by_name, "movie_recommendation")
    assert sample.question.startswith("Find a movie similar to Mission Impossible, ")


def test_the_description_asks_when_nothing_else_does(bb_pool: Pool, by_name: Finder) -> None:
    shapes = _first(bb_pool, by_name, "geometric_shapes")
    assert shapes.question.endswith("draws a") and "?" not in shapes.question
    assert shapes.instruction == "Name geometric shapes from their SVG paths."
    dates = _first(bb_pool, by_name, "date_understanding")  # its question asks: no description
    assert "?" in dates.question and dates.instruction == ""
    counting = _first(bb_pool, by_name, "object_counting")  # describes the task, asks nothing
    assert counting.instruction == ""


def test_a_subtask_without_prompt_stays_without_it(bb_pool: Pool, by_name: Finder) -> None:
    prompted = _first(bb_pool, by_name, "cause_and_effect/one_sentence")
    assert prompted.instruction == "Which of the following sentences makes more sense?"
    bare = _first(bb_pool, by_name, "cause_and_effect/one_sentence_no_prompt")
    assert bare.question == ""  # the options ask; the description says what about
    assert bare.instruction == "Answer multiple-choice questions distinguishing cause and effect."


def _task(folder: Path, examples: list[dict[str, Any]], **keys: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.json").write_text(json.dumps({**keys, "examples": examples}))


def test_subtask_values_override_the_parents(tmp_path: Path) -> None:
    example = [{"input": "The sky is green", "target_scores": {"T": 0, "F": 1}}]
    root = tmp_path / "bb"
    _task(root / "facts", [], description="Facts", task_prefix="Is the statement true?",
          example_output_prefix="\nTrue or false? ")
    _task(root / "facts" / "own", example, task_prefix="Judge the statement:",
          example_input_prefix="\nQ: ")
    _task(root / "facts" / "inherits", example)
    _task(root / "facts" / "silent", example, task_prefix="", example_output_prefix="")
    pool = Pool.load([root])
    got = {c.name: pool.samples(c.id)[0] for c in pool.cards}
    assert (got["facts/own"].instruction, got["facts/own"].question) == (
        "Judge the statement:", "The sky is green\nTrue or false?")
    assert (got["facts/inherits"].instruction, got["facts/inherits"].question) == (
        "Is the statement true?", "The sky is green\nTrue or false?")
    assert (got["facts/silent"].instruction, got["facts/silent"].question) == (
        "Facts.", "The sky is green")  # no prompt of its own: the description asks
