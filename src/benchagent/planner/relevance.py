"""Absolute relevance: the probability that a dataset's items test what a text (a request or a
subtask) asks for, on one scale for every request and pool.

It is a logistic model over three measures of the text against each card: the cosine of their
embeddings, the IDF-weighted share of the text's terms (of its best clause) the card holds,
and how far the card's cosine is below the best eligible card's. The weights were fitted on
the labelled requests in ../shared/labels/relevance.json (`python benchmarks/relevance.py
--fit` refits them and prints leave-one-request-out precision and recall); a dataset at
RELEVANT or above serves the text. Without embeddings (BM25-only search) a second model over
the lexical measures alone applies.

Only eligible cards are scored: a dataset whose inputs include a modality the request did
not ask for (images, for a text request) never serves it, nor does a text dataset when the
request wants media that no operator is asked to make from text.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np

from benchagent.planner.demands import off_form
from benchagent.planner.request import (
    content_text,
    names_content,
    produced_modalities,
    query_modalities,
)
from benchagent.pool import Pool
from benchagent.records import DatasetCard, Modality, Query

RELEVANT = 0.5  # a dataset at or above this serves the text
RELATED = 0.25  # below RELEVANT: related; counted in only when the user asks for it
# (cosine, coverage, cosine gap to the best eligible card, bias), fitted by benchmarks/relevance.py
DENSE_WEIGHTS = (17.74, 3.74, 24.17, -16.2)
# (coverage, coverage gap to the best eligible card, bias): the BM25-only model
LEXICAL_WEIGHTS = (4.19, 1.46, -2.03)

_LEAD_IN = re.compile(
    r"^\s*(i want to |we want to |please |build a benchmark (that|which|to) )?"
    r"(evaluate|test|tests|assess|measure|check|benchmark)\s+(whether|if|how well)?\s*"
    r"((a|the) (multimodal )?models?( can| must| is able to)?)?", re.IGNORECASE)
_CLAUSE = re.compile(r"([:;,.()]|\s(?:and|or|with|while)\s)", re.IGNORECASE)
_COORDINATION = re.compile(r"\s(and|or)\s", re.IGNORECASE)
_MIN_CLAUSE_WORDS = 2
_MIN_CLAUSE_TERMS = 2  # a clause counts alone when it has this many informative terms


@dataclass(frozen=True)
class Relevance:
    """One card's relevance to one text, with the measures it came from."""

    score: float
    cosine: float | None
    coverage: float
    form_only: bool = False  # the request names no content; the dataset has its inputs
    unmet: str = ""  # why it cannot serve whatever its content (its score is then 0)

    def describe(self) -> str:
        if self.unmet:
            return f"relevance 0.00 ({self.unmet})"
        if self.form_only:
            return "relevance 1.00 (the request names no content: its inputs are what counts)"
        dense = f", cosine {self.cosine:.2f}" if self.cosine is not None else ""
        return f"relevance {self.score:.2f} (term coverage {self.coverage:.2f}{dense})"


@dataclass(frozen=True)
class RequestPart:
    """A part of a request with its own inputs ("... and read clock images, and answer
    questions spoken aloud"): its words about content and the media it asks for."""

    text: str
    wanted: list[Modality]
    produced: set[Modality]


# Words saying that one item holds the request's media together (an omni-modal request).
_TOGETHER = re.compile(r"\b(combin\w*|both|together|each item|each question|at once|"
                       r"along with|paired|alongside|omni\w*|with (an?|its|their|the))\b",
                       re.IGNORECASE)


def modal_parts(query: Query) -> list[RequestPart] | None:
    """The request's clauses as parts with their own inputs, when its clauses ask for
    different media and it does not say they go together; None otherwise (the request's
    media then hold for every part)."""
    subs = [Query(id=query.id, description=c) for c in clauses(query.description)]
    cued = {tuple(query_modalities(s)) for s in subs if len(query_modalities(s)) > 1}
    if len(cued) < 2 or _TOGETHER.search(query.description):
        return None
    return [RequestPart(content_text(s), query_modalities(s), produced_modalities(s))
            for s in subs if names_content(s)]


def request_relevance(query: Query, pool: Pool) -> dict[str, Relevance]:
    """Card id -> its relevance to the request, for the cards with the request's inputs (for
    a request of parts with their own inputs, its best relevance to any part); 0 for a card
    whose form the request rules out (no conversations, for a request about them)."""
    scored = _content_relevance(query, pool)
    ruled_out = off_form(query, [pool.card(cid) for cid in scored])
    return {cid: dataclasses.replace(r, score=0.0, unmet=ruled_out[cid]) if cid in ruled_out
            else r for cid, r in scored.items()}


def _content_relevance(query: Query, pool: Pool) -> dict[str, Relevance]:
    parts = modal_parts(query)
    if parts:
        best: dict[str, Relevance] = {}
        for part in parts:
            for cid, r in relevance(part.text, pool, part.wanted, part.produced).items():
                if cid not in best or r.score > best[cid].score:
                    best[cid] = r
        return best
    wanted, made = query_modalities(query), produced_modalities(query)
    if names_content(query):
        return relevance(content_text(query), pool, wanted, made)
    return {c.id: Relevance(1.0, None, 1.0, form_only=True) for c in pool.cards
            if eligible(c, wanted, made, strict=True)}


def clauses(text: str) -> list[str]:
    """The text's parts that name something to test: its clauses, lead-in words dropped, and
    a word joined by "and" / "or" to a clause given the clause's other words ("social and
    ethical reasoning" holds "social reasoning"; "feel or do next", "would do next")."""
    body = _LEAD_IN.sub("", text.strip(), count=1)
    pieces = _CLAUSE.split(body)
    parts = [p.strip(" -") for p in pieces[::2]]
    joins = [bool(_COORDINATION.fullmatch(sep)) for sep in pieces[1::2]]
    for i, joined in enumerate(joins):
        left, right = parts[i].split(), parts[i + 1].split()
        if not joined or not left or not right:
            continue
        if len(left) == 1 and len(right) > 1 and not _is_clause(parts[i]):
            parts[i] = " ".join([left[0], *right[1:]])
        elif len(left) > 1 and not _is_clause(parts[i + 1]) and _is_clause(parts[i]):
            parts[i + 1] = " ".join([*left[:-1], *right])
    return [p for p in parts if _is_clause(p)]


def _is_clause(text: str) -> bool:
    return len(re.findall(r"[^\W\d_]{3,}", text)) >= _MIN_CLAUSE_WORDS


def eligible(card: DatasetCard, wanted: list[Modality], produced: set[Modality],
             strict: bool = False) -> bool:
    """The card natively has every medium the request needs that is not to be made from text,
    and no medium it did not ask for; it may already have the media to be made (spoken
    questions for a "read aloud" request) unless `strict` (a request about the form alone:
    a question rendered as an image comes from a text dataset, not a photo)."""
    inputs = set(card.modalities_in) - {Modality.text}
    native = set(wanted) - {Modality.text} - produced
    return inputs == native or (not strict and inputs == native | produced)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def _coverage(pool: Pool, text: str) -> np.ndarray:
    """Per card: the best term coverage of the whole text or of any one of its clauses."""
    best = pool.similarity(text).coverage
    for clause in clauses(text):
        best = np.maximum(best, pool.similarity(clause, _MIN_CLAUSE_TERMS).coverage)
    return best


def relevance(text: str, pool: Pool, wanted: list[Modality],
              produced: set[Modality]) -> dict[str, Relevance]:
    """Card id -> its relevance to `text`, for the eligible cards of the pool."""
    measured = features(text, pool, wanted, produced)
    out = {}
    for card_id, values in measured.items():
        dense = len(values) == len(DENSE_WEIGHTS) - 1
        *weights, bias = DENSE_WEIGHTS if dense else LEXICAL_WEIGHTS
        score = _sigmoid(sum(w * x for w, x in zip(weights, values, strict=True)) + bias)
        out[card_id] = Relevance(round(score, 4), round(values[0], 4) if dense else None,
                                 round(values[1] if dense else values[0], 4))
    return out


def features(text: str, pool: Pool, wanted: list[Modality],
             produced: set[Modality]) -> dict[str, tuple[float, ...]]:
    """Card id -> the measures the models weigh, for the eligible cards: (cosine, coverage,
    cosine gap) with embeddings, (coverage, coverage gap) without."""
    keep = np.array([eligible(c, wanted, produced) for c in pool.cards], dtype=bool)
    if not keep.any():
        return {}
    cosine = pool.similarity(text).cosine
    coverage = _coverage(pool, text)
    ids = [pool.cards[i].id for i in np.flatnonzero(keep)]
    if cosine is None:
        top_cov = float(coverage[keep].max())
        return {cid: (float(c), float(c) - top_cov) for cid, c in zip(ids, coverage[keep],
                                                                       strict=True)}
    top = float(cosine[keep].max())
    return {cid: (float(c), float(v), float(c) - top)
            for cid, c, v in zip(ids, cosine[keep], coverage[keep], strict=True)}
