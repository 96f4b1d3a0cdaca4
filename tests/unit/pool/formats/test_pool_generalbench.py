"""General-Bench loading against the real shared pool."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from benchagent.pool import Pool
from benchagent.records import AnswerType, FieldRole, Modality

Finder = Callable[[Pool, str], str]

CARD_SIZES = {
    "Car Brands Recognition": 192, "Chemistry Vqa": 44, "Lung Nodule Diagnosis Vqa": 120,
    "Mathematical Word Problem Vqa": 8, "Causal-Reasoning": 200,
    "Dialogue-Relation-Extraction": 200, "Document-Level-Causal-Reasoning": 226,
    "Ethical-Reasoning": 200, "Event-Coreference-Resolution": 200,
    "Multi-Turn-Daily-Dialogue-Generation": 222, "Natural-Language-Inference": 196,
    "Social-Science-Question-Answering": 200, "Temporal-Event-Reasoning": 200,
    "Temporal-Reasoning": 204,
}


def test_all_fourteen_datasets_load_with_card_ids(gb_pool: Pool, gb_root: Path) -> None:
    assert gb_pool.warnings == []
    assert {c.name: c.size for c in gb_pool.cards} == CARD_SIZES
    card_ids = {json.loads(p.read_text())["dataset_id"] for p in (gb_root / "cards").glob("*")}
    assert {c.id for c in gb_pool.cards} == card_ids
    for card in gb_pool.cards:
        assert card.format == "general-bench"
        assert card.size == len(gb_pool.samples(card.id))
        assert card.description and card.tasks and card.domain
        assert Path(card.source).is_file()


def test_causal_reasoning_letters_resolve_to_option_text(gb_pool: Pool, by_name: Finder,
                                                         gb_root: Path) -> None:
    card = gb_pool.card(by_name(gb_pool, "Causal-Reasoning"))
    assert card.answer_type is AnswerType.multiple_choice
    assert card.fields[FieldRole.options] == "input.options"
    raw = json.loads((gb_root / "datasets/nlp/Causal-Reasoning/annotation.json").read_text())
    letters = {r["id"]: r["output"]["answer"] for r in raw["data"]}
    for s in gb_pool.samples(card.id):
        assert s.answer == s.options["AB".index(letters[s.source_id])]
    first = gb_pool.samples(card.id)[0]
    assert first.source_id == "cr452" and first.answer == "I knew he told a lie."


def test_nli_class_vocabulary_and_placeholder(gb_pool: Pool, by_name: Finder) -> None:
    card = gb_pool.card(by_name(gb_pool, "Natural-Language-Inference"))
    assert card.answer_type is AnswerType.short_text
    assert set(card.answer_vocab) == {"entailment", "contradiction", "neutral"}
    assert card.fields[FieldRole.context] == "input.raw_text"
    assert gb_pool.samples(card.id)
    for s in gb_pool.samples(card.id):
        assert "<<<" not in s.question
        assert s.question.startswith("What is the relationship")
        assert s.context.startswith("Premise:")


def test_lung_nodule_yes_no_with_existing_images(gb_pool: Pool, by_name: Finder,
                                                 gb_root: Path) -> None:
    card = gb_pool.card(by_name(gb_pool, "Lung Nodule Diagnosis Vqa"))
    assert card.answer_type is AnswerType.yes_no
    assert card.modalities_in == [Modality.image, Modality.text]
    root = (gb_root / "datasets/image/lung_nodule_diagnosis_vqa").resolve()
    samples = gb_pool.samples(card.id)
    assert len(samples) == 120
    for s in samples:
        assert s.answer in {"yes", "no"}
        assert len(s.images) == 1
        img = Path(s.images[0])
        assert img.is_absolute() and img.is_file() and root in img.parents
        assert s.instruction == "Answer the question based on the given image"


def test_car_brands_images_in_subfolder(gb_pool: Pool, by_name: Finder) -> None:
    card = gb_pool.card(by_name(gb_pool, "Car Brands Recognition"))
    assert card.answer_type is AnswerType.short_text and card.answer_vocab == []
    s = gb_pool.samples(card.id)[0]
    assert s.question == "recognize the brand of the car in the image"
    assert s.images[0].endswith("images/CarBrands0453.png") and Path(s.images[0]).is_file()


def test_chemistry_options_parsed_from_question(gb_pool: Pool, by_name: Finder) -> None:
    card = gb_pool.card(by_name(gb_pool, "Chemistry Vqa"))
    assert card.answer_type is AnswerType.multiple_choice
    s = gb_pool.samples(card.id)[0]
    assert s.question == "Which solution has a higher concentration of green particles?"
    assert s.options == ["Solution B", "Solution A", "neither; their concentrations are the same"]
    assert s.answer == "Solution B"
    for s in gb_pool.samples(card.id):
        assert "candidate choices" not in s.question and s.answer in s.options


def test_math_vqa_options_with_quotes(gb_pool: Pool, by_name: Finder) -> None:
    samples = gb_pool.samples(by_name(gb_pool, "Mathematical Word Problem Vqa"))
    first = samples[0]
    assert first.options == ["half", "quarter", "o'clock", "quarter to", "quarter past"]
    assert first.answer == "quarter"
    assert all(Path(s.images[0]).suffix == ".jpg" for s in samples)


def test_event_coreference_lettered_options_in_prompt(gb_pool: Pool, by_name: Finder) -> None:
    card = gb_pool.card(by_name(gb_pool, "Event-Coreference-Resolution"))
    assert card.answer_type is AnswerType.multiple_choice
    s = gb_pool.samples(card.id)[0]
    assert len(s.options) == 4
    assert s.answer == s.options[1]  # "B"
    assert "Choose A, B" not in s.question and "\nA. " not in s.question


def test_temporal_reasoning_list_answers_become_aliases(gb_pool: Pool, by_name: Finder) -> None:
    card = gb_pool.card(by_name(gb_pool, "Temporal-Reasoning"))
    assert card.answer_type is AnswerType.short_text
    s = gb_pool.samples(card.id)[0]
    assert s.answer == "4:00 PM"
    assert s.answer_aliases[0] == "4:00 PM" and "16:00" in s.answer_aliases
    assert "<MASK>" in s.question  # no question field: the dialogue text is the question


def test_free_form_and_dialog_datasets(gb_pool: Pool, by_name: Finder) -> None:
    dialog = gb_pool.card(by_name(gb_pool, "Multi-Turn-Daily-Dialogue-Generation"))
    assert dialog.answer_type is AnswerType.free_form
    assert FieldRole.dialog in dialog.fields
    s = gb_pool.samples(dialog.id)[0]
    assert len(s.dialog) == 4 and s.answer == "Certainly, sir."
    rel = gb_pool.card(by_name(gb_pool, "Dialogue-Relation-Extraction"))
    assert rel.answer_type is AnswerType.free_form
    s = gb_pool.samples(rel.id)[0]
    assert s.context.startswith("Speaker 1:") and s.question.startswith("Extract all relations")
    doc = gb_pool.card(by_name(gb_pool, "Document-Level-Causal-Reasoning"))
    assert doc.answer_type is AnswerType.short_text


def test_ethical_and_social_multiple_choice(gb_pool: Pool, by_name: Finder) -> None:
    for name in ("Ethical-Reasoning", "Social-Science-Question-Answering"):
        card = gb_pool.card(by_name(gb_pool, name))
        assert card.answer_type is AnswerType.multiple_choice
        assert gb_pool.samples(card.id), name
        for s in gb_pool.samples(card.id):
            assert s.question and s.answer in s.options
    social = gb_pool.samples(by_name(gb_pool, "Social-Science-Question-Answering"))[0]
    assert social.context.startswith("Alex and his brother") and social.answer == "Happy"


def test_single_annotation_file_keeps_card_id(gb_root: Path) -> None:
    path = gb_root / "datasets/image/chemistry_vqa/json/annotation.json"
    pool = Pool.load([path])
    assert [c.id for c in pool.cards] == ["9155fd9c"]
    assert pool.cards[0].size == 44


def test_profiling_without_card_gives_same_roles(gb_root: Path, tmp_path: Path) -> None:
    """Without its card, a dataset is profiled from the JSON; roles and types still hold."""
    for rel in ("datasets/nlp/Natural-Language-Inference", "datasets/nlp/Causal-Reasoning"):
        shutil.copytree(gb_root / rel, tmp_path / rel)
    pool = Pool.load([tmp_path])
    cards = {c.name: c for c in pool.cards}
    nli, causal = cards["Natural-Language-Inference"], cards["Causal-Reasoning"]
    assert len(nli.id) == 8 and nli.id != "c78e5c5c"
    assert set(nli.answer_vocab) == {"entailment", "contradiction", "neutral"}
    assert nli.fields[FieldRole.question] == "input.prompt"
    assert nli.fields[FieldRole.context] == "input.raw_text"
    assert causal.answer_type is AnswerType.multiple_choice
    assert pool.samples(causal.id)[0].answer == "I knew he told a lie."
    assert Pool.load([tmp_path]).cards[0].id == pool.cards[0].id  # stable
