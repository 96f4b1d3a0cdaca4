"""Lexical search over dataset cards: BM25 on `DatasetCard.search_text()`, with filters.

`BM25Index` keeps an inverted index (term -> cards and term frequencies) so a query costs
time in the number of cards that hold its terms, not in the pool's size; `FilterMasks` turns
the modality and answer-type filters into boolean masks. `benchagent.pool.search.hybrid.HybridIndex`
adds a dense score on top of both.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benchagent.records import AnswerType, DatasetCard, Modality

_STOPWORD_TEXT = """
a about an and any are as at be been but by can do does each for from has have how i if in
into is it its me my of on or our should so some such than that the their them then there
these they this those to was we were what when where which who will with would you your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Longest first; one rule per word. "astic" -> "asm" makes sarcastic/sarcasm meet.
_SUFFIXES = (
    ("ational", "ate"), ("ization", "ize"), ("ations", "ate"), ("astic", "asm"),
    ("ation", "ate"), ("iness", "y"), ("ments", ""), ("ness", ""), ("ment", ""), ("sses", "ss"),
    ("ches", "ch"), ("shes", "sh"), ("ous", ""), ("ies", "y"), ("ied", "y"), ("xes", "x"),
    ("ing", ""), ("ed", ""), ("ly", ""), ("s", ""),
)
_WORD = re.compile(r"[^\W_]+")

Floats = NDArray[np.float64]
_MIN_CARDS_FOR_COMMON = 8  # pools with fewer cards cannot say which terms most cards hold
Mask = NDArray[np.bool_]


def stem(word: str) -> str:
    """Light suffix stripping: plurals, -ing/-ed/-ly, a few derivations, then a final -e."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(repl) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: -len(suffix)] + repl
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] \
                    and word[-1] not in "aeiouslz":
                word = word[:-1]
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def tokenize_words(text: str) -> list[tuple[str, str]]:
    """(word, term) pairs: lowercased words split on non-alphanumerics, stopwords dropped."""
    return [(w, stem(w)) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def tokenize(text: str) -> list[str]:
    return [term for _, term in tokenize_words(text)]


@dataclass(frozen=True)
class QueryTerms:
    """A query's distinct terms in order, and for each term the first word that made it."""

    terms: list[str]
    words: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> QueryTerms:
        pairs = list(dict.fromkeys(tokenize_words(text)))
        terms = list(dict.fromkeys(term for _, term in pairs))
        return cls(terms, {term: word for word, term in reversed(pairs)})

    def quoted(self, matched: Iterable[str]) -> str:
        return ", ".join(repr(self.words[t]) for t in matched)


@dataclass(frozen=True)
class ScoredCard:
    """A search hit. `bm25` is the raw BM25 score; `dense` the cosine similarity, if computed."""

    card: DatasetCard
    score: float
    reason: str
    bm25: float = 0.0
    dense: float | None = None


def serves(card: DatasetCard, wanted: AnswerType) -> bool:
    """A card serves its own answer type; class labels (answer_vocab) also serve multiple choice."""
    if card.answer_type is wanted:
        return True
    return wanted is AnswerType.multiple_choice and bool(card.answer_vocab)


def passes(card: DatasetCard, modalities: Iterable[Modality] | None,
           answer_types: Iterable[AnswerType] | None) -> bool:
    """The filters: required input modalities are a subset of the card's; an answer type fits."""
    if modalities and not set(modalities) <= set(card.modalities_in):
        return False
    types = list(answer_types or [])
    return not types or any(serves(card, t) for t in types)


class FilterMasks:
    """`passes` for every card at once, as a boolean mask."""

    def __init__(self, cards: Sequence[DatasetCard]) -> None:
        self._n = len(cards)
        self._modality = {m: np.array([m in c.modalities_in for c in cards], dtype=bool)
                          for m in Modality}
        self._serves = {t: np.array([serves(c, t) for c in cards], dtype=bool)
                        for t in AnswerType}

    def mask(self, modalities: Iterable[Modality] | None,
             answer_types: Iterable[AnswerType] | None) -> Mask:
        keep = np.ones(self._n, dtype=bool)
        for m in set(modalities or ()):
            keep &= self._modality[m]
        types = set(answer_types or ())
        if types:
            keep &= np.logical_or.reduce([self._serves[t] for t in types])
        return keep


def top_indices(scores: Floats, keep: Mask, k: int, cards: Sequence[DatasetCard]) -> list[int]:
    """Indices of the k best kept cards: score descending, then name and id (stable output)."""
    idx = np.flatnonzero(keep)
    if k <= 0 or idx.size == 0:
        return []
    if idx.size > k:
        kth = np.partition(scores[idx], idx.size - k)[idx.size - k]
        idx = idx[scores[idx] >= kth]  # ties at the k-th score stay in for the name order
    order = sorted(idx.tolist(), key=lambda i: (-scores[i], cards[i].name, cards[i].id))
    return order[:k]


class BM25Index:
    """Okapi BM25 over card texts, with an inverted index."""

    def __init__(self, cards: Sequence[DatasetCard], k1: float = 1.2, b: float = 0.75) -> None:
        self.cards = list(cards)
        self.k1, self.b = k1, b
        self._tf = [Counter(tokenize(c.search_text())) for c in self.cards]
        lengths = np.array([sum(tf.values()) for tf in self._tf], dtype=np.float64)
        avg = float(lengths.mean()) if lengths.size else 1.0
        self._norm: Floats = k1 * (1 - b + b * lengths / (avg or 1.0))
        docs: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        for i, tf in enumerate(self._tf):
            for term, f in tf.items():
                docs.setdefault(term, []).append(i)
                freqs.setdefault(term, []).append(f)
        n = len(self.cards)
        self._postings = {t: (np.array(d, dtype=np.int64), np.array(freqs[t], dtype=np.float64))
                          for t, d in docs.items()}
        self._idf = {t: math.log(1 + (n - len(d) + 0.5) / (len(d) + 0.5)) for t, d in docs.items()}
        self.masks = FilterMasks(self.cards)

    def term_scores(self, terms: Sequence[str]) -> Floats:
        """Every card's BM25 score for the query terms (0 for a card with none of them)."""
        out = np.zeros(len(self.cards), dtype=np.float64)
        for term in dict.fromkeys(terms):
            posting = self._postings.get(term)
            if posting is None:
                continue
            docs, f = posting
            out[docs] += self._idf[term] * f * (self.k1 + 1) / (f + self._norm[docs])
        return out

    def coverage(self, text: str, min_terms: int = 1) -> Floats:
        """Per card, the IDF-weighted share of the text's informative terms it holds (0..1).
        A term no card holds weighs as much as the rarest term, so asking for what the pool
        lacks lowers it; a term most cards hold ("question", "model") informs of nothing."""
        # in a pool too small to tell, every term informs
        common = len(self.cards) / 2 if len(self.cards) >= _MIN_CARDS_FOR_COMMON else math.inf
        terms = [t for t in dict.fromkeys(tokenize(text))
                 if len(self._postings.get(t, ((),))[0]) <= common]
        out = np.zeros(len(self.cards), dtype=np.float64)
        unseen = math.log(1 + (len(self.cards) + 0.5) / 0.5)
        total = sum(self._idf.get(t, unseen) for t in terms)
        if total <= 0 or len(terms) < min_terms:
            return out
        for term in terms:
            posting = self._postings.get(term)
            if posting is not None:
                out[posting[0]] += self._idf[term]
        return out / total

    def matched(self, i: int, terms: Sequence[str]) -> list[str]:
        """The query terms that card `i` holds, in query order."""
        return [t for t in terms if t in self._tf[i]]

    def scores(self, terms: Sequence[str]) -> list[tuple[float, list[str]]]:
        """Per card: its BM25 score for the query terms and the terms that matched."""
        values = self.term_scores(terms)
        return [(float(values[i]), self.matched(i, terms)) for i in range(len(self.cards))]

    def search(self, text: str, k: int = 10, modalities: Iterable[Modality] | None = None,
               answer_types: Iterable[AnswerType] | None = None) -> list[ScoredCard]:
        """Best first; cards matching no query term are left out (all cards if no terms)."""
        query = QueryTerms.parse(text)
        raw = self.term_scores(query.terms)
        keep = self.masks.mask(modalities, answer_types)
        if query.terms:
            keep &= raw > 0
        scores = np.round(raw, 6)
        hits = []
        for i in top_indices(scores, keep, k, self.cards):
            matched = self.matched(i, query.terms)
            reason = ("matched " + query.quoted(matched)) if query.terms \
                else "no query terms; filters only"
            hits.append(ScoredCard(card=self.cards[i], score=float(scores[i]), reason=reason,
                                   bm25=float(scores[i])))
        return hits
