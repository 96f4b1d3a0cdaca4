"""Options that restate each other, and golds the source does not single out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchagent.executor.option_rules import restating_pairs, scored_right


@pytest.mark.parametrize("options", [
    ["Feeling sad", "Sad", "Angry"],  # social_iqa
    ["He is healthy.", "He was healthy.", "He is sick."],  # Causal-Reasoning
    ["Happy", "happy.", "Upset"],
    ["To be happy", "Happy!", "Bored"],
])
def test_options_that_are_the_same_words_restate_each_other(options: list[str]) -> None:
    assert len(restating_pairs(options)) == 1


@pytest.mark.parametrize("options", [
    ["literal similarity.", "an analogy.", "a false analogy."],  # analogical_similarity
    ["Buy the food", "Not buy the food"],  # social_iqa: a negation is another answer
    ["half", "quarter", "quarter to", "quarter past"],  # Mathematical Word Problem VQA
    ["9am to 1pm", "1pm to 9pm"],  # temporal_sequences: the order carries the meaning
    ["The black book is the leftmost.", "The orange book is the leftmost."],
    ["pearls jam", "pearl jams", "pearl jam"],  # ruin_names: spelling edits are the task
    ["He went home", "She went home"],
    ["Solution A", "Solution B"],
])
def test_options_that_differ_by_a_meaningful_word_are_distinct(options: list[str]) -> None:
    assert restating_pairs(options) == []


def test_the_source_scoring_two_options_as_right_is_caught() -> None:
    # geometric_shapes: target_scores gives "circle" and "ellipse" the top score
    options = ["circle", "heptagon", "hexagon", "kite", "ellipse"]
    assert scored_right(options, "circle", ["circle", "ellipse"]) == ["circle", "ellipse"]
    assert scored_right(options, "circle", []) == ["circle"]
    # rendered options leave letters; the aliases then hold option texts, not letters
    assert scored_right(["A", "B"], "A", ["circle", "ellipse"]) == ["A"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8))
def test_never_raises_on_arbitrary_options(options: list[str]) -> None:
    for a, b in restating_pairs(options):
        assert a in options and b in options
