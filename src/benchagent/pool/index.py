"""Hybrid search over dataset cards: BM25 plus dense embeddings, with a persistent vector cache.

    index = HybridIndex(cards, default_embedder(), EmbeddingStore.default())
    hits = index.search("judging whether one sentence follows from another", k=5)

Fusion is a convex combination of the two scores, each scaled to [0, 1] over the indexed
cards (BM25 divided by its best score, cosine min-max): `0.3 * bm25 + 0.7 * dense`. Unlike
reciprocal rank fusion it keeps how far apart the scores are, so a card that is the clear
dense match for a paraphrase beats cards that merely share a common word with the query.
A card is a hit if it holds a query term or its cosine reaches the model's relevance floor.

Vectors are cached in SQLite under `$BENCHAGENT_CACHE/index/`, keyed by the model's name and
the SHA-256 of the card's embedding text: rebuilding after one card changed embeds one card.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from benchagent.paths import cache_dir
from benchagent.pool.embed import Embedder, Vectors, dense_text
from benchagent.pool.search import (
    BM25Index,
    Floats,
    QueryTerms,
    ScoredCard,
    top_indices,
)
from benchagent.records import AnswerType, DatasetCard, Modality

log = logging.getLogger(__name__)

BM25_WEIGHT = 0.3
_SCHEMA = ("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key TEXT NOT NULL, "
           "vec BLOB NOT NULL, PRIMARY KEY (model, key))")
_CHUNK = 500  # keys per SQL statement (SQLite allows 999 parameters in old builds)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingStore:
    """Vectors by (model name, text key) in a SQLite file; `path=None` keeps them in memory.

    A store that cannot be read or written logs a warning and behaves as an empty one.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[tuple[str, str], bytes] = {}

    @classmethod
    def default(cls) -> EmbeddingStore:
        """$BENCHAGENT_CACHE/index/embeddings.sqlite (default ~/.cache/benchagent)."""
        return cls(cache_dir() / "index" / "embeddings.sqlite")

    def get_many(self, model: str, keys: Iterable[str]) -> dict[str, Vectors]:
        keys = list(dict.fromkeys(keys))
        if self.path is None:
            found = {k: self._memory[(model, k)] for k in keys if (model, k) in self._memory}
            return {k: np.frombuffer(v, dtype=np.float32) for k, v in found.items()}
        out: dict[str, Vectors] = {}
        try:
            with closing(self._connect()) as db:
                for start in range(0, len(keys), _CHUNK):
                    chunk = keys[start:start + _CHUNK]
                    rows = db.execute(
                        f"SELECT key, vec FROM vectors WHERE model = ? AND key IN "
                        f"({','.join('?' * len(chunk))})", [model, *chunk])
                    out.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        except sqlite3.Error as exc:
            log.warning("embedding cache %s unreadable (%s); embedding without it", self.path, exc)
            return {}
        return out

    def put_many(self, model: str, vectors: dict[str, Vectors]) -> None:
        blobs = {k: np.asarray(v, dtype=np.float32).tobytes() for k, v in vectors.items()}
        if self.path is None:
            self._memory.update(((model, k), b) for k, b in blobs.items())
            return
        try:
            with closing(self._connect()) as db, db:
                db.executemany("INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)",
                               [(model, k, b) for k, b in blobs.items()])
        except sqlite3.Error as exc:
            log.warning("embedding cache %s not written (%s)", self.path, exc)

    def _connect(self) -> sqlite3.Connection:
        """A connection with the table in place; OSErrors come out as sqlite3 errors."""
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30)
            try:
                db.execute(_SCHEMA)
            except sqlite3.OperationalError:  # locked, read-only, ...: the caller warns
                db.close()
                raise
            except sqlite3.DatabaseError as exc:  # not a database: it is a cache, start anew
                db.close()
                log.warning("embedding cache %s is corrupt (%s); starting a new one",
                            self.path, exc)
                self.path.unlink()
                db = sqlite3.connect(self.path, timeout=30)
                db.execute(_SCHEMA)
        except OSError as exc:
            raise sqlite3.OperationalError(str(exc)) from exc
        return db


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
        query_vector = self.embedder.embed_query(text)
        cosine = np.einsum("ij,j->i", self._vectors, query_vector).astype(np.float64)
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

    def _fuse(self, lexical: Floats, cosine: Floats) -> Floats:
        top = lexical.max(initial=0.0)
        lex = lexical / top if top > 0 else lexical
        low, high = cosine.min(), cosine.max()
        dense = (cosine - low) / (high - low) if high > low else np.zeros_like(cosine)
        return self.bm25_weight * lex + (1 - self.bm25_weight) * dense
