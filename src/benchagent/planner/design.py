"""Design agent: the query becomes atomic subtasks through propose / revise / discard steps,
a coverage-and-consistency check, and revisions when grounding or allocation push back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, create_model

from benchagent.errors import BenchagentError
from benchagent.models import ModelClient
from benchagent.operators import REGISTRY
from benchagent.planner.demands import languages_the_pool_lacks
from benchagent.planner.relevance import (
    RELEVANT,
    Relevance,
    RequestPart,
    clauses,
    modal_parts,
    relevance,
    request_relevance,
)
from benchagent.planner.request import (
    content_text,
    names_content,
    produced_modalities,
    query_modalities,
    without_form_lead,
)
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import (
    AnswerType,
    DatasetCard,
    DesignStep,
    FieldRole,
    Modality,
    Query,
    Subtask,
)

DESIGN_ROUNDS = 2  # coverage-check rounds after the first proposal
_ROLE_OF = {Modality.image: FieldRole.image, Modality.audio: FieldRole.audio}


class PlanningError(BenchagentError):
    """The planner cannot produce a feasible plan; the message is the diagnosis."""


class DesignOutput(BaseModel):
    subtasks: list[Subtask] = Field(min_length=1, max_length=12)


class DesignAction(BaseModel):
    op: Literal["keep", "revise", "discard", "add"]
    name: str = Field(max_length=80)  # the subtask acted on (for add: the new one's name)
    reason: str = Field(default="", max_length=300)
    subtask: Subtask | None = None  # the revised or added subtask


class DesignReview(BaseModel):
    covered: bool  # the subtasks together cover the goal
    missing: list[str] = Field(default_factory=list, max_length=4)
    actions: list[DesignAction] = Field(default_factory=list, max_length=8)


@dataclass
class DesignLog:
    """Every step of the design loop, in order, for plan/design_log.json and plan.md."""

    steps: list[DesignStep] = field(default_factory=list)

    def add(self, op: str, name: str, reason: str, by: str, round_: int = 0) -> None:
        self.steps.append(DesignStep(round=str(round_), op=op, subtask=name, reason=reason,
                                     by=by))


def design_schema(max_subtasks: int) -> type[DesignOutput]:
    """DesignOutput whose list length is bounded in the schema, so decoding stops in time."""
    return create_model("DesignOutput", __base__=DesignOutput,
                        subtasks=(list[Subtask], Field(min_length=1, max_length=max_subtasks)))


def target_answer_type(card: DatasetCard) -> AnswerType:
    """What a benchmark item drawn from this dataset asks for."""
    if card.answer_type in (AnswerType.multiple_choice, AnswerType.yes_no):
        return card.answer_type
    if card.answer_type in (AnswerType.number, AnswerType.short_text):
        return AnswerType.multiple_choice  # distractors come from the answer space
    return AnswerType.free_form


def servable(modality: Modality, pool: Pool) -> bool:
    """Some dataset has this input, or some registered operator can produce it."""
    if modality == Modality.text:
        return True
    role = _ROLE_OF.get(modality)
    return (any(modality in c.modalities_in for c in pool.cards)
            or any(role in op.produces for op in REGISTRY.values() if role is not None))


def check_servable(query: Query, pool: Pool) -> None:
    """A request for an input modality that nothing can provide ends here, with the reason."""
    missing = [m.value for m in query_modalities(query) if not servable(m, pool)]
    if missing:
        raise PlanningError(f"the request needs {' and '.join(missing)} input, which no dataset "
                            f"in the pool has and no operator produces: add a pool with such "
                            f"data (--pool)")


def _nearest_clause(parts: list[RequestPart], served: list[str], pool: Pool) -> dict[str, int]:
    """Per served card id, the index of the request part it is most relevant to (of the
    parts whose inputs it has)."""
    scores = [relevance(p.text, pool, p.wanted, p.produced) for p in parts]
    return {cid: max((i for i in range(len(parts)) if cid in scores[i]), default=0,
                     key=lambda i: scores[i][cid].score) for cid in served}


def _clause_title(clause: str, content: bool = True) -> str:
    text = (without_form_lead(clause) if content else clause).strip()
    return (text[:1].upper() + text[1:])[:80]


def _nothing_serves(query: Query, pool: Pool, scored: dict[str, Relevance],
                    floor: float) -> PlanningError:
    if not scored:
        return PlanningError("no dataset in the pool has the inputs the request asks for "
                             f"({', '.join(m.value for m in query_modalities(query))}): add "
                             "a pool with such data (--pool)")
    best = max(scored, key=lambda cid: scored[cid].score)
    lacking = languages_the_pool_lacks(query, pool)
    also = (f"; it also asks for items in {', '.join(lacking)}, which no dataset of the pool "
            "is in (translate makes them with an executor model)") if lacking else ""
    if not pool.card(best).description.strip():
        also += (f"; {pool.card(best).name} has no description to match the request with: "
                 "give it one in a mapping file ([dataset] description = \"...\")")
    return PlanningError(
        f"no dataset in the pool serves the request: the closest, {pool.card(best).name}, has "
        f"{scored[best].describe()}, below {floor}{also}; add datasets that test it (--pool), "
        "rephrase the request, or let related datasets in (--include-related)")


def design_rules(query: Query, pool: Pool, max_subtasks: int,
                 floor: float = RELEVANT) -> list[Subtask]:
    """One subtask per clause of the request that some dataset serves (relevance to the
    request at `floor` or above), named after the clause; its modalities are the request's (or
    the clause's own, for a request of parts with different inputs)."""
    scored = request_relevance(query, pool)
    served = sorted((cid for cid, r in scored.items() if r.score >= floor),
                    key=lambda cid: (-scored[cid].score, pool.card(cid).name))
    if not served:
        raise _nothing_serves(query, pool, scored, floor)
    content = names_content(query)
    parts = _design_parts(query, content)
    nearest = _nearest_clause(parts, served, pool)
    groups: dict[int, list[DatasetCard]] = {}
    for cid in served:
        groups.setdefault(nearest[cid], []).append(pool.card(cid))
    subtasks = []
    for index, cards in list(groups.items())[:max_subtasks]:
        part, types = parts[index], Counter(target_answer_type(c) for c in cards)
        subtasks.append(Subtask(
            name=_clause_title(part.text, content),
            description=f"{_clause_title(part.text, content)}, as the request puts it: "
                        f"{query.description[:300]}",
            capability=part.text[:200],
            modalities=sorted(set(part.wanted), key=list(Modality).index),
            answer_type=types.most_common(1)[0][0]))
    return subtasks


def _design_parts(query: Query, content: bool) -> list[RequestPart]:
    """The parts subtasks come from: the request's clauses, each with the request's inputs
    (or with its own, for a request of parts with different inputs)."""
    if content and (own := modal_parts(query)):
        return own
    wanted, produced = query_modalities(query), produced_modalities(query)
    texts = clauses(content_text(query)) or [content_text(query)]
    if not content:  # one subtask: the request's own first clause
        texts = (clauses(query.description) or [query.description])[:1]
    return [RequestPart(t, wanted, produced) for t in texts]


def design_ablated(query: Query) -> list[Subtask]:
    """The paper's "w/o Design Agent": the request itself is the one subtask."""
    return [Subtask(name=query.id[:80] or "request", description=query.description,
                    capability=query.description[:200], modalities=query_modalities(query),
                    answer_type=AnswerType.multiple_choice)]


def check_design(output: DesignOutput, max_subtasks: int) -> None:
    names = [s.name.strip().lower() for s in output.subtasks]
    if len(set(names)) != len(names):
        raise ValueError("subtask names must be unique")
    if len(names) > max_subtasks:
        raise ValueError(f"at most {max_subtasks} subtasks")


def _capabilities(pool: Pool) -> list[str]:
    return sorted({f"{c.name} ({', '.join(c.tasks[:3])}; {c.answer_type.value}; "
                   f"{'+'.join(m.value for m in c.modalities_in)})" for c in pool.cards})[:40]


def design_llm(client: ModelClient, query: Query, pool: Pool, max_subtasks: int,
               seed: int) -> list[Subtask]:
    messages = [
        {"role": "system", "content": render("design_system.j2")},
        {"role": "user", "content": render("design_user.j2", query=query,
                                           max_subtasks=max_subtasks,
                                           capabilities=_capabilities(pool))},
    ]
    out = client.generate(messages, design_schema(max_subtasks), role="design", seed=seed,
                          check=lambda o: check_design(o, max_subtasks),
                          max_tokens=300 * max_subtasks)
    return out.subtasks
