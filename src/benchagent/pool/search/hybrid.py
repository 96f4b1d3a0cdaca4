"""Hybrid search over dataset cards: BM25 plus dense embeddings, with a persistent vector cache.

    index = HybridIndex(cards, default_embedder(), EmbeddingStore.default())
    hits = index.search("judging whether one sentence follows from another", k=5)

Fusion is a convex combination of the two scores, each scaled to [0, 1] over the indexed
cards (BM25 divided by its best score, cosine min-max): `0.3 * bm25 + 0.7 * dense`. Unlike
reciprocal rank fusion it keeps how far apart the scores are, so a card that is the clear
dense match for a paraphrase beats cards that merely share a common word with the query.
A card is a hit if it holds a query term or its cosine reaches the model's relevance floor.

Vectors are cached in an `EmbeddingStore` (benchagent.common.embedding), keyed by the model's
name and the SHA-256 of the card's embedding text: rebuilding after one card changed embeds
one card.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

import numpy as np

from benchagent.common.embedding import Embedder, EmbeddingStore, Vectors, text_key
from benchagent.pool.search.bm25 import (
    BM25Index,
    Floats,
    QueryTerms,
    ScoredCard,
    top_indices,
)
from benchagent.records import AnswerType, DatasetCard, Modality

log = logging.getLogger(__name__)

BM25_WEIGHT = 0.3
_NAME_SEPARATORS = re.compile(r"[_/\-]+")


def embed_cards(cards: Sequence[DatasetCard], embedder: Embedder,
                store: EmbeddingStore) -> tuple[Vectors, int]:
    """One normalised row per card, from the store where cached; and how many were embedded."""
    if not cards:
        return np.zeros((0, 0), dtype=np.float32), 0
    texts = [dense_text(c) for c in cards]
    keys = [text_key(t) for t in texts]
    cached = store.get_many(embedder.name, keys)
    missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in cached}
    if missing:
        fresh = embedder.embed_passages(list(missing.values()))
        new = dict(zip(missing, fresh, strict=True))
        store.put_many(embedder.name, new)
        cached.update(new)
    return np.stack([cached[k] for k in keys]).astype(np.float32), len(missing)


class HybridIndex:
    """BM25 and, when an embedder is given, dense vectors over the same cards."""

    def __init__(self, cards: Sequence[DatasetCard], embedder: Embedder | None = None,
                 store: EmbeddingStore | None = None, bm25_weight: float = BM25_WEIGHT) -> None:
        self.cards = list(cards)
        self.bm25 = BM25Index(self.cards)
        self.bm25_weight = bm25_weight
        self.embedder = embedder
        self.embedded = 0  # cards embedded while building (the others came from the store)
        self._vectors: Vectors | None = None
        if embedder is not None and self.cards:
            try:
                self._vectors, self.embedded = embed_cards(
                    self.cards, embedder, store or EmbeddingStore(None))
            except (RuntimeError, OSError, ValueError) as exc:
                log.warning("dense search is off: embedding the cards failed (%s); "
                            "searching with BM25 only", exc)

    @property
    def dense(self) -> bool:
        """Whether searches use the embeddings (False: BM25 only)."""
        return self._vectors is not None

    def search(self, text: str, k: int = 10, modalities: Iterable[Modality] | None = None,
               answer_types: Iterable[AnswerType] | None = None) -> list[ScoredCard]:
        """Best first, filtered; `reason` names the matched terms and the dense similarity."""
        if self._vectors is None or self.embedder is None or not text.strip():
            return self.bm25.search(text, k=k, modalities=modalities, answer_types=answer_types)
        query = QueryTerms.parse(text)
        lexical = self.bm25.term_scores(query.terms)
        # einsum, not `@`: BLAS's threads and the embedding engine's OpenMP threads, both
        # spinning on 2 cores, made the product after a query embedding ~10x slower.
        cosine = self.cosines(text)
        assert cosine is not None
        fused = np.round(self._fuse(lexical, cosine), 6)
        keep = self.bm25.masks.mask(modalities, answer_types)
        keep &= (lexical > 0) | (cosine >= self.embedder.relevance_floor)
        hits = []
        for i in top_indices(fused, keep, k, self.cards):
            matched = self.bm25.matched(i, query.terms)
            reason = f"dense {cosine[i]:.2f}"
            if matched:
                reason = f"matched {query.quoted(matched)} (bm25 {lexical[i]:.2f}); {reason}"
            hits.append(ScoredCard(card=self.cards[i], score=float(fused[i]), reason=reason,
                                   bm25=round(float(lexical[i]), 6),
                                   dense=round(float(cosine[i]), 6)))
        return hits

    def cosines(self, text: str) -> Floats | None:
        """Every card's cosine similarity to the text (None without dense vectors)."""
        if self._vectors is None or self.embedder is None or not text.strip():
            return None
        query_vector = self.embedder.embed_query(text)
        return np.einsum("ij,j->i", self._vectors, query_vector).astype(np.float64)

    def _fuse(self, lexical: Floats, cosine: Floats) -> Floats:
        top = lexical.max(initial=0.0)
        lex = lexical / top if top > 0 else lexical
        low, high = cosine.min(), cosine.max()
        dense = (cosine - low) / (high - low) if high > low else np.zeros_like(cosine)
        return self.bm25_weight * lex + (1 - self.bm25_weight) * dense


def dense_text(card: DatasetCard) -> str:
    """The card as prose for the embedding model: name, description, tasks, domain, I/O."""
    name = _NAME_SEPARATORS.sub(" ", card.name).strip()
    parts = [f"{name}.", card.description.strip()]
    if card.tasks:
        parts.append("Tasks: " + ", ".join(card.tasks) + ".")
    if card.domain:
        parts.append(f"Domain: {card.domain}.")
    inputs = " and ".join(m.value for m in card.modalities_in)
    answer = card.answer_type.value.replace("_", " ")
    parts.append(f"Input: {inputs}; answer: {answer}.")
    return " ".join(p for p in parts if p)
