"""Search over the real pools: BM25 plus modality and answer-type filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchagent.pool import Pool
from benchagent.pool.cards import cardcache
from benchagent.pool.formats import bigbench, generalbench, media
from benchagent.pool.formats.tabular import table
from benchagent.pool.search.bm25 import BM25Index, stem, tokenize
from benchagent.records import AnswerType, Modality


@pytest.mark.parametrize(("query", "expected"), [
    ("date arithmetic", "Date-Arithmetic"),
    ("natural language inference", "Natural-Language-Inference"),
    ("lung nodule images", "Lung Nodule Diagnosis Vqa"),
    ("sarcasm", "snarks"),
    ("counting objects", "object_counting"),
    ("convert units of measurement", "Unit-Conversion"),
])
def test_obvious_dataset_first(all_pool: Pool, query: str, expected: str) -> None:
    hits = all_pool.search(query, k=5)
    assert hits and hits[0].card.name == expected, [(h.card.name, h.score) for h in hits]
    assert hits[0].reason.startswith("matched ")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_date_arithmetic_without_starter(bb_pool: Pool) -> None:
    hits = bb_pool.search("date arithmetic", k=3)
    assert hits[0].card.name == "date_understanding"
    assert "'date'" in hits[0].reason


def test_sarcasm_reason_names_the_term(bb_pool: Pool) -> None:
    (top, *_) = bb_pool.search("sarcasm")
    assert top.card.name == "snarks" and top.reason.startswith("matched 'sarcasm'")


def test_modality_filter(all_pool: Pool) -> None:
    hits = all_pool.search("question answering", k=50, modalities={Modality.image})
    assert hits and all(Modality.image in h.card.modalities_in for h in hits)
    text = all_pool.search("question answering", k=50, modalities={Modality.text})
    assert len(text) > len(hits)  # text is a subset of image+text cards too
    assert all_pool.search("lung", modalities={Modality.audio}) == []


def test_answer_type_filter(all_pool: Pool, starter_pool: Pool) -> None:
    hits = all_pool.search("reasoning", k=100, answer_types={AnswerType.yes_no})
    assert hits and all(h.card.answer_type is AnswerType.yes_no for h in hits)
    numbers = all_pool.search("", k=100, answer_types={AnswerType.number})
    starter_numbers = {c.name for c in starter_pool.cards if c.answer_type is AnswerType.number}
    assert "Unit-Conversion" in starter_numbers  # and Spoken-Numbers, when espeak-ng is there
    assert {h.card.name for h in numbers} == {"object_counting"} | starter_numbers
    assert all(h.score == 0 for h in numbers)


def test_class_labels_serve_multiple_choice(all_pool: Pool) -> None:
    hits = all_pool.search("natural language inference", k=3,
                           answer_types={AnswerType.multiple_choice})
    assert hits[0].card.name == "Natural-Language-Inference"
    assert hits[0].card.answer_type is AnswerType.short_text and hits[0].card.answer_vocab


def test_no_match_and_k(all_pool: Pool) -> None:
    assert all_pool.search("zzyzx qwerty") == []
    assert len(all_pool.search("reasoning", k=2)) == 2
    assert all_pool.search("reasoning", k=0) == []


def test_tokenizer_and_stemmer() -> None:
    assert tokenize("The Lung-Nodule images, of a CT!") == ["lung", "nodul", "imag", "ct"]
    assert stem("sarcastic") == stem("sarcasm")
    for a, b in [("images", "image"), ("dates", "date"), ("dated", "date"),
                 ("reasoning", "reason"), ("queries", "query"), ("running", "run"),
                 ("choices", "choice"), ("boxes", "box")]:
        assert stem(a) == stem(b), (a, b)
    assert stem("class") == "class" and stem("analysis") == "analysis"


def test_bm25_prefers_rarer_and_repeated_terms(gb_pool: Pool) -> None:
    index = BM25Index(gb_pool.cards)
    hits = index.search("temporal event", k=3)
    assert hits[0].card.name == "Temporal-Event-Reasoning"


def test_a_warm_load_decodes_no_image_and_builds_no_card(
        gb_root: Path, bb_root: Path, starter_root: Path, starter_pool: Pool, gb_pool: Pool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the cache holds the cards and the media checks, a load only reads them back (the
    first load decodes every image; `pool index` pays that once). Its speed is measured in
    benchmarks/search_latency.py, not here."""
    Pool.load([gb_root, bb_root, starter_root])
    decoded: list[str] = []
    built: list[str] = []
    real_cached_card = cardcache.cached_card

    def counting_build(ctx: object, key: object, build: object) -> object:
        def wrapped() -> object:
            built.append(str(key))
            return build()  # type: ignore[operator]
        return real_cached_card(ctx, key, wrapped)  # type: ignore[arg-type]

    monkeypatch.setattr(media, "check_image_decodes", lambda path, ref: decoded.append(ref))
    for module in (generalbench, bigbench, table):
        monkeypatch.setattr(module, "cached_card", counting_build)
    pool = Pool.load([gb_root, bb_root, starter_root])
    assert len(pool.cards) == 40 + len(starter_pool.cards)  # 13 starter datasets (10 w/o espeak-ng)
    assert decoded == [] and built == []
