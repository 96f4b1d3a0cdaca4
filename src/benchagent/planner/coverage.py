"""Which parts of the request a plan serves: each clause of the request against the datasets
the plan draws items from, on the absolute relevance scale."""

from __future__ import annotations

from dataclasses import dataclass

from benchagent.planner.relevance import RELATED, Relevance, clauses, modal_parts, relevance
from benchagent.planner.request import (
    content_text,
    names_content,
    names_content_text,
    produced_modalities,
    query_modalities,
)
from benchagent.pool import Pool
from benchagent.records import Allocation, Query

SMALLER_THAN_ASKED = "smaller than asked: "
NOT_SERVED = "not clearly served: "


@dataclass(frozen=True)
class RequestPart:
    clause: str
    dataset: str | None  # the planned dataset most relevant to it
    relevance: Relevance | None

    @property
    def served(self) -> bool:
        return self.relevance is not None and self.relevance.score >= RELATED

    def line(self) -> str:
        if self.relevance is None:
            return f"\u201c{self.clause}\u201d: not clearly served; no planned dataset"
        verdict = "served" if self.served else "not clearly served"
        return (f"\u201c{self.clause}\u201d: {verdict}; best planned dataset {self.dataset}, "
                f"{self.relevance.describe()}")


def request_parts(query: Query, allocation: Allocation, pool: Pool) -> list[RequestPart]:
    """Each clause of a request that names content, with its best planned dataset."""
    if not names_content(query):
        return []
    used = {q.dataset_id for q in allocation.quotas if q.quota > 0}
    wanted, produced = query_modalities(query), produced_modalities(query)
    own = modal_parts(query)
    measured = [(p.text, p.wanted, p.produced) for p in own] if own else \
        [(clause, wanted, produced) for clause in clauses(content_text(query))
         if names_content_text(clause)]
    parts = []
    for clause, inputs, made in measured:
        scored = {cid: r for cid, r in relevance(clause, pool, inputs, made).items()
                  if cid in used}
        best = max(scored, key=lambda cid: scored[cid].score, default=None)
        parts.append(RequestPart(clause, pool.card(best).name if best else None,
                                 scored[best] if best else None))
    return parts


def unserved_notes(query: Query, allocation: Allocation, pool: Pool) -> list[str]:
    """Allocation notes naming the parts of the request no planned dataset serves."""
    return [f"{NOT_SERVED}\u201c{part.clause}\u201d: " + (
        f"the closest planned dataset, {part.dataset}, has {part.relevance.describe()}"
        if part.relevance else "no planned dataset")
        for part in request_parts(query, allocation, pool) if not part.served]
