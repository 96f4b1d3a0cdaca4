"""Evidence read-back on text: which facts a source text states, and which a reading lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from benchagent.executor.evidence import facts, lost_facts, tokens

# A temporal_sequences item of the BIG-bench pool, as render_text_image writes it.
TEMPORAL = ("Today, Andrew went to the construction site. Between what times could they have "
            "gone?\nWe know that:\nAndrew woke up at 9am.\nAnthony saw Andrew buying clothes at "
            "the mall from 9am to 2pm.\nMark saw Andrew taking photos near the Leaning Tower of "
            "Pisa from 2pm to 3pm.\nThe construction site was closed after 10pm.\nQuestion: "
            "Between what times could Andrew have gone to the construction site?\nA. 7pm to 9pm"
            "\nB. 3pm to 4pm")


def test_facts_are_numbers_times_and_names() -> None:
    found = facts(TEMPORAL)
    assert {"9am", "2pm", "3pm", "10pm", "7pm", "9pm", "4pm"} <= set(found)
    assert {"Andrew", "Anthony", "Mark", "Leaning", "Tower", "Pisa"} <= set(found)
    # sentence openers and words the text also writes in lower case are not names
    assert not {"Today", "Between", "We", "Question", "The", "A", "B"} & set(found)
    assert facts("Regulators met. The regulators left.") == []
    assert {"30", "2021", "April"} <= set(facts("Yesterday was April 30, 2021. What is the date "
                                                "today in MM/DD/YYYY?"))


def test_a_line_hidden_by_an_occlusion_loses_its_time() -> None:
    reading = TEMPORAL.replace("The construction site was closed after 10pm.", "")
    [lost] = lost_facts(TEMPORAL, reading, "image")
    assert (lost.fact, lost.expected, lost.found) == ("10pm", 1, 0)


def test_a_fact_must_be_read_as_often_as_it_is_stated() -> None:
    reading = TEMPORAL.replace("Andrew woke up", "Andr3w woke up")
    assert [(f.fact, f.expected, f.found) for f in lost_facts(TEMPORAL, reading, "image")] == \
        [("Andrew", 5, 4)]


def test_ocr_spelling_of_numbers_and_case_do_not_count_as_lost() -> None:
    reading = (TEMPORAL.replace("10pm", "10 PM").replace("9am", "9 a.m.").upper()
               .replace("\n", " "))
    assert lost_facts(TEMPORAL, reading, "image") == []
    assert lost_facts("Open at 3:45 on 2001-12-24.", "Open at 3.45 on 2001 12 24", "image") == []
    assert lost_facts("Open at 3:45.", "Open at 3 4S.", "image") == []  # S for 5 by a digit
    assert lost_facts("Open at 3:45.", "Open at 3 4.", "image")[0].fact == "3:45"


def test_spoken_numbers_are_compared_as_words() -> None:
    assert tokens("closed after 10pm", "audio") == tokens("closed after ten p.m.", "audio")
    assert lost_facts("The pool closes at 10pm.", "The pool closes at ten p.m.", "audio") == []
    assert lost_facts("What is 5746 plus 12?", "What is 5,746 plus twelve?", "audio") == []
    [lost] = lost_facts("What is 5746 plus 12?", "What is 5,746 plus?", "audio")
    assert lost.fact == "12" and lost.describe() == "'12' 0 of 1 times"


def test_text_without_facts_loses_none() -> None:
    assert lost_facts("which river flows through the city?", "", "image") == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.text(max_size=400), st.sampled_from(["image", "audio"]))
def test_never_raises_on_arbitrary_text(expected: str, reading: str, mode: str) -> None:
    lost = lost_facts(expected, reading, mode)  # type: ignore[arg-type]
    assert all(f.found < f.expected for f in lost)
    assert lost_facts(expected, expected, mode) == []  # type: ignore[arg-type]


def test_a_blurred_reading_that_confuses_glyphs_keeps_the_fact() -> None:
    """Tesseract on blurred pages of the text_in_image build: "5am" read as "Sam", "1pm" as
    "ipm", "Skylar" as "Skyler". A person reads them; the facts are still there."""
    text = "David woke up at 5am. Mary saw David from 7am to 1pm. Remy gave Skylar the keys."
    reading = "David woke up at Sam. Mary saw David from 7am to ipm. Remy geve Skyler the keys."
    assert lost_facts(text, reading, "image") == []
    assert [f.fact for f in lost_facts(text, "David woke up at. Mary saw David from 7am to. "
                                             "Remy gave the keys.", "image")] == \
        ["5am", "1pm", "Skylar"]
    assert [f.fact for f in lost_facts("Closed after 10pm.", "Closed after 18pm.", "image")] \
        == ["10pm"]  # a different digit is a different fact


def test_ocr_glyph_confusions_inside_times_and_short_numbers() -> None:
    assert lost_facts("from 10am to 11am.", "from 10am to 1lam.", "image") == []
    assert lost_facts("Speaker 1: 'Do you?'", "Speaker l: 'Do you?'", "image") == []
    assert lost_facts("Speaker 1: 'Do you?'", "Speaker |. 'Do you?'", "image") == []
    assert lost_facts("Speaker 1: 'Do you?'", "Speaker : 'Do you?'", "image")[0].fact == "1"
