"""Lexical search over dataset cards: BM25 on `DatasetCard.search_text()`, with filters.

A later hybrid search adds an embedding score next to `BM25Index.scores`; the filters and
`ScoredCard` stay as they are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
class ScoredCard:
    card: DatasetCard
    score: float
    reason: str


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


class BM25Index:
    """Okapi BM25 over card texts."""

    def __init__(self, cards: Sequence[DatasetCard], k1: float = 1.2, b: float = 0.75) -> None:
        self.cards = list(cards)
        self.k1, self.b = k1, b
        self._tf = [Counter(tokenize(c.search_text())) for c in self.cards]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = (sum(self._len) / len(self._len)) if self._len else 1.0
        df = Counter(term for tf in self._tf for term in tf)
        n = len(self.cards)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def scores(self, terms: Sequence[str]) -> list[tuple[float, list[str]]]:
        """Per card: its BM25 score for the query terms and the terms that matched."""
        out = []
        for tf, length in zip(self._tf, self._len, strict=True):
            score, matched = 0.0, []
            norm = self.k1 * (1 - self.b + self.b * length / (self._avg or 1.0))
            for term in terms:
                f = tf.get(term, 0)
                if f:
                    score += self._idf[term] * f * (self.k1 + 1) / (f + norm)
                    matched.append(term)
            out.append((score, matched))
        return out

    def search(self, text: str, k: int = 10, modalities: Iterable[Modality] | None = None,
               answer_types: Iterable[AnswerType] | None = None) -> list[ScoredCard]:
        """Best first; cards matching no query term are left out (all cards if no terms)."""
        pairs = list(dict.fromkeys(tokenize_words(text)))
        terms = list(dict.fromkeys(term for _, term in pairs))
        words = {term: word for word, term in reversed(pairs)}
        hits: list[ScoredCard] = []
        for card, (score, matched) in zip(self.cards, self.scores(terms), strict=True):
            if not passes(card, modalities, answer_types) or (terms and not matched):
                continue
            reason = ("matched " + ", ".join(repr(words[t]) for t in matched)) if terms \
                else "no query terms; filters only"
            hits.append(ScoredCard(card=card, score=round(score, 6), reason=reason))
        hits.sort(key=lambda h: (-h.score, h.card.name, h.card.id))
        return hits[: max(k, 0)]
