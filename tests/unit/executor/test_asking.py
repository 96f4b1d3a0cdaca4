"""Does an item ask something? Accept and reject cases taken from the shared pools' items, as
the executor builds them (the rules instruction only says how to answer)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import SHARED_POOLS

from benchagent.executor.asking import states_only_format, what_it_asks
from benchagent.executor.instructions import _TEMPLATES
from benchagent.pool import Pool
from benchagent.records import AnswerType

MC = _TEMPLATES[AnswerType.multiple_choice]
YES_NO = _TEMPLATES[AnswerType.yes_no]
FREE = _TEMPLATES[AnswerType.free_form]


def _asks(question: str, options: list[str], *, instruction: str = MC,
          context: str = "") -> bool:
    return what_it_asks([instruction, context, question], question, options).asks


def _proposition(question: str, instruction: str = YES_NO) -> bool:
    return bool(what_it_asks([instruction, question], question, ["yes", "no"]).question)


@pytest.mark.parametrize("sentence", [*_TEMPLATES.values(),
                                      "Please answer the question based on the image, selecting "
                                      "one from the given choices.",
                                      "Answer the question based on the given image",
                                      "Answer the question shown in the image."])
def test_answer_format_sentences_state_no_task(sentence: str) -> None:
    assert states_only_format(sentence)
    assert not _asks("", ["a", "b"], instruction=sentence)


@pytest.mark.parametrize(("question", "options"), [
    # Ethical-Reasoning er174, the example: which of Rick, Mike, the target is "direct"?
    ("The target was to the left, so Rick told Mike to look in that direction.",
     ["showy", "greedy", "deceptive", "direct", "untruthful"]),
    ("When James noticed his coworkers had eaten his chips, he exhaled and bought more.",
     ["composed", "enraged", "uncertain", "malicious", "irritable"]),
    ("Mark was an unpredictable character, you never knew when he might explode again.",
     ["unstable", "resentful", "self-centered"]),  # "Mark" is a name, not "mark the ..."
    # movie_recommendation without its "Find a movie similar to": a list and a colon
    ("Mission Impossible, The Silence of the Lambs, American Beauty, Star Wars Episode IV - A "
     "New Hope:", ["Austin Powers International Man of Mystery", "In Cold Blood", "Rosetta"]),
    # word_sorting without "Sort the following words alphabetically:"
    ("stick gelatine", []),
    # implicatures without its question: the only "?" is Speaker 1's
    ("Speaker 1: 'But aren't you afraid?' Speaker 2: 'Ma'am, sharks never attack anybody.'",
     ["yes", "no"]),
    ("Harmony in pop:", []),
])
def test_items_that_ask_nothing_are_caught(question: str, options: list[str]) -> None:
    assert not _asks(question, options)


@pytest.mark.parametrize(("instruction", "question", "options"), [
    (MC, "Find a movie similar to Mission Impossible, The Silence of the Lambs, American "
         "Beauty, Star Wars Episode IV - A New Hope:", ["In Cold Blood", "Rosetta"]),
    ("Sort the following words alphabetically: " + FREE, "stick gelatine", []),
    ("Does Speaker 2's answer mean yes or no? " + YES_NO,
     "Speaker 1: 'Do you want to quit?' Speaker 2: 'I've never been the type of person who "
     "throws in the towel when things get tough.'", ["yes", "no"]),
    ("Determine whether the following statement or statements are plausible or implausible: "
     + MC, "Jamal Murray was perfect from the line", ["plausible", "implausible"]),
    ("In the following sentences, explain the antecedent of the pronoun (which thing the "
     "pronoun refers to), or state that it is ambiguous. " + MC,
     "After meeting with the producers, Sam went to his office.",
     ["The office was the producers' office", "The office was Sam's office", "Ambiguous"]),
    (MC, "What is the effect of: He said he saw a hellhound running on the street.?",
     ["I knew he told a lie.", "I believed what he said."]),
    (MC, "Which of the following is a humorous edit of this artist or movie name: 'star wars'?",
     ["stare wars", "stariwars"]),
    (FREE, "recognize the brand of the car in the image", []),
    (MC, "Listen to the audio clip and answer the spoken question.", ["36", "49"]),
    # Temporal-Reasoning: a masked span is the question
    (MC, "A: Do you have an appointment ? B: Yes . Our meeting is set for <MASK> .",
     ["2 o'clock", "90 days"]),
    # geometric_shapes and analogical_similarity: stems the options complete
    (MC, 'This SVG path element <path d="M 59.43,52.76 L 75.49,27.45"/> draws a',
     ["circle", "hexagon"]),
    (MC, "An electron is accelerated along a circular orbit at a speed close to the speed of "
         "light. The electron emits", ["A nucleus", "Synchrotron radiation"]),
    # logical_deduction: options are statements about the text, one of them holds
    (MC, "On a shelf, there are three books: a black book, an orange book, and a blue book. The "
         "blue book is to the right of the orange book. The orange book is to the right of the "
         "black book.", ["The black book is the leftmost.", "The blue book is the leftmost."]),
])
def test_items_with_a_question_or_task_statement_pass(instruction: str, question: str,
                                                      options: list[str]) -> None:
    assert _asks(question, options, instruction=instruction)


def test_a_question_rendered_into_an_image_counts() -> None:
    shown = "Question: Between what times could Andrew have gone to the museum?"
    prompt = "Answer the question shown in the image."
    assert what_it_asks([prompt, shown], prompt, ["A", "B"]).asks
    assert not what_it_asks([prompt], prompt, ["A", "B"]).asks


@pytest.mark.parametrize(("instruction", "question", "ok"), [
    (YES_NO, "Vivaldi streamed his concerto online to his subscribers.", False),
    (YES_NO, "Take 1 step. Take 2 steps. Take 3 steps. Turn around. Take 6 steps.", False),
    (YES_NO + " Does the sentence contain an anachronism?",
     "Vivaldi streamed his concerto online to his subscribers.", True),
    ("If you follow these instructions, do you return to the starting point? " + YES_NO,
     "Take 1 step. Take 2 steps. Take 3 steps. Turn around. Take 6 steps.", True),
    (YES_NO, "Hydrogen's atomic number squared exceeds number of Spice Girls?", True),
    (YES_NO, "Cound you please tell me whether the lung nodule in the given image is "
             "malignant? Yes or no?", True),
])
def test_a_yes_no_item_must_say_what_yes_means(instruction: str, question: str,
                                               ok: bool) -> None:
    assert _proposition(question, instruction) is ok


@pytest.fixture(scope="module")
def bigbench() -> Pool:
    return Pool.load([SHARED_POOLS / "bigbench"])


def _rate(pool: Pool, name: str, with_task_prefix: bool) -> float:
    card = next(c for c in pool.cards if c.name == name)
    samples = pool.samples(card.id)
    asked = 0
    for s in samples:
        instruction = _TEMPLATES[card.answer_type]
        if with_task_prefix and s.instruction:
            instruction = f"{s.instruction} {instruction}"
        asked += what_it_asks([instruction, s.question], s.question, s.options).asks
    return asked / len(samples)


@pytest.mark.parametrize(("name", "bare", "prefixed"), [
    ("strategyqa", 1.0, 1.0), ("temporal_sequences", 1.0, 1.0), ("date_understanding", 1.0, 1.0),
    ("logical_deduction/three_objects", 1.0, 1.0), ("social_iqa", 1.0, 1.0),
    ("implicatures", 0.0, 1.0), ("navigate", 0.0, 1.0), ("disambiguation_qa", 0.0, 1.0),
    ("word_sorting", 0.0, 1.0),
    ("sports_understanding", 1.0, 1.0)])  # its loader puts "Plausible/implausible?" after it
def test_whole_bigbench_tasks_ask_only_with_their_question(bigbench: Pool, name: str,
                                                           bare: float, prefixed: float) -> None:
    assert _rate(bigbench, name, False) == pytest.approx(bare, abs=0.01)
    assert _rate(bigbench, name, True) == pytest.approx(prefixed, abs=0.01)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=4), st.text(max_size=200),
       st.lists(st.text(max_size=40), max_size=6))
def test_never_raises_on_arbitrary_text(texts: list[str], question: str,
                                        options: list[str]) -> None:
    result = what_it_asks(texts, question, options)
    assert result.asks == bool(result.question or result.other)


@pytest.mark.parametrize(("question", "options"), [
    ("Malcolm Brogdon banked the shot in", ["plausible", "implausible"]),  # a phrasal "in"
    ("Will Fuller was perfect from the line", ["plausible", "implausible"]),  # a Will, no "will"
    ("Michael Porter Jr. was out at home", ["plausible", "implausible"]),
    ("select gummy mindful flunky moral nnw tiffany", []),  # word_sorting: listed words
    ("lying pasteur sunshade hoar slapdash reclusive dodecahedron as", []),
])
def test_statements_that_look_like_questions_or_tasks_are_not(question: str,
                                                              options: list[str]) -> None:
    assert not _asks(question, options)


def test_a_wh_question_without_its_question_mark_still_asks() -> None:
    assert _asks("How did Cramer become familiar with the great keyboard composers", [],
                 instruction=_TEMPLATES[AnswerType.short_text])
